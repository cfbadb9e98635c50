import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.factories import SUBMITTABLE_STANDARD, add_action_item, add_event, create_postmortem
from tests.problems import UNKNOWN_ID, assert_header_refused, sole_success

BODY = {"title": "Checkout errors after config push", "severity": "P2", "tags": ["payments"]}
EVENT = {"occurred_at": "2025-01-15T09:00:00Z", "kind": "alert", "description": "Error-rate alert fired"}
ITEM = {"title": "Validate config pushes in CI", "owner": "@payments-oncall", "priority": "P1"}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def count(client: httpx.AsyncClient, url: str) -> int:
    response = await client.get(url, params={"limit": 200})
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


def assert_key_refused(response: httpx.Response) -> None:
    assert_header_refused(response, 422, "Idempotency-Key")


def assert_replay_of(replay: httpx.Response, first: httpx.Response) -> None:
    assert replay.status_code == first.status_code
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    for header in ("location", "etag", "content-type", "cache-control"):
        assert replay.headers.get(header) == first.headers.get(header), header


@pytest.fixture(params=["postmortems", "timeline", "action-items"])
async def collection(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """(URL, body) of a POST that creates a resource."""
    if request.param == "postmortems":
        return "/v1/postmortems", BODY
    postmortem = await create_postmortem(client)
    body = EVENT if request.param == "timeline" else ITEM
    return f"/v1/postmortems/{postmortem['id']}/{request.param}", body


async def test_a_repeat_replays_the_first_response_and_creates_nothing(
    client: httpx.AsyncClient, collection: tuple[str, dict[str, Any]]
) -> None:
    url, body = collection

    first = await client.post(url, json=body, headers=keyed("create-1"))
    replay = await client.post(url, json=body, headers=keyed("create-1"))

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert_replay_of(replay, first)
    assert await count(client, url) == 1
    assert (await client.get(first.headers["location"])).json() == first.json()


async def test_equal_json_written_differently_is_the_same_request(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/postmortems", json=BODY, headers=keyed("k"))
    reordered = json.dumps(dict(reversed(BODY.items())), indent=2)

    replay = await client.post(
        "/v1/postmortems", content=reordered, headers=keyed("k") | {"Content-Type": "application/json"}
    )

    assert_replay_of(replay, first)
    assert await count(client, "/v1/postmortems") == 1


async def test_the_replay_is_the_first_response_even_after_later_changes(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/postmortems", json=BODY, headers=keyed("k"))
    assert (await client.patch(first.headers["location"], json={"title": "Renamed"})).status_code == 200

    replay = await client.post("/v1/postmortems", json=BODY, headers=keyed("k"))

    assert_replay_of(replay, first)
    assert replay.json()["version"] == 1


@pytest.mark.parametrize(
    "other",
    [
        BODY | {"title": "Another incident"},
        BODY | {"tags": []},
        {"title": BODY["title"], "severity": BODY["severity"]},
    ],
)
async def test_the_same_key_with_another_body_is_refused(client: httpx.AsyncClient, other: dict[str, Any]) -> None:
    first = await client.post("/v1/postmortems", json=BODY, headers=keyed("k"))
    assert first.status_code == 201

    assert_key_refused(await client.post("/v1/postmortems", json=other, headers=keyed("k")))

    assert await count(client, "/v1/postmortems") == 1
    assert_replay_of(await client.post("/v1/postmortems", json=BODY, headers=keyed("k")), first)


async def test_the_same_key_on_another_endpoint_is_refused(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/postmortems", json=BODY, headers=keyed("k"))
    timeline = f"{first.headers['location']}/timeline"

    assert_key_refused(await client.post(timeline, json=EVENT, headers=keyed("k")))

    assert await count(client, timeline) == 0


async def test_keys_are_scoped_to_the_api_key(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    mine = await client.post("/v1/postmortems", json=BODY, headers=keyed("shared"))
    theirs = await admin_client.post("/v1/postmortems", json=BODY, headers=keyed("shared"))

    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert await count(client, "/v1/postmortems") == 2
    assert_replay_of(await admin_client.post("/v1/postmortems", json=BODY, headers=keyed("shared")), theirs)


async def test_a_replay_is_never_served_to_another_api_key(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    assert (await client.post("/v1/postmortems", json=BODY, headers=keyed("k"))).status_code == 201

    response = await reader_client.post("/v1/postmortems", json=BODY, headers=keyed("k"))

    assert response.status_code == 403, response.text
    assert "idempotent-replayed" not in response.headers


@pytest.mark.parametrize(
    "failing",
    [
        {"title": "x", "severity": "P9"},
        {"title": "x", "severity": "P1", "started_at": "2025-01-15T09:00:00"},
        {"title": "x", "severity": "P1", "related_postmortem_ids": [UNKNOWN_ID]},
    ],
)
async def test_a_failed_request_is_not_recorded(client: httpx.AsyncClient, failing: dict[str, Any]) -> None:
    refused = await client.post("/v1/postmortems", json=failing, headers=keyed("retry-me"))
    assert refused.status_code == 422, refused.text

    again = await client.post("/v1/postmortems", json=failing, headers=keyed("retry-me"))
    corrected = await client.post("/v1/postmortems", json=BODY, headers=keyed("retry-me"))

    assert again.status_code == 422
    assert "idempotent-replayed" not in again.headers
    assert corrected.status_code == 201, corrected.text
    assert "idempotent-replayed" not in corrected.headers
    assert_replay_of(await client.post("/v1/postmortems", json=BODY, headers=keyed("retry-me")), corrected)
    assert await count(client, "/v1/postmortems") == 1


async def test_a_refused_transition_can_be_retried_with_the_same_key(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, **SUBMITTABLE_STANDARD)
    submit = f"/v1/postmortems/{postmortem['id']}/submit"

    refused = await client.post(submit, headers=keyed("submit-1"))
    assert refused.status_code == 409, refused.text
    await add_event(client, postmortem["id"])
    await add_action_item(client, postmortem["id"])
    submitted = await client.post(submit, headers=keyed("submit-1"))
    replay = await client.post(submit, headers=keyed("submit-1"))

    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_review"
    assert_replay_of(replay, submitted)
    history = await client.get(f"/v1/postmortems/{postmortem['id']}/history")
    assert [step["action"] for step in history.json()["items"]] == ["submit"]


@pytest.mark.parametrize("length", [1, 255])
async def test_keys_up_to_255_characters_are_accepted(client: httpx.AsyncClient, length: int) -> None:
    first = await client.post("/v1/postmortems", json=BODY, headers=keyed("k" * length))
    assert first.status_code == 201, first.text
    assert_replay_of(await client.post("/v1/postmortems", json=BODY, headers=keyed("k" * length)), first)


@pytest.mark.parametrize("key", ["", "k" * 256, "k" * 5000])
async def test_an_invalid_key_is_refused_and_nothing_is_created(client: httpx.AsyncClient, key: str) -> None:
    assert_key_refused(await client.post("/v1/postmortems", json=BODY, headers=keyed(key)))
    assert await count(client, "/v1/postmortems") == 0


async def test_concurrent_identical_requests_create_exactly_one_resource(
    client: httpx.AsyncClient, collection: tuple[str, dict[str, Any]]
) -> None:
    url, body = collection

    responses = await asyncio.gather(*(client.post(url, json=body, headers=keyed("race")) for _ in range(6)))

    assert [response.status_code for response in responses] == [201] * 6
    originals = [response for response in responses if "idempotent-replayed" not in response.headers]
    assert len(originals) == 1
    for response in responses:
        assert response.json() == originals[0].json()
        assert response.headers["location"] == originals[0].headers["location"]
    assert await count(client, url) == 1


async def test_concurrent_different_requests_with_one_key_create_exactly_one_resource(
    client: httpx.AsyncClient,
) -> None:
    bodies = [BODY | {"title": f"incident {n}"} for n in range(5)]

    responses = await asyncio.gather(
        *(client.post("/v1/postmortems", json=body, headers=keyed("race")) for body in bodies)
    )

    created = sole_success(responses, 201, refused=422, header="Idempotency-Key")
    items = (await client.get("/v1/postmortems")).json()["items"]
    assert [item["id"] for item in items] == [created.json()["id"]]


async def test_a_new_api_key_is_never_kept_for_replay(admin_client: httpx.AsyncClient, app: Any) -> None:
    from sqlalchemy import text

    response = await admin_client.post(
        "/v1/api-keys", json={"name": "bot", "scope": "read"}, headers=keyed("key-for-a-key")
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    async with app.state.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT body FROM idempotency_record"))).scalars().all()
    assert all(response.json()["key"] not in body for body in stored)
