import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.factories import add_action_item, add_event, create_postmortem, submittable_postmortem
from tests.problems import UNKNOWN_ID, assert_problem, problem_errors

LIMIT = 1024 * 1024
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors"}
ERROR_KEYS = {"field", "location", "message", "code"}


@pytest.fixture
async def world(client: httpx.AsyncClient) -> dict[str, str]:
    """Ids of a draft (with an event and an action item) and of a postmortem in review."""
    draft = await create_postmortem(client, title="draft")
    event = await add_event(client, draft["id"])
    item = await add_action_item(client, draft["id"])
    in_review = await submittable_postmortem(client, title="in review")
    assert (await client.post(f"/v1/postmortems/{in_review['id']}/submit")).status_code == 200
    return {"draft": draft["id"], "event": event["id"], "item": item["id"], "in_review": in_review["id"]}


@pytest.fixture
def clients(
    client: httpx.AsyncClient,
    reader_client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
) -> dict[str, httpx.AsyncClient]:
    return {"writer": client, "reader": reader_client, "admin": admin_client, "anonymous": anonymous_client}


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body sent in pieces with no Content-Length (Transfer-Encoding: chunked)."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


def json_body(payload: bytes, **headers: str) -> dict[str, Any]:
    return {"content": payload, "headers": {"Content-Type": "application/json"} | headers}


def streamed(total: int, **headers: str) -> Callable[[], dict[str, Any]]:
    return lambda: {"content": chunks(total), "headers": {"Content-Type": "application/json"} | headers}


def oversized_json() -> bytes:
    return json.dumps({"title": "x", "severity": "P1", "summary": "s" * LIMIT}).encode()


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    who: str = "writer"
    request: Callable[[], dict[str, Any]] = field(default=dict)

    async def send(self, clients: dict[str, httpx.AsyncClient], ids: dict[str, str]) -> httpx.Response:
        return await clients[self.who].request(self.method, self.path.format(**ids), **self.request())


PROBLEM_CASES = {
    "404-unknown-postmortem": Case("GET", f"/v1/postmortems/{UNKNOWN_ID}", 404),
    "404-unknown-action-item": Case("PATCH", f"/v1/action-items/{UNKNOWN_ID}", 404, request=lambda: {"json": {}}),
    "404-unknown-event": Case("DELETE", f"/v1/postmortems/{{draft}}/timeline/{UNKNOWN_ID}", 404),
    "404-unknown-route": Case("GET", "/v1/nowhere", 404),
    "404-unknown-route-outside-v1": Case("GET", "/nowhere", 404),
    "405-put": Case("PUT", "/v1/postmortems/{draft}", 405, request=lambda: {"json": {"title": "x"}}),
    "405-delete-collection": Case("DELETE", "/v1/postmortems", 405),
    "405-post-item": Case("POST", "/v1/action-items", 405, request=lambda: {"json": {}}),
    "409-delete-in-review": Case("DELETE", "/v1/postmortems/{in_review}", 409),
    "409-submit-twice": Case("POST", "/v1/postmortems/{in_review}/submit", 409),
    "409-submit-unready": Case("POST", "/v1/postmortems/{draft}/submit", 409),
    "412-stale-etag": Case(
        "PATCH",
        "/v1/postmortems/{draft}",
        412,
        request=lambda: {"json": {"title": "x"}, "headers": {"If-Match": '"9"'}},
    ),
    "413-content-length": Case("POST", "/v1/postmortems", 413, request=lambda: json_body(oversized_json())),
    "413-streamed": Case("POST", "/v1/postmortems", 413, request=streamed(LIMIT + 1)),
    "413-streamed-idempotent": Case(
        "POST", "/v1/postmortems", 413, request=streamed(3 * LIMIT, **{"Idempotency-Key": "big"})
    ),
    "413-streamed-patch": Case("PATCH", "/v1/postmortems/{draft}", 413, request=streamed(2 * LIMIT)),
    "413-streamed-event": Case("POST", "/v1/postmortems/{draft}/timeline", 413, request=streamed(LIMIT + 10)),
    "415-text": Case(
        "POST", "/v1/postmortems", 415, request=lambda: {"content": b"hello", "headers": {"Content-Type": "text/plain"}}
    ),
    "415-form": Case("POST", "/v1/postmortems", 415, request=lambda: {"data": {"title": "x", "severity": "P1"}}),
    "415-no-content-type": Case("PATCH", "/v1/action-items/{item}", 415, request=lambda: {"content": b'{"title":"x"}'}),
    "422-malformed-json": Case("POST", "/v1/postmortems", 422, request=lambda: json_body(b'{"title": "x",')),
    "422-trailing-garbage": Case("POST", "/v1/postmortems", 422, request=lambda: json_body(b'{"title": "x"} }')),
    "422-empty-body": Case("POST", "/v1/postmortems", 422, request=lambda: json_body(b"")),
    "422-single-quotes": Case("PATCH", "/v1/postmortems/{draft}", 422, request=lambda: json_body(b"{'title': 'x'}")),
    "422-validation": Case("POST", "/v1/postmortems", 422, request=lambda: {"json": {"title": "x", "severity": "P0"}}),
    "422-query": Case("GET", "/v1/postmortems", 422, request=lambda: {"params": {"limit": 0}}),
    "401-no-key": Case("GET", "/v1/postmortems", 401, who="anonymous"),
    "401-no-key-write": Case("DELETE", "/v1/postmortems/{draft}", 401, who="anonymous"),
    "401-unknown-key": Case(
        "GET", "/v1/postmortems", 401, who="anonymous", request=lambda: {"headers": {"Authorization": "Bearer pm_nope"}}
    ),
    "401-basic-auth": Case(
        "GET", "/v1/postmortems", 401, who="anonymous", request=lambda: {"headers": {"Authorization": "Basic dTpw"}}
    ),
    "403-reader-creates": Case(
        "POST", "/v1/postmortems", 403, who="reader", request=lambda: {"json": {"title": "x", "severity": "P1"}}
    ),
    "403-reader-deletes": Case("DELETE", "/v1/action-items/{item}", 403, who="reader"),
    "403-writer-lists-keys": Case("GET", "/v1/api-keys", 403),
}


@pytest.mark.parametrize("case", list(PROBLEM_CASES.values()), ids=list(PROBLEM_CASES))
async def test_every_error_is_a_problem_document(
    clients: dict[str, httpx.AsyncClient], world: dict[str, str], case: Case
) -> None:
    problem = assert_problem(await case.send(clients, world), case.status)

    assert set(problem) == PROBLEM_KEYS
    assert problem["type"].startswith("urn:postmortems:problem:")
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    assert problem["instance"] == case.path.format(**world)
    assert isinstance(problem["errors"], list)
    for error in problem["errors"]:
        assert set(error) == ERROR_KEYS
        assert error["location"] in {"body", "query", "path", "header", "resource"}
        assert all(isinstance(value, str) for value in error.values())


@pytest.mark.parametrize(
    ("case", "fields"),
    [
        (PROBLEM_CASES["412-stale-etag"], {("If-Match", "header")}),
        (PROBLEM_CASES["409-delete-in-review"], {("status", "resource")}),
        (PROBLEM_CASES["422-malformed-json"], {("body", "body")}),
        (PROBLEM_CASES["422-validation"], {("severity", "body")}),
        (PROBLEM_CASES["422-query"], {("limit", "query")}),
        (
            PROBLEM_CASES["409-submit-unready"],
            {("summary", "resource"), ("root_cause", "resource"), ("started_at", "resource")}
            | {("resolved_at", "resource"), ("impact", "resource")},
        ),
    ],
    ids=["412", "409", "422-json", "422-body", "422-query", "409-submit"],
)
async def test_errors_name_the_fields_at_fault(
    clients: dict[str, httpx.AsyncClient], world: dict[str, str], case: Case, fields: set[tuple[str, str]]
) -> None:
    response = await case.send(clients, world)
    assert {(error["field"], error["location"]) for error in response.json()["errors"]} == fields


NOT_JSON = {
    "malformed": b'{"title": "x",',
    "not-utf-8": '{"title": "Caf\u00e9 checkout outage", "severity": "P1"}'.encode("latin-1"),
}


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "retry-1"}], ids=["plain", "idempotent"])
@pytest.mark.parametrize("payload", list(NOT_JSON.values()), ids=list(NOT_JSON))
async def test_a_body_that_is_not_json_is_reported_as_invalid_json(
    client: httpx.AsyncClient, payload: bytes, headers: dict[str, str]
) -> None:
    response = await client.post("/v1/postmortems", **json_body(payload, **headers))

    errors = problem_errors(response, 422)
    assert [(error["field"], error["location"], error["code"]) for error in errors] == [
        ("body", "body", "json_invalid")
    ]
    assert (await client.get("/v1/postmortems")).json()["items"] == []


async def test_malformed_json_names_the_line_and_column(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/postmortems", **json_body(b'{\n  "title": "x",\n  "severity": P1\n}'))

    [error] = problem_errors(response, 422)
    assert error["field"] == "body"
    assert error["message"] == "malformed JSON at line 3, column 15: Expecting value"


async def test_json_nested_too_deeply_is_malformed_json_at_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/postmortems", **json_body(deep_json(5000)))

    [error] = problem_errors(response, 422)
    assert (error["field"], error["location"], error["code"]) == ("body", "body", "json_invalid")
    assert "nested too deeply" in error["message"]


@pytest.mark.parametrize("payload", [b"[]", b'"x"', b"3"])
async def test_a_body_that_is_not_an_object_is_named_body(client: httpx.AsyncClient, payload: bytes) -> None:
    response = await client.post("/v1/postmortems", **json_body(payload))

    errors = problem_errors(response, 422)
    assert [(error["field"], error["location"]) for error in errors] == [("body", "body")]


async def test_an_empty_body_names_the_fields_it_lacks(client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client)
    path = f"/v1/postmortems/{postmortem['id']}"
    assert (await client.post(f"{path}/submit")).status_code == 200, "submitted"

    response = await client.post(f"{path}/request-changes", headers={"Content-Type": "application/json"})

    errors = problem_errors(response, 422)
    assert [(error["field"], error["location"], error["code"]) for error in errors] == [("comment", "body", "missing")]


async def test_an_empty_body_names_the_required_fields_or_else_the_body(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/postmortems", **json_body(b""))
    postmortem = await create_postmortem(client)
    patched = await client.patch(f"/v1/postmortems/{postmortem['id']}", **json_body(b""))

    assert [(error["field"], error["code"]) for error in problem_errors(created, 422)] == [
        ("title", "missing"),
        ("severity", "missing"),
    ]
    assert [(error["field"], error["message"]) for error in problem_errors(patched, 422)] == [
        ("body", "a JSON body is required")
    ]


async def test_401_asks_for_a_bearer_token(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/v1/postmortems")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_413_states_the_limit(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/postmortems", **json_body(oversized_json()))
    assert str(LIMIT) in response.json()["detail"]


async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"title": "x", "severity": "P1", "summary": "s" * 20_000}
    payload = json.dumps(body).encode()
    padded = payload[:-1] + b" " * (LIMIT - len(payload)) + b"}"
    assert len(padded) == LIMIT

    plain = await client.post("/v1/postmortems", **json_body(padded))

    async def one_chunk() -> AsyncIterator[bytes]:
        yield padded

    chunked = await client.post("/v1/postmortems", content=one_chunk(), headers={"Content-Type": "application/json"})
    assert plain.status_code == chunked.status_code == 201, chunked.text


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"]
)
async def test_json_media_types_are_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    payload = json.dumps({"title": "x", "severity": "P1"}).encode()
    response = await client.post("/v1/postmortems", content=payload, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


ODD_REQUESTS: dict[str, Case] = {
    "deeply-nested-json": Case("POST", "/v1/postmortems", 422, request=lambda: json_body(deep_json(100_000))),
    "deeply-nested-json-idempotent": Case(
        "POST",
        "/v1/postmortems",
        422,
        request=lambda: json_body(deep_json(100_000), **{"Idempotency-Key": "deep"}),
    ),
    "timestamp-before-year-1-in-utc": Case(
        "POST",
        "/v1/postmortems",
        422,
        request=lambda: {"json": {"title": "x", "severity": "P1", "started_at": "0001-01-01T00:00:00+01:00"}},
    ),
    "created-after-beyond-year-9999": Case(
        "GET", "/v1/postmortems", 422, request=lambda: {"params": {"created_after": "9999-12-31T23:00:00-05:00"}}
    ),
    "nul-in-postmortem-filter": Case("GET", "/v1/postmortems", 422, request=lambda: {"params": {"tag": "a\x00"}}),
    "nul-in-action-item-filter": Case("GET", "/v1/action-items", 422, request=lambda: {"params": {"owner": "\x00"}}),
    "nul-in-cursor": Case("GET", "/v1/postmortems", 422, request=lambda: {"params": {"cursor": "\x00"}}),
    "nul-as-a-field-name": Case(
        "POST", "/v1/postmortems", 422, request=lambda: {"json": {"title": "x", "severity": "P1", "\x00": 1}}
    ),
    "huge-integer": Case(
        "PATCH", "/v1/postmortems/{draft}", 422, request=lambda: {"json": {"impact": {"users_affected": 10**400}}}
    ),
    "huge-limit": Case("GET", "/v1/postmortems", 422, request=lambda: {"params": {"limit": "9" * 400}}),
    "float-limit": Case("GET", "/v1/postmortems", 422, request=lambda: {"params": {"limit": "1.5"}}),
    "nan": Case(
        "PATCH", "/v1/postmortems/{draft}", 422, request=lambda: json_body(b'{"impact": {"users_affected": NaN}}')
    ),
    "malformed-id": Case("DELETE", "/v1/postmortems/..%2f..", 404),
    "id-of-another-kind": Case("GET", "/v1/postmortems/{item}", 404),
    "event-of-another-postmortem": Case("GET", "/v1/postmortems/{in_review}/timeline/{event}", 404),
    "transition-on-unknown": Case("POST", f"/v1/postmortems/{UNKNOWN_ID}/approve", 404),
    "comment-missing": Case("POST", "/v1/postmortems/{in_review}/request-changes", 422, request=lambda: {"json": {}}),
    "emoji-and-rtl-text": Case(
        "POST",
        "/v1/postmortems",
        201,
        request=lambda: {"json": {"title": "\U0001f525 \u202eoutage", "severity": "P1", "tags": ["\u00e9t\u00e9"]}},
    ),
}


@pytest.mark.parametrize("case", list(ODD_REQUESTS.values()), ids=list(ODD_REQUESTS))
async def test_odd_requests_never_cause_a_server_error(
    clients: dict[str, httpx.AsyncClient], world: dict[str, str], case: Case
) -> None:
    response = await case.send(clients, world)

    if case.status >= 400:
        assert_problem(response, case.status)
    else:
        assert response.status_code == case.status, response.text


async def snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    """Everything the API can show: every postmortem with its timeline, action items and history."""
    state: dict[str, Any] = {}
    for postmortem in (await client.get("/v1/postmortems", params={"limit": 200})).json()["items"]:
        url = f"/v1/postmortems/{postmortem['id']}"
        state[postmortem["id"]] = {
            "postmortem": postmortem,
            "timeline": (await client.get(f"{url}/timeline")).json(),
            "action_items": (await client.get(f"{url}/action-items")).json(),
            "history": (await client.get(f"{url}/history")).json(),
            "readiness": (await client.get(f"{url}/readiness")).json(),
        }
    return state


REFUSED_WRITES = {
    "patch-out-of-order": Case(
        "PATCH",
        "/v1/postmortems/{draft}",
        422,
        request=lambda: {
            "json": {"title": "renamed", "started_at": "2025-01-15T10:00:00Z", "resolved_at": "2025-01-15T09:00:00Z"}
        },
    ),
    "patch-unknown-related": Case(
        "PATCH",
        "/v1/postmortems/{draft}",
        422,
        request=lambda: {"json": {"summary": "new", "related_postmortem_ids": [UNKNOWN_ID]}},
    ),
    "patch-stale": Case(
        "PATCH",
        "/v1/postmortems/{draft}",
        412,
        request=lambda: {"json": {"title": "x"}, "headers": {"If-Match": '"5"'}},
    ),
    "patch-event-stale": Case(
        "PATCH",
        "/v1/postmortems/{draft}/timeline/{event}",
        412,
        request=lambda: {"json": {"description": "x"}, "headers": {"If-Match": '"5"'}},
    ),
    "delete-item-stale": Case(
        "DELETE", "/v1/action-items/{item}", 412, request=lambda: {"headers": {"If-Match": '"5"'}}
    ),
    "delete-in-review": Case("DELETE", "/v1/postmortems/{in_review}", 409),
    "submit-unready": Case("POST", "/v1/postmortems/{draft}/submit", 409),
    "complete-unapproved": Case("POST", "/v1/postmortems/{in_review}/complete", 409),
    "request-changes-on-draft": Case(
        "POST", "/v1/postmortems/{draft}/request-changes", 409, request=lambda: {"json": {"comment": "more"}}
    ),
    "reopen-by-writer": Case("POST", "/v1/postmortems/{in_review}/reopen", 403),
    "reader-patches": Case(
        "PATCH", "/v1/postmortems/{draft}", 403, who="reader", request=lambda: {"json": {"title": "x"}}
    ),
    "anonymous-deletes": Case("DELETE", "/v1/postmortems/{draft}", 401, who="anonymous"),
    "create-invalid": Case(
        "POST", "/v1/postmortems", 422, request=lambda: {"json": {"title": "x", "severity": "P1", "links": [{}]}}
    ),
    "create-event-invalid": Case(
        "POST",
        "/v1/postmortems/{draft}/timeline",
        422,
        request=lambda: {"json": {"occurred_at": "now", "description": "x"}},
    ),
    "create-item-invalid": Case(
        "POST", "/v1/postmortems/{draft}/action-items", 422, request=lambda: {"json": {"title": "x", "priority": "P9"}}
    ),
    "create-too-large": Case("POST", "/v1/postmortems", 413, request=lambda: json_body(oversized_json())),
    "create-streamed-too-large": Case("POST", "/v1/postmortems/{draft}/action-items", 413, request=streamed(LIMIT + 1)),
    "create-as-text": Case(
        "POST",
        "/v1/postmortems",
        415,
        request=lambda: {"content": b'{"title": "x", "severity": "P1"}', "headers": {"Content-Type": "text/plain"}},
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_WRITES.values()), ids=list(REFUSED_WRITES))
async def test_a_refused_write_changes_nothing(
    clients: dict[str, httpx.AsyncClient], world: dict[str, str], case: Case
) -> None:
    before = await snapshot(clients["admin"])

    response = await case.send(clients, world)

    assert response.status_code == case.status, response.text
    assert await snapshot(clients["admin"]) == before
