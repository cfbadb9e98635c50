from typing import Any

import httpx
import pytest

from tests.factories import add_event, create_postmortem
from tests.problems import UNKNOWN_ID, assert_problem


def timeline_url(postmortem_id: str, event_id: str | None = None) -> str:
    url = f"/v1/postmortems/{postmortem_id}/timeline"
    return f"{url}/{event_id}" if event_id else url


async def list_timeline(client: httpx.AsyncClient, postmortem_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(timeline_url(postmortem_id), params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def descriptions(client: httpx.AsyncClient, postmortem_id: str) -> list[str]:
    return [event["description"] for event in (await list_timeline(client, postmortem_id))["items"]]


async def test_create_then_get(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    body = {
        "occurred_at": "2025-01-15T09:00:00Z",
        "kind": "detection",
        "description": "On-call noticed checkout errors",
        "source": "Slack #incidents",
    }

    created = await client.post(timeline_url(postmortem["id"]), json=body)

    assert created.status_code == 201, created.text
    event = created.json()
    assert created.headers["location"] == timeline_url(postmortem["id"], event["id"])
    assert {key: event[key] for key in body} == body
    assert event["postmortem_id"] == postmortem["id"]
    assert event["version"] == 1
    fetched = await reader_client.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == event
    assert fetched.headers["etag"] == created.headers["etag"]


async def test_defaults_and_utc_normalisation(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await client.post(
        timeline_url(postmortem["id"]),
        json={"occurred_at": "2025-01-15T11:30:00+02:00", "description": "Deploy rolled back"},
    )

    assert response.status_code == 201, response.text
    event = response.json()
    assert event["occurred_at"] == "2025-01-15T09:30:00Z"
    assert event["kind"] == "other"
    assert event["source"] is None


async def test_list_is_sorted_by_occurred_at_with_ties_in_creation_order(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    for description, occurred_at in [
        ("resolved", "2025-01-15T09:45:00Z"),
        ("alert", "2025-01-15T09:05:00Z"),
        ("first at 9:20", "2025-01-15T09:20:00Z"),
        ("signal", "2025-01-15T10:00:00+02:00"),
        ("second at 9:20", "2025-01-15T11:20:00+02:00"),
        ("third at 9:20", "2025-01-15T09:20:00Z"),
    ]:
        await add_event(client, postmortem["id"], description=description, occurred_at=occurred_at)

    page = await list_timeline(client, postmortem["id"])

    assert [event["description"] for event in page["items"]] == [
        "signal",
        "alert",
        "first at 9:20",
        "second at 9:20",
        "third at 9:20",
        "resolved",
    ]
    assert page["next_cursor"] is None


async def test_cursor_pagination_walks_the_whole_timeline_in_order(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    for minute in (30, 10, 20, 10, 40, 20, 10):
        await add_event(client, postmortem["id"], occurred_at=f"2025-01-15T09:{minute}:00Z", description=f"at {minute}")
    everything = (await list_timeline(client, postmortem["id"]))["items"]

    pages, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await list_timeline(client, postmortem["id"], **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [event for page in pages for event in page] == everything
    assert [event["occurred_at"][14:16] for event in everything] == ["10", "10", "10", "20", "20", "30", "40"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4Il0"},
        {"sort": "occurred_at"},
    ],
    ids=["limit-zero", "limit-too-big", "limit-not-a-number", "garbage-cursor", "wrong-shape-cursor", "unknown"],
)
async def test_bad_page_parameters_are_422(params: dict[str, Any], client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    await add_event(client, postmortem["id"])

    response = await client.get(timeline_url(postmortem["id"]), params=params)

    problem = assert_problem(response, 422)
    assert {error["field"] for error in problem["errors"]} == set(params)


async def test_patch_changes_only_the_fields_sent_and_resorts(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    early = await add_event(client, postmortem["id"], occurred_at="2025-01-15T09:00:00Z", description="early")
    await add_event(client, postmortem["id"], occurred_at="2025-01-15T09:30:00Z", description="late")

    response = await client.patch(
        timeline_url(postmortem["id"], early["id"]),
        json={"occurred_at": "2025-01-15T10:00:00+00:00", "kind": "mitigation", "source": None},
    )

    assert response.status_code == 200, response.text
    event = response.json()
    assert event["occurred_at"] == "2025-01-15T10:00:00Z"
    assert (event["kind"], event["source"], event["description"]) == ("mitigation", None, "early")
    assert event["version"] == 2
    assert event["created_at"] == early["created_at"]
    fetched = await client.get(timeline_url(postmortem["id"], early["id"]))
    assert (fetched.json(), fetched.headers["etag"]) == (event, response.headers["etag"])
    assert await descriptions(client, postmortem["id"]) == ["late", "early"]


async def test_delete_removes_the_event(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    kept = await add_event(client, postmortem["id"], description="kept")
    gone = await add_event(client, postmortem["id"], description="gone")

    response = await client.delete(timeline_url(postmortem["id"], gone["id"]))

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(timeline_url(postmortem["id"], gone["id"])), 404)
    assert_problem(await client.delete(timeline_url(postmortem["id"], gone["id"])), 404)
    assert [event["id"] for event in (await list_timeline(client, postmortem["id"]))["items"]] == [kept["id"]]


@pytest.mark.parametrize(
    "kind", ["signal", "alert", "detection", "action", "decision", "mitigation", "resolution", "communication", "other"]
)
async def test_every_kind_is_accepted(kind: str, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    assert (await add_event(client, postmortem["id"], kind=kind))["kind"] == kind


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "page"}, "kind"),
        ({"kind": "ALERT"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"kind": None}, "kind"),
        ({"occurred_at": "2025-01-15T09:00:00"}, "occurred_at"),
        ({"occurred_at": "2025-01-15 09:00:00"}, "occurred_at"),
        ({"occurred_at": "2025-01-15"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": 0}, "occurred_at"),
        ({"occurred_at": None}, "occurred_at"),
        ({"description": ""}, "description"),
        ({"description": None}, "description"),
        ({"source": "x" * 201}, "source"),
        ({"severity": "P1"}, "severity"),
    ],
)
async def test_invalid_events_are_422(body: dict[str, Any], field: str, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    valid = {"occurred_at": "2025-01-15T09:00:00Z", "kind": "alert", "description": "Alert fired"}

    response = await client.post(timeline_url(postmortem["id"]), json=valid | body)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert (await list_timeline(client, postmortem["id"]))["items"] == []


async def test_missing_required_fields_are_each_named(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await client.post(timeline_url(postmortem["id"]), json={"kind": "alert"})

    problem = assert_problem(response, 422)
    assert {error["field"] for error in problem["errors"]} == {"occurred_at", "description"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "page"}, "kind"),
        ({"kind": None}, "kind"),
        ({"occurred_at": "2025-01-15T09:00:00"}, "occurred_at"),
        ({"occurred_at": None}, "occurred_at"),
        ({"description": None}, "description"),
        ({"postmortem_id": UNKNOWN_ID}, "postmortem_id"),
    ],
)
async def test_invalid_patches_are_422(body: dict[str, Any], field: str, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    event = await add_event(client, postmortem["id"])

    response = await client.patch(timeline_url(postmortem["id"], event["id"]), json=body)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert (await client.get(timeline_url(postmortem["id"], event["id"]))).json() == event


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PATCH", {"description": "Hijacked"}), ("DELETE", None)],
)
async def test_events_of_another_postmortem_are_404(
    method: str, body: dict[str, Any] | None, client: httpx.AsyncClient
) -> None:
    owner = await create_postmortem(client)
    other = await create_postmortem(client)
    event = await add_event(client, owner["id"])

    response = await client.request(method, timeline_url(other["id"], event["id"]), json=body)

    assert_problem(response, 404)
    assert (await client.get(timeline_url(owner["id"], event["id"]))).json() == event


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", timeline_url(UNKNOWN_ID), None),
        ("POST", timeline_url(UNKNOWN_ID), {"occurred_at": "2025-01-15T09:00:00Z", "description": "Alert"}),
        ("GET", timeline_url(UNKNOWN_ID, UNKNOWN_ID), None),
        ("PATCH", timeline_url(UNKNOWN_ID, UNKNOWN_ID), {"description": "Edited"}),
        ("DELETE", timeline_url(UNKNOWN_ID, UNKNOWN_ID), None),
    ],
)
async def test_unknown_postmortem_is_404(
    method: str, path: str, body: dict[str, Any] | None, client: httpx.AsyncClient
) -> None:
    assert_problem(await client.request(method, path, json=body), 404)


async def test_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    assert_problem(await client.get(timeline_url(postmortem["id"], UNKNOWN_ID)), 404)
    assert_problem(await client.patch(timeline_url(postmortem["id"], UNKNOWN_ID), json={"description": "x"}), 404)


async def test_patch_honours_if_match(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    event = await add_event(client, postmortem["id"])
    url = timeline_url(postmortem["id"], event["id"])
    first = (await client.get(url)).headers["etag"]

    stale = await client.patch(url, json={"description": "Stale edit"}, headers={"If-Match": '"7"'})
    problem = assert_problem(stale, 412)
    assert [error["field"] for error in problem["errors"]] == ["If-Match"]
    assert (await client.get(url)).json() == event

    current = await client.patch(url, json={"description": "Current edit"}, headers={"If-Match": first})
    assert current.status_code == 200, current.text
    assert current.headers["etag"] != first

    replayed = await client.patch(url, json={"description": "Replayed edit"}, headers={"If-Match": first})
    assert_problem(replayed, 412)
    assert (await client.get(url)).json()["description"] == "Current edit"

    anything = await client.patch(url, json={"description": "Any version"}, headers={"If-Match": "*"})
    assert anything.status_code == 200, anything.text
    assert anything.json()["version"] == 3


async def test_delete_honours_if_match(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    event = await add_event(client, postmortem["id"])
    url = timeline_url(postmortem["id"], event["id"])
    first = (await client.get(url)).headers["etag"]
    edited = await client.patch(url, json={"description": "Edited"})
    assert edited.headers["etag"] != first

    assert_problem(await client.delete(url, headers={"If-Match": first}), 412)
    assert (await client.get(url)).status_code == 200

    deleted = await client.delete(url, headers={"If-Match": edited.headers["etag"]})
    assert deleted.status_code == 204
    assert_problem(await client.get(url), 404)


async def test_readers_cannot_change_the_timeline(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    event = await add_event(client, postmortem["id"])
    url = timeline_url(postmortem["id"], event["id"])

    new_event = {"occurred_at": "2025-01-15T09:10:00Z", "description": "Rollback started"}
    assert_problem(await reader_client.post(timeline_url(postmortem["id"]), json=new_event), 403)
    assert_problem(await reader_client.patch(url, json={"description": "x"}), 403)
    assert_problem(await reader_client.delete(url), 403)
    assert (await reader_client.get(url)).json() == event
