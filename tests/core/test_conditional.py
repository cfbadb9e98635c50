"""Conditional GET: every GET under /v1 answers an ETag, and `If-None-Match` naming it answers 304 with no body."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.core.openapi import export_openapi
from service.settings import Settings
from tests.factories import SUBMITTABLE_STANDARD, add_action_item, add_event, create_postmortem
from tests.problems import UNKNOWN_ID

GITHUB = {
    "kind": "github",
    "name": "followups",
    "settings": {"repo": "incidents", "owner": "acme"},
    "credentials": {"token": "github_pat_conditional"},
}


async def postmortem_url(client: httpx.AsyncClient) -> str:
    return f"/v1/postmortems/{(await create_postmortem(client))['id']}"


async def item_url(client: httpx.AsyncClient) -> str:
    item = await add_action_item(client, (await create_postmortem(client))["id"])
    return f"/v1/action-items/{item['id']}"


async def event_url(client: httpx.AsyncClient) -> str:
    postmortem = await create_postmortem(client)
    event = await add_event(client, postmortem["id"])
    return f"/v1/postmortems/{postmortem['id']}/timeline/{event['id']}"


async def integration_url(client: httpx.AsyncClient) -> str:
    created = await client.post("/v1/integrations", json=GITHUB)
    assert created.status_code == 201, created.text
    return f"/v1/integrations/{created.json()['id']}"


SINGLE: dict[str, Callable[[httpx.AsyncClient], Awaitable[str]]] = {
    "postmortem": postmortem_url,
    "action-item": item_url,
    "timeline-event": event_url,
    "integration": integration_url,
}


@pytest.fixture(params=list(SINGLE))
async def single(request: pytest.FixtureRequest, admin_client: httpx.AsyncClient) -> str:
    return await SINGLE[request.param](admin_client)


def assert_not_modified(response: httpx.Response, etag: str) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-type" not in response.headers
    assert response.headers["cache-control"] == "private, no-cache"


async def test_a_single_resource_answers_304_while_it_is_unchanged(
    admin_client: httpx.AsyncClient, single: str
) -> None:
    fetched = await admin_client.get(single)
    etag = fetched.headers["etag"]

    assert_not_modified(await admin_client.get(single, headers={"If-None-Match": etag}), etag)


async def test_the_tag_a_write_answers_is_the_one_a_poll_sends(admin_client: httpx.AsyncClient, single: str) -> None:
    field = "description" if "/timeline/" in single else "name" if "/integrations/" in single else "title"

    edited = await admin_client.patch(single, json={field: "Renamed"})

    assert edited.status_code == 200, edited.text
    assert_not_modified(
        await admin_client.get(single, headers={"If-None-Match": edited.headers["etag"]}), edited.headers["etag"]
    )


async def test_a_created_resource_is_tagged_as_it_is_read(admin_client: httpx.AsyncClient) -> None:
    """On PostgreSQL an integration's settings come back in JSONB's key order; its ETag must not change with it."""
    created = await admin_client.post("/v1/integrations", json=GITHUB)
    postmortem = await admin_client.post("/v1/postmortems", json={"title": "Outage", "severity": "P1"})

    for response in (created, postmortem):
        assert response.status_code == 201, response.text
        etag = response.headers["etag"]
        assert_not_modified(await admin_client.get(response.headers["location"], headers={"If-None-Match": etag}), etag)


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [
        ("{etag}", 304),
        ("W/{etag}", 304),
        ('"other", {etag}', 304),
        ('W/"other",W/{etag}', 304),
        ("*", 304),
        (" * ", 304),
        ('"other"', 200),
        ("{bare}", 200),
        ('"{bare}', 200),
        ("", 200),
        ("garbage", 200),
    ],
)
async def test_if_none_match_compares_tags_weakly(
    admin_client: httpx.AsyncClient, single: str, if_none_match: str, status: int
) -> None:
    fetched = await admin_client.get(single)
    etag = fetched.headers["etag"]
    header = if_none_match.format(etag=etag, bare=etag.strip('"'))

    response = await admin_client.get(single, headers={"If-None-Match": header})

    assert response.status_code == status, response.text
    assert response.headers["etag"] == etag
    assert response.content == (b"" if status == 304 else fetched.content)


async def test_if_none_match_fields_make_one_list(client: httpx.AsyncClient) -> None:
    url = await postmortem_url(client)
    etag = (await client.get(url)).headers["etag"]

    response = await client.get(url, headers=[("If-None-Match", '"other"'), ("If-None-Match", etag)])

    assert_not_modified(response, etag)


async def test_a_changed_resource_answers_200_with_its_new_etag(client: httpx.AsyncClient) -> None:
    url = await postmortem_url(client)
    etag = (await client.get(url)).headers["etag"]
    edited = await client.patch(url, json={"title": "Renamed"})

    response = await client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Renamed"
    assert response.headers["etag"] == edited.headers["etag"] != etag


@pytest.mark.parametrize("if_none_match", ["*", f'"{UNKNOWN_ID}"'])
async def test_a_missing_resource_is_404_whatever_if_none_match_says(
    client: httpx.AsyncClient, if_none_match: str
) -> None:
    response = await client.get(f"/v1/postmortems/{UNKNOWN_ID}", headers={"If-None-Match": if_none_match})

    assert response.status_code == 404
    assert "etag" not in response.headers


# -- lists and everything else ---------------------------------------------------------------------------------


async def test_a_list_page_is_tagged_by_its_content(client: httpx.AsyncClient) -> None:
    first = await create_postmortem(client, title="First")
    page = await client.get("/v1/postmortems")
    etag = page.headers["etag"]
    assert_not_modified(await client.get("/v1/postmortems", headers={"If-None-Match": etag}), etag)

    assert (await client.patch(f"/v1/postmortems/{first['id']}", json={"title": "Renamed"})).status_code == 200

    changed = await client.get("/v1/postmortems", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert [item["title"] for item in changed.json()["items"]] == ["Renamed"]
    assert changed.headers["etag"] != etag


async def test_a_list_page_etag_moves_with_its_next_cursor(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    first = await add_action_item(client, postmortem["id"])
    url = f"/v1/postmortems/{postmortem['id']}/action-items?limit=1"
    page = await client.get(url)
    assert page.json()["next_cursor"] is None

    await add_action_item(client, postmortem["id"], title="A second item")

    changed = await client.get(url, headers={"If-None-Match": page.headers["etag"]})
    assert changed.status_code == 200
    assert [item["id"] for item in changed.json()["items"]] == [first["id"]]
    assert changed.json()["next_cursor"] is not None
    assert changed.headers["etag"] != page.headers["etag"]


async def test_a_list_page_etag_moves_with_a_child_of_an_item(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    page = await client.get("/v1/postmortems")

    await add_action_item(client, postmortem["id"])

    changed = await client.get("/v1/postmortems", headers={"If-None-Match": page.headers["etag"]})
    assert changed.status_code == 200
    assert changed.json()["items"][0]["action_items_summary"]["total"] == 1


EVERY_OTHER_GET = [
    "/v1/postmortems?severity=P2",
    "/v1/postmortems?q=checkout",
    "/v1/postmortems/{postmortem}/readiness",
    "/v1/postmortems/{postmortem}/history",
    "/v1/postmortems/{postmortem}/review",
    "/v1/postmortems/{postmortem}/export",
    "/v1/postmortems/{postmortem}/export?format=json",
    "/v1/postmortems/{postmortem}/timeline",
    "/v1/postmortems/{postmortem}/action-items",
    "/v1/action-items?owner=@payments-oncall",
    "/v1/stats?from=2025-01-01T00:00:00Z&to=2025-04-01T00:00:00Z",
    "/v1/api-keys",
    "/v1/integrations",
    "/v1/deliveries",
]


@pytest.mark.parametrize("path", EVERY_OTHER_GET)
async def test_every_other_get_is_tagged_by_its_body(admin_client: httpx.AsyncClient, path: str) -> None:
    postmortem = await create_postmortem(admin_client, **SUBMITTABLE_STANDARD)
    await add_event(admin_client, postmortem["id"])
    await add_action_item(admin_client, postmortem["id"])
    url = path.format(postmortem=postmortem["id"])

    fetched = await admin_client.get(url)

    assert fetched.status_code == 200, fetched.text
    etag = fetched.headers["etag"]
    assert_not_modified(await admin_client.get(url, headers={"If-None-Match": f'"other", {etag}'}), etag)
    assert (await admin_client.get(url)).content == fetched.content


# -- the OpenAPI document --------------------------------------------------------------------------------------

DOCUMENT = json.loads(export_openapi(create_app(Settings(database_url="sqlite://"))))
OPERATIONS = [
    pytest.param(method, path, operation, id=f"{method.upper()} {path}")
    for path, path_item in DOCUMENT["paths"].items()
    for method, operation in path_item.items()
]


def if_none_match(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [parameter for parameter in operation.get("parameters", []) if parameter["name"] == "If-None-Match"]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_every_v1_get_documents_if_none_match_its_304_and_etag(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    if method != "get" or not path.startswith("/v1/"):
        assert not if_none_match(operation)
        assert "304" not in operation["responses"]
        return
    [parameter] = if_none_match(operation)
    assert (parameter["in"], parameter["required"], parameter["schema"]) == ("header", False, {"type": "string"})
    for status in ("200", "304"):
        etag = operation["responses"][status]["headers"]["ETag"]
        assert (etag["required"], etag["schema"]) == (True, {"type": "string"})
    assert "content" not in operation["responses"]["304"]
