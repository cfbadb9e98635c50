"""API keys: every /v1 operation needs one, scopes are ordered read < write < admin, admins manage keys.

The one exception is the webhook the trackers call: it is authenticated by the signature on its body.
"""

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from service.app import create_app
from service.auth.models import ApiKey, Scope
from service.settings import Settings
from tests.factories import add_action_item, add_event, create_postmortem
from tests.problems import assert_problem, problem_errors


def _v1_operations() -> list[tuple[str, str]]:
    """Every (method, path) the application documents under /v1, so a new route is checked as soon as it exists."""
    document = create_app(Settings(database_url="sqlite://")).openapi()
    return sorted(
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    )


WEBHOOK = ("POST", "/v1/webhooks/{kind}/{integration_id}")
"""Called by the trackers themselves, signed with the integration's webhook secret instead of an API key."""
OPERATIONS = [operation for operation in _v1_operations() if operation != WEBHOOK]
# Key management and tracker integrations are for admins only, and so are these operations.
ADMIN_PREFIXES = ("/v1/api-keys", "/v1/integrations", "/v1/subscriptions")
ADMIN_OPERATIONS = {("POST", "/v1/postmortems/{postmortem_id}/reopen")}
# POSTs that change nothing, so that any key may make them.
READ_OPERATIONS = {("POST", "/v1/policy/evaluate")}
PATH_PARAMETERS = (
    "postmortem_id",
    "event_id",
    "item_id",
    "key_id",
    "integration_id",
    "delivery_id",
    "subscription_id",
)
WEBHOOK_SECRET = "whsec-0b4f3c1e9d2a4c7b"
TRACKER_SETTINGS: dict[str, dict[str, str]] = {
    "github": {"owner": "acme", "repo": "incidents"},
    "linear": {"team_id": "team-sre"},
    "jira": {"project_key": "OPS", "email": "automation@example.com"},
}
SIGNATURE_HEADERS = {"github": "X-Hub-Signature-256", "linear": "Linear-Signature", "jira": "X-Hub-Signature"}


def required_scope(method: str, path: str) -> Scope:
    if path.startswith(ADMIN_PREFIXES) or (method, path) in ADMIN_OPERATIONS:
        return Scope.ADMIN
    return Scope.READ if method == "GET" or (method, path) in READ_OPERATIONS else Scope.WRITE


def _label(method: str, path: str, scope: Scope | None = None) -> str:
    return f"{method} {path}" + (f" as {scope.value}" if scope else "")


FORBIDDEN = [
    pytest.param(method, path, scope, id=_label(method, path, scope))
    for method, path in OPERATIONS
    for scope in Scope
    if not scope.includes(required_scope(method, path))
]
ALLOWED = [
    pytest.param(method, path, scope, id=_label(method, path, scope))
    for method, path in OPERATIONS
    for scope in Scope
    if scope.includes(required_scope(method, path))
]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


TEXT_BODIES = {("POST", "/v1/postmortems/import"): "text/markdown"}
"""Operations that take a document rather than JSON."""


def _body(method: str, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Request arguments with a body of the media type the operation takes."""
    if (method, path) in TEXT_BODIES:
        return {"content": b"", "headers": (headers or {}) | {"Content-Type": TEXT_BODIES[method, path]}}
    return {"json": {} if method in ("POST", "PATCH") else None, "headers": headers}


async def create_key(admin_client: httpx.AsyncClient, *, name: str = "incident-bot", scope: str = "write") -> Any:
    response = await admin_client.post("/v1/api-keys", json={"name": name, "scope": scope})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def clients(
    reader_client: httpx.AsyncClient, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> dict[Scope, httpx.AsyncClient]:
    return {Scope.READ: reader_client, Scope.WRITE: client, Scope.ADMIN: admin_client}


async def connect_tracker(admin_client: httpx.AsyncClient, kind: str = "github", **overrides: Any) -> Any:
    body = {
        "kind": kind,
        "name": f"{kind}-followups",
        "settings": TRACKER_SETTINGS[kind],
        "credentials": {"token": f"{kind}-token"},
        "webhook_secret": WEBHOOK_SECRET,
    } | overrides
    if kind == "jira":
        body.setdefault("base_url", "https://example.atlassian.net")
    response = await admin_client.post("/v1/integrations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def existing_ids(admin_client: httpx.AsyncClient) -> dict[str, str]:
    """Ids of real resources for every path parameter, so scope checks run against rows that exist."""
    integration = await connect_tracker(admin_client, default=True)
    postmortem = await create_postmortem(admin_client)
    event = await add_event(admin_client, postmortem["id"])
    item = await add_action_item(admin_client, postmortem["id"])  # queues its push to the default tracker
    key = await create_key(admin_client, name="spare", scope="read")
    deliveries = await admin_client.get("/v1/deliveries", params={"action_item_id": item["id"]})
    [delivery] = deliveries.json()["items"]
    subscription = await admin_client.post("/v1/subscriptions", json={"url": "https://127.0.0.1/hooks"})
    assert subscription.status_code == 201, subscription.text
    return {
        "postmortem_id": postmortem["id"],
        "event_id": event["id"],
        "item_id": item["id"],
        "key_id": key["id"],
        "integration_id": integration["id"],
        "delivery_id": delivery["id"],
        "subscription_id": subscription.json()["id"],
    }


@pytest.fixture(params=["missing", "unknown", "not-bearer", "revoked"])
async def bad_credentials(request: pytest.FixtureRequest, admin_client: httpx.AsyncClient) -> dict[str, str]:
    match request.param:
        case "missing":
            return {}
        case "unknown":
            return bearer("pm_" + secrets.token_urlsafe(32))
        case "not-bearer":
            return {"Authorization": "Basic YWRtaW46YWRtaW4="}
    revoked = await create_key(admin_client, name="revoked", scope="admin")
    assert (await admin_client.delete(f"/v1/api-keys/{revoked['id']}")).status_code == 204
    return bearer(revoked["key"])


def test_every_v1_operation_is_documented_as_needing_a_bearer_key(app: FastAPI) -> None:
    assert ADMIN_OPERATIONS.issubset(OPERATIONS)
    assert READ_OPERATIONS.issubset(OPERATIONS)
    assert WEBHOOK in _v1_operations()
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            keyed = path.startswith("/v1/") and (method.upper(), path) != WEBHOOK
            expected = [{"HTTPBearer": []}] if keyed else None
            assert operation.get("security") == expected, f"{method.upper()} {path}"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[_label(*operation) for operation in OPERATIONS])
async def test_every_operation_refuses_a_request_without_a_valid_key(
    anonymous_client: httpx.AsyncClient, bad_credentials: dict[str, str], method: str, path: str
) -> None:
    # Ids of nothing: the answer must be 401, never a 404 that tells what exists.
    url = path.format_map({name: uuid.uuid4() for name in PATH_PARAMETERS})
    response = await anonymous_client.request(method, url, **_body(method, path, bad_credentials))
    problem = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert problem["type"].endswith(":unauthorized")


@pytest.mark.parametrize(("method", "path", "scope"), FORBIDDEN)
async def test_a_key_with_a_narrower_scope_is_forbidden(
    clients: dict[Scope, httpx.AsyncClient], existing_ids: dict[str, str], method: str, path: str, scope: Scope
) -> None:
    response = await clients[scope].request(method, path.format_map(existing_ids), **_body(method, path))
    problem = assert_problem(response, 403)
    assert problem["type"].endswith(":forbidden")
    assert repr(required_scope(method, path).value) in problem["detail"]


@pytest.mark.parametrize(("method", "path", "scope"), ALLOWED)
async def test_a_key_with_the_scope_or_a_wider_one_is_let_through(
    clients: dict[Scope, httpx.AsyncClient], existing_ids: dict[str, str], method: str, path: str, scope: Scope
) -> None:
    response = await clients[scope].request(method, path.format_map(existing_ids), **_body(method, path))
    assert response.status_code not in (401, 403), response.text


async def test_forbidden_requests_change_nothing(reader_client: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    refused = await reader_client.patch(f"/v1/postmortems/{postmortem['id']}", json={"title": "Renamed"})
    assert refused.status_code == 403
    assert (await client.get(f"/v1/postmortems/{postmortem['id']}")).json()["title"] == postmortem["title"]


async def test_admin_creates_a_key_that_is_shown_once(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/v1/api-keys", json={"name": "incident-bot", "scope": "write"})
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/api-keys/{created['id']}"
    assert created["name"] == "incident-bot"
    assert created["scope"] == "write"
    assert created["revoked_at"] is None
    assert created["key"].startswith("pm_")
    assert created["key"].startswith(created["prefix"])
    assert len(created["prefix"]) < len(created["key"])

    listed = await admin_client.get("/v1/api-keys")
    assert listed.status_code == 200
    assert created["key"] not in listed.text
    assert all("key" not in entry for entry in listed.json()["items"])
    assert [entry for entry in listed.json()["items"] if entry["id"] == created["id"]] == [
        {name: value for name, value in created.items() if name != "key"}
    ]


async def test_keys_are_listed_with_their_scopes(admin_client: httpx.AsyncClient) -> None:
    listed = await admin_client.get("/v1/api-keys")
    assert listed.status_code == 200
    assert {(entry["name"], entry["scope"]) for entry in listed.json()["items"]} == {
        ("reader", "read"),
        ("writer", "write"),
        ("admin", "admin"),
    }


async def test_every_new_key_is_different(admin_client: httpx.AsyncClient) -> None:
    first = await create_key(admin_client, name="same")
    second = await create_key(admin_client, name="same")
    assert first["key"] != second["key"]
    assert first["id"] != second["id"]


@pytest.mark.parametrize(
    ("scope", "method", "path", "expected"),
    [
        ("read", "GET", "/v1/postmortems", 200),
        ("read", "POST", "/v1/postmortems", 403),
        ("write", "POST", "/v1/postmortems", 201),
        ("write", "GET", "/v1/api-keys", 403),
        ("admin", "GET", "/v1/api-keys", 200),
    ],
)
async def test_a_created_key_authenticates_with_its_scope(
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    scope: str,
    method: str,
    path: str,
    expected: int,
) -> None:
    key = (await create_key(admin_client, scope=scope))["key"]
    body = {"title": "Queue backlog", "severity": "P3"} if method == "POST" else None
    response = await anonymous_client.request(method, path, headers=bearer(key), json=body)
    assert response.status_code == expected, response.text


async def test_a_revoked_key_is_refused_and_listed_as_revoked(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    created = await create_key(admin_client)
    assert (await anonymous_client.get("/v1/postmortems", headers=bearer(created["key"]))).status_code == 200

    response = await admin_client.delete(f"/v1/api-keys/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""

    refused = await anonymous_client.get("/v1/postmortems", headers=bearer(created["key"]))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    listed = {entry["id"]: entry for entry in (await admin_client.get("/v1/api-keys")).json()["items"]}
    assert listed[created["id"]]["revoked_at"] is not None


async def test_revoking_a_revoked_key_again_changes_nothing(admin_client: httpx.AsyncClient) -> None:
    created = await create_key(admin_client)
    assert (await admin_client.delete(f"/v1/api-keys/{created['id']}")).status_code == 204
    first = {entry["id"]: entry for entry in (await admin_client.get("/v1/api-keys")).json()["items"]}[created["id"]]
    assert (await admin_client.delete(f"/v1/api-keys/{created['id']}")).status_code == 204
    again = {entry["id"]: entry for entry in (await admin_client.get("/v1/api-keys")).json()["items"]}[created["id"]]
    assert again == first


async def test_revoking_an_unknown_key_is_not_found(admin_client: httpx.AsyncClient) -> None:
    assert_problem(await admin_client.delete(f"/v1/api-keys/{uuid.uuid4()}"), 404)


async def test_an_admin_may_revoke_its_own_key(admin_client: httpx.AsyncClient) -> None:
    own = next(entry for entry in (await admin_client.get("/v1/api-keys")).json()["items"] if entry["name"] == "admin")
    assert (await admin_client.delete(f"/v1/api-keys/{own['id']}")).status_code == 204
    assert (await admin_client.get("/v1/api-keys")).status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "", "scope": "write"}, "name", "string_too_short"),
        ({"name": "x" * 101, "scope": "write"}, "name", "string_too_long"),
        ({"name": "bot", "scope": "root"}, "scope", "enum"),
        ({"name": "bot"}, "scope", "missing"),
        ({"scope": "read"}, "name", "missing"),
        ({"name": "bot", "scope": "read", "key": "pm_chosen-by-me"}, "key", "extra_forbidden"),
    ],
)
async def test_an_invalid_key_request_is_rejected(
    admin_client: httpx.AsyncClient, body: dict[str, Any], field: str, code: str
) -> None:
    errors = problem_errors(await admin_client.post("/v1/api-keys", json=body), 422)
    assert [(error["field"], error["code"]) for error in errors] == [(field, code)]
    assert len((await admin_client.get("/v1/api-keys")).json()["items"]) == len(Scope)


async def test_keys_are_stored_hashed(app: FastAPI, admin_client: httpx.AsyncClient) -> None:
    created = await create_key(admin_client)
    async with app.state.engine.connect() as connection:
        rows = (await connection.execute(sa.select(ApiKey.__table__))).mappings().all()
    stored = {str(row["id"]): [str(value) for value in row.values()] for row in rows}
    assert created["id"] in stored
    assert not any(created["key"] in value for values in stored.values() for value in values)
    assert not any(created["key"][len(created["prefix"]) :] in value for value in stored[created["id"]])


def webhook_body() -> bytes:
    """An event no tracker would act on; it carries the send time Linear's signature check requires."""
    return json.dumps({"action": "noop", "webhookTimestamp": int(time.time() * 1000)}).encode()


def signed(kind: str, body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """The signature header each tracker sends: HMAC-SHA256 of the raw body, hex (prefixed sha256= but on Linear)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADERS[kind]: digest if kind == "linear" else f"sha256={digest}"}


async def post_webhook(
    client: httpx.AsyncClient, kind: str, integration_id: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    headers = {"Content-Type": "application/json"} | headers
    return await client.post(f"/v1/webhooks/{kind}/{integration_id}", content=body, headers=headers)


async def received_webhooks(admin_client: httpx.AsyncClient, integration_id: str) -> list[Any]:
    deliveries = (await admin_client.get("/v1/deliveries")).json()["items"]
    return [d for d in deliveries if d["kind"] == "webhook.apply" and d["integration_id"] == integration_id]


KINDS = list(SIGNATURE_HEADERS)


@pytest.mark.parametrize("kind", KINDS)
async def test_the_webhook_accepts_a_call_signed_with_the_integration_secret(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, kind: str
) -> None:
    integration = await connect_tracker(admin_client, kind)
    body = webhook_body()

    response = await post_webhook(anonymous_client, kind, integration["id"], body, signed(kind, body))

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": True, "duplicate": False}
    assert len(await received_webhooks(admin_client, integration["id"])) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("credentials", ["missing", "another secret", "another body", "malformed", "api key"])
async def test_the_webhook_refuses_a_call_without_a_valid_signature(
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    api_keys: dict[Scope, str],
    kind: str,
    credentials: str,
) -> None:
    integration = await connect_tracker(admin_client, kind)
    body = webhook_body()
    headers = {
        "missing": {},
        "another secret": signed(kind, body, "another-secret"),
        "another body": signed(kind, body + b" "),
        "malformed": {SIGNATURE_HEADERS[kind]: "sha256=not-hex"},
        "api key": bearer(api_keys[Scope.ADMIN]),  # a key does not stand in for the signature
    }[credentials]

    response = await post_webhook(anonymous_client, kind, integration["id"], body, headers)

    problem = assert_problem(response, 401)
    assert problem["type"].endswith(":invalid-signature")
    assert "www-authenticate" not in response.headers  # no API key scheme to offer: the signature is the credential
    assert await received_webhooks(admin_client, integration["id"]) == []


async def test_the_webhook_of_an_integration_without_a_secret_is_refused(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    integration = await connect_tracker(admin_client, webhook_secret=None)
    body = webhook_body()

    response = await post_webhook(anonymous_client, "github", integration["id"], body, signed("github", body, ""))

    assert_problem(response, 401)
    assert await received_webhooks(admin_client, integration["id"]) == []


@pytest.mark.parametrize("target", ["unknown id", "another kind"])
async def test_the_webhook_of_an_unknown_integration_is_not_found(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, target: str
) -> None:
    integration = await connect_tracker(admin_client, "github")
    kind, integration_id = ("github", str(uuid.uuid4())) if target == "unknown id" else ("linear", integration["id"])
    body = webhook_body()

    response = await post_webhook(anonymous_client, kind, integration_id, body, signed(kind, body))

    problem = assert_problem(response, 404)
    assert problem["type"].endswith(":not-found")
    assert await received_webhooks(admin_client, integration["id"]) == []
