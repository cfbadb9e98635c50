from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.factories import add_action_item, create_postmortem
from tests.paging import every_page
from tests.problems import UNKNOWN_ID, assert_problem

PAST = "2000-01-31"
FUTURE = "2099-01-31"


def item_url(item_id: str) -> str:
    return f"/v1/action-items/{item_id}"


def items_url(postmortem_id: str) -> str:
    return f"/v1/postmortems/{postmortem_id}/action-items"


async def get_item(client: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    response = await client.get(item_url(item_id))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def patch_item(client: httpx.AsyncClient, item_id: str, **changes: Any) -> dict[str, Any]:
    response = await client.patch(item_url(item_id), json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def summary_of(client: httpx.AsyncClient, postmortem_id: str) -> dict[str, int]:
    response = await client.get(f"/v1/postmortems/{postmortem_id}")
    assert response.status_code == 200, response.text
    return dict(response.json()["action_items_summary"])


async def test_create_then_get(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    body = {
        "title": "Validate config pushes in CI",
        "description": "Reject a timeout of 0.",
        "owner": "@payments-oncall",
        "priority": "P0",
        "due_date": FUTURE,
        "status": "in_progress",
        "kind": "prevent",
    }

    created = await client.post(items_url(postmortem["id"]), json=body)

    assert created.status_code == 201, created.text
    item = created.json()
    assert created.headers["location"] == item_url(item["id"])
    assert {key: item[key] for key in body} == body
    assert item["postmortem_id"] == postmortem["id"]
    assert (item["version"], item["completed_at"], item["overdue"]) == (1, None, False)
    fetched = await reader_client.get(created.headers["location"])
    assert fetched.json() == item
    assert fetched.headers["etag"] == created.headers["etag"]


async def test_only_a_title_is_required(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await client.post(items_url(postmortem["id"]), json={"title": "Write a runbook"})

    assert response.status_code == 201, response.text
    item = response.json()
    assert {key: item[key] for key in ("description", "owner", "priority", "due_date", "status", "kind")} == {
        "description": None,
        "owner": None,
        "priority": None,
        "due_date": None,
        "status": "open",
        "kind": "other",
    }


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"], description="Draft")

    response = await client.patch(item_url(item["id"]), json={"priority": "P0", "owner": None, "description": None})

    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["priority"], patched["owner"], patched["description"]) == ("P0", None, None)
    assert (patched["title"], patched["due_date"], patched["kind"]) == (item["title"], item["due_date"], item["kind"])
    assert patched["version"] == 2
    assert response.headers["etag"] == (await client.get(item_url(item["id"]))).headers["etag"]
    assert await get_item(client, item["id"]) == patched


async def test_delete_removes_the_item(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    kept = await add_action_item(client, postmortem["id"], title="kept")
    gone = await add_action_item(client, postmortem["id"], title="gone")

    response = await client.delete(item_url(gone["id"]))

    assert response.status_code == 204
    assert response.content == b""
    for method in ("GET", "PATCH", "DELETE"):
        body = {"title": "x"} if method == "PATCH" else None
        assert_problem(await client.request(method, item_url(gone["id"]), json=body), 404)
    assert [item["id"] for item in (await client.get(items_url(postmortem["id"]))).json()["items"]] == [kept["id"]]
    assert (await summary_of(client, postmortem["id"]))["total"] == 1


async def test_completed_at_follows_the_done_status(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])
    assert item["completed_at"] is None

    done = await patch_item(client, item["id"], status="done")
    assert done["completed_at"] is not None

    retitled = await patch_item(client, item["id"], title="Validate every config push in CI")
    assert retitled["completed_at"] == done["completed_at"]

    reopened = await patch_item(client, item["id"], status="in_progress")
    assert reopened["completed_at"] is None

    dropped = await patch_item(client, item["id"], status="wont_do")
    assert dropped["completed_at"] is None


async def test_an_item_created_done_is_stamped(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    item = await add_action_item(client, postmortem["id"], status="done")

    assert item["completed_at"] is not None
    assert datetime.fromisoformat(item["completed_at"]) >= datetime.fromisoformat(item["created_at"])


@pytest.mark.parametrize(
    ("due_date", "status", "overdue"),
    [
        (PAST, "open", True),
        (PAST, "in_progress", True),
        (PAST, "done", False),
        (PAST, "wont_do", False),
        (FUTURE, "open", False),
        (FUTURE, "in_progress", False),
        (None, "open", False),
    ],
)
async def test_overdue_is_derived(due_date: str | None, status: str, overdue: bool, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    item = await add_action_item(client, postmortem["id"], due_date=due_date, status=status)

    assert item["overdue"] is overdue
    assert (await get_item(client, item["id"]))["overdue"] is overdue
    assert (await summary_of(client, postmortem["id"]))["overdue"] == int(overdue)


async def test_overdue_clears_when_the_item_is_done_or_rescheduled(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"], due_date=PAST)
    assert item["overdue"] is True

    assert (await patch_item(client, item["id"], due_date=FUTURE))["overdue"] is False
    assert (await patch_item(client, item["id"], due_date=PAST))["overdue"] is True
    assert (await patch_item(client, item["id"], status="done"))["overdue"] is False


ITEMS = [
    # title, postmortem, owner, priority, due_date, status
    ("a1", "A", "alice", "P0", PAST, "open"),
    ("a2", "A", "bob", "P1", FUTURE, "in_progress"),
    ("a3", "A", "alice", "P1", PAST, "done"),
    ("b1", "B", "alice", "P2", PAST, "in_progress"),
    ("b2", "B", "bob", "P0", None, "open"),
    ("b3", "B", None, "P1", PAST, "wont_do"),
]


async def seed_items(client: httpx.AsyncClient) -> dict[str, str]:
    """The items of ITEMS across two postmortems, created in order; returns postmortem ids by name."""
    postmortems = {name: (await create_postmortem(client, title=f"Incident {name}"))["id"] for name in ("A", "B")}
    for title, postmortem, owner, priority, due_date, status in ITEMS:
        await add_action_item(
            client,
            postmortems[postmortem],
            title=title,
            owner=owner,
            priority=priority,
            due_date=due_date,
            status=status,
        )
    return postmortems


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["a1", "a2", "a3", "b1", "b2", "b3"]),
        ({"owner": "alice"}, ["a1", "a3", "b1"]),
        ({"owner": "carol"}, []),
        ({"status": "open"}, ["a1", "b2"]),
        ({"status": "wont_do"}, ["b3"]),
        ({"priority": "P1"}, ["a2", "a3", "b3"]),
        ({"overdue": "true"}, ["a1", "b1"]),
        ({"overdue": "false"}, ["a2", "a3", "b2", "b3"]),
        ({"owner": "alice", "overdue": "true"}, ["a1", "b1"]),
        ({"owner": "alice", "overdue": "false"}, ["a3"]),
        ({"owner": "alice", "status": "done"}, ["a3"]),
        ({"priority": "P0", "overdue": "false"}, ["b2"]),
        ({"owner": "bob", "priority": "P1", "status": "in_progress"}, ["a2"]),
        ({"status": "done", "overdue": "true"}, []),
    ],
)
async def test_list_across_postmortems_filters(
    params: dict[str, str], expected: list[str], client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    await seed_items(client)

    response = await reader_client.get("/v1/action-items", params=params)

    assert response.status_code == 200, response.text
    assert [item["title"] for item in response.json()["items"]] == expected
    assert response.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "page_sizes", "expected"),
    [
        ({"limit": 4}, [4, 2], ["a1", "a2", "a3", "b1", "b2", "b3"]),
        ({"limit": 2, "overdue": "false"}, [2, 2], ["a2", "a3", "b2", "b3"]),
        ({"limit": 1, "owner": "alice"}, [1, 1, 1], ["a1", "a3", "b1"]),
    ],
)
async def test_list_across_postmortems_paginates_by_cursor(
    params: dict[str, Any], page_sizes: list[int], expected: list[str], client: httpx.AsyncClient
) -> None:
    await seed_items(client)

    pages = await every_page(client, "/v1/action-items", **params)

    assert [len(page) for page in pages] == page_sizes
    assert [item["title"] for page in pages for item in page] == expected


@pytest.mark.parametrize(
    ("listing", "params"),
    [
        ("all", {"status": "closed"}),
        ("all", {"priority": "P3"}),
        ("all", {"overdue": "maybe"}),
        ("all", {"limit": 0}),
        ("all", {"limit": 201}),
        ("all", {"cursor": "%%%"}),
        ("all", {"assignee": "alice"}),
        ("postmortem", {"limit": 0}),
        ("postmortem", {"cursor": "%%%"}),
        ("postmortem", {"assignee": "alice"}),
        ("postmortem", {"sort": "due_date"}),
    ],
)
async def test_list_rejects_bad_query_parameters(
    listing: str, params: dict[str, Any], client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(client)
    url = items_url(postmortem["id"]) if listing == "postmortem" else "/v1/action-items"

    response = await client.get(url, params=params)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == list(params)


async def test_list_for_a_postmortem_holds_only_its_items(client: httpx.AsyncClient) -> None:
    postmortems = await seed_items(client)

    pages = await every_page(client, items_url(postmortems["B"]), limit=2)

    assert [len(page) for page in pages] == [2, 1]
    items = [item for page in pages for item in page]
    assert [item["title"] for item in items] == ["b1", "b2", "b3"]
    assert {item["postmortem_id"] for item in items} == {postmortems["B"]}


async def test_summary_counts_the_items(client: httpx.AsyncClient) -> None:
    postmortems = await seed_items(client)
    empty = await create_postmortem(client, title="No items yet")

    assert empty["action_items_summary"] == {"total": 0, "open": 0, "done": 0, "overdue": 0}
    assert await summary_of(client, postmortems["A"]) == {"total": 3, "open": 2, "done": 1, "overdue": 1}
    assert await summary_of(client, postmortems["B"]) == {"total": 3, "open": 2, "done": 0, "overdue": 1}
    listed = (await client.get("/v1/postmortems")).json()["items"]
    assert {p["id"]: p["action_items_summary"] for p in listed} == {
        postmortems["A"]: await summary_of(client, postmortems["A"]),
        postmortems["B"]: await summary_of(client, postmortems["B"]),
        empty["id"]: empty["action_items_summary"],
    }


async def test_summary_follows_changes(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    overdue = await add_action_item(client, postmortem["id"], due_date=PAST)
    later = await add_action_item(client, postmortem["id"], due_date=FUTURE)

    assert await summary_of(client, postmortem["id"]) == {"total": 2, "open": 2, "done": 0, "overdue": 1}
    await patch_item(client, overdue["id"], status="done")
    assert await summary_of(client, postmortem["id"]) == {"total": 2, "open": 1, "done": 1, "overdue": 0}
    await patch_item(client, later["id"], status="wont_do")
    assert await summary_of(client, postmortem["id"]) == {"total": 2, "open": 0, "done": 1, "overdue": 0}
    assert (await client.delete(item_url(overdue["id"]))).status_code == 204
    assert await summary_of(client, postmortem["id"]) == {"total": 1, "open": 0, "done": 0, "overdue": 0}


async def test_unknown_postmortem_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(items_url(UNKNOWN_ID), json={"title": "Orphan"}), 404)
    assert_problem(await client.get(items_url(UNKNOWN_ID)), 404)
    assert (await client.get("/v1/action-items")).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": "P3"}, "priority"),
        ({"priority": "p1"}, "priority"),
        ({"status": "closed"}, "status"),
        ({"status": None}, "status"),
        ({"kind": "fix"}, "kind"),
        ({"kind": None}, "kind"),
        ({"due_date": "2025-02-30"}, "due_date"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"due_date": "31/01/2025"}, "due_date"),
        ({"due_date": "2025-01-31T10:00:00Z"}, "due_date"),
        ({"due_date": 20250101}, "due_date"),
        ({"due_date": 1735689600}, "due_date"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"owner": ""}, "owner"),
        ({"assignee": "alice"}, "assignee"),
        ({"completed_at": "2025-01-31T10:00:00Z"}, "completed_at"),
        ({"overdue": False}, "overdue"),
    ],
)
async def test_invalid_items_are_422(body: dict[str, Any], field: str, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    valid = {"title": "Validate config pushes", "owner": "@sre", "priority": "P1", "due_date": FUTURE}

    response = await client.post(items_url(postmortem["id"]), json=valid | body)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert (await client.get(items_url(postmortem["id"]))).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": "P9"}, "priority"),
        ({"status": "closed"}, "status"),
        ({"status": None}, "status"),
        ({"kind": None}, "kind"),
        ({"title": None}, "title"),
        ({"due_date": "soon"}, "due_date"),
        ({"due_date": 20250101}, "due_date"),
        ({"postmortem_id": UNKNOWN_ID}, "postmortem_id"),
        ({"version": 7}, "version"),
    ],
)
async def test_invalid_patches_are_422(body: dict[str, Any], field: str, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])

    response = await client.patch(item_url(item["id"]), json=body)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert await get_item(client, item["id"]) == item


async def test_missing_title_is_named(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await client.post(items_url(postmortem["id"]), json={"owner": "@sre"})

    problem = assert_problem(response, 422)
    assert [(error["field"], error["code"]) for error in problem["errors"]] == [("title", "missing")]


async def test_patch_and_delete_honour_if_match(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])
    first = (await client.get(item_url(item["id"]))).headers["etag"]

    assert_problem(await client.patch(item_url(item["id"]), json={"owner": "@x"}, headers={"If-Match": '"2"'}), 412)
    assert await get_item(client, item["id"]) == item
    updated = await client.patch(item_url(item["id"]), json={"owner": "@x"}, headers={"If-Match": first})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] != first

    assert_problem(await client.delete(item_url(item["id"]), headers={"If-Match": first}), 412)
    assert (await get_item(client, item["id"]))["owner"] == "@x"
    deleted = await client.delete(item_url(item["id"]), headers={"If-Match": updated.headers["etag"]})
    assert deleted.status_code == 204


async def test_sync_of_an_item_without_a_ticket_is_a_conflict(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])

    response = await client.post(f"/v1/action-items/{item['id']}/sync")

    problem = assert_problem(response, 409)
    assert [error["code"] for error in problem["errors"]] == ["not_linked"]
    assert (await client.get("/v1/deliveries")).json()["items"] == []
