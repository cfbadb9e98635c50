"""Answers to an API key are private: `Cache-Control: private, no-cache` on every one, whatever its status."""

import httpx

from tests.factories import create_postmortem
from tests.problems import UNKNOWN_ID

PRIVATE = "private, no-cache"


async def test_every_answer_to_a_key_is_private(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    body, key = {"title": "Outage", "severity": "P1"}, {"Idempotency-Key": "outage-1"}
    created = await client.post("/v1/postmortems", json=body, headers=key)
    url = created.headers["location"]
    fetched = await client.get(url)
    answers = [
        created,
        await client.post("/v1/postmortems", json=body, headers=key),
        fetched,
        await client.get(url, headers={"If-None-Match": fetched.headers["etag"]}),
        await client.get("/v1/postmortems"),
        await client.patch(url, json={"title": ""}),
        await client.patch(url, json={"title": "Renamed"}, headers={"If-Match": '"stale"'}),
        await client.get(f"/v1/postmortems/{UNKNOWN_ID}"),
        await reader_client.delete(url),
        await client.delete(url),
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 200, 304, 200, 422, 412, 404, 403, 204]
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert [answer.headers.get("cache-control") for answer in answers] == [PRIVATE] * len(answers)


async def test_a_new_api_key_is_never_stored(admin_client: httpx.AsyncClient) -> None:
    created = await admin_client.post("/v1/api-keys", json={"name": "bot", "scope": "read"})

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"


async def test_answers_without_a_key_are_not_marked_private(
    anonymous_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(client)

    answers = [
        await anonymous_client.get("/healthz"),
        await anonymous_client.get(f"/v1/postmortems/{postmortem['id']}"),
    ]

    assert [answer.status_code for answer in answers] == [200, 401]
    assert [answer.headers.get("cache-control") for answer in answers] == [None, None]
