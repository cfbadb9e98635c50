"""Every operation of the OpenAPI document, exercised with requests schemathesis generates from it.

Each operation gets its own freshly seeded postmortem (with a timeline event, an action item and a
spare API key) and tracker integration (the default one, so the item's push is queued as a delivery),
moved to the state in which the operation can succeed. Path parameters generated as valid UUIDs are
pointed at those resources so requests reach real rows instead of 404s; malformed ones are sent as
generated. Requests carry an admin key unless schemathesis leaves it out on purpose. The tracker
webhook takes no key: generated calls are unsigned, so the seeded integration answers them 401.
"""

import asyncio
import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlmodel import col

from bench.processes import free_port_block
from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import ApiKey, Scope
from service.core.openapi import export_openapi
from service.db import make_engine
from service.migrate import upgrade
from service.outbox.models import Delivery, DeliveryStatus
from service.settings import Settings
from tests.backends import scratch_database, secret_settings
from tests.database import committed_session
from tests.factories import SUBMITTABLE_STANDARD, T0
from tests.servers import serving_in_thread

schema = schemathesis.openapi.from_dict(json.loads(export_openapi(create_app(Settings(database_url="sqlite://")))))
PORT = free_port_block(1)  # below the ephemeral range: no client socket takes it before the server binds
schema.config.update(base_url=f"http://127.0.0.1:{PORT}")  # also where checks send requests of their own
schema.config.generation.update(allow_x00=False)  # text holds no NUL (PostgreSQL cannot store it), as the API says

# The workflow steps after which an operation on the seeded postmortem can succeed.
STEPS_BEFORE = {
    "/approve": ["submit"],
    "/request-changes": ["submit"],
    "/complete": ["submit", "approve"],
    "/reopen": ["submit", "approve", "complete"],
}
INTEGRATION = {
    "kind": "github",
    "settings": {"owner": "acme", "repo": "incidents"},
    "credentials": {"token": "github_pat_seed"},
    "webhook_secret": "whsec-seed",
    "default": True,
}


# Known before the database exists: schemathesis builds some of its cases when tests are collected.
ADMIN_KEY = auth_service.KEY_PREFIX + secrets.token_urlsafe(32)


@schema.auth(refresh_interval=None)
class AdminKey:
    """Authenticates generated requests, except those in which schemathesis deliberately leaves the key out."""

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        return ADMIN_KEY

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class Target:
    """The application under test, its admin key, and the resources generated requests point at."""

    def __init__(self, base_url: str, database_url: str) -> None:
        self.base_url = base_url
        self.database_url = database_url
        self.headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        self._operation: str | None = None
        self._ids: dict[str, str] = {}

    def point_at_seeds(self, case: schemathesis.Case) -> None:
        if not case.path_parameters:
            return
        if self._operation != case.operation.label:
            self._ids = self._seed(case.operation.path)
            self._operation = case.operation.label
        case.path_parameters = {
            name: self._ids.get(name, value) if _is_uuid(value) else value
            for name, value in case.path_parameters.items()
        }

    def forget_seeds(self) -> None:
        """Something was deleted: seed again before the next request."""
        self._operation = None

    def _seed(self, operation_path: str) -> dict[str, str]:
        with httpx.Client(base_url=self.base_url, headers=self.headers, trust_env=False) as client:
            name = f"seed-{uuid.uuid4().hex[:12]}"  # integration names are unique; a seed may outlive its operation
            integration = _created(client.post("/v1/integrations", json=INTEGRATION | {"name": name}))
            postmortem = _created(
                client.post("/v1/postmortems", json={"title": "Seed", "severity": "P2"} | SUBMITTABLE_STANDARD)
            )
            path = f"/v1/postmortems/{postmortem['id']}"
            event = _created(client.post(f"{path}/timeline", json={"occurred_at": T0, "description": "Alert fired"}))
            item = _created(
                client.post(
                    f"{path}/action-items",
                    json={"title": "Fix it", "owner": "@team", "priority": "P1", "due_date": "2099-01-31"},
                )
            )
            key = _created(client.post("/v1/api-keys", json={"name": "spare", "scope": "read"}))
            subscription = _created(client.post("/v1/subscriptions", json={"url": "https://127.0.0.1/hooks"}))
            deliveries = client.get("/v1/deliveries", params={"action_item_id": item["id"]})
            assert deliveries.status_code == 200, deliveries.text
            [delivery] = deliveries.json()["items"]
            for suffix, steps in STEPS_BEFORE.items():
                if operation_path.endswith(suffix):
                    for step in steps:
                        response = client.post(f"{path}/{step}")
                        assert response.status_code == 200, response.text
        if operation_path.endswith("/retry"):
            asyncio.run(_give_up(self.database_url, delivery["id"]))
        return {
            "postmortem_id": postmortem["id"],
            "event_id": event["id"],
            "item_id": item["id"],
            "key_id": key["id"],
            "integration_id": integration["id"],
            "delivery_id": delivery["id"],
            "subscription_id": subscription["id"],
        }


STATEFUL_HEADERS = {"if-match", "idempotency-key"}
"""A stale `If-Match` is refused with 412, and a key already used for another request with 422."""
REFERENCES = ("integration_id", "related_postmortem_ids")
"""Body fields naming other resources: a generated id names none that exists (422)."""
RULES_NO_SCHEMA_STATES = {
    "GET /v1/stats": "`from` before `to`, and not in the future",
    "PATCH /v1/postmortems/{postmortem_id}": "incident times in order, the stored ones included",
    "GET /v1/postmortems/{postmortem_id}/export": "the public report is Markdown only",
    "POST /v1/postmortems/import": "a Markdown document's structure",
    "POST /v1/postmortems/{postmortem_id}/timeline/import": "each source's export format, and the media type it takes",
    "POST /v1/integrations": "the settings each tracker kind needs",
    "PATCH /v1/integrations/{integration_id}": "the settings each tracker kind needs",
    "POST /v1/subscriptions": "an endpoint whose host resolves, to an address that may be sent to",
    "PATCH /v1/subscriptions/{subscription_id}": "an endpoint whose host resolves, to an address that may be sent to",
}


def _refused_by_state(case: schemathesis.Case) -> bool:
    """Whether a request valid by the schema may still be refused, so `positive_data_acceptance` does not apply.

    Cursors (the change feed's `after` too) are opaque (a generated one was never returned by the API),
    and a search `q` of only punctuation and common words has nothing to search for. A subscription's
    endpoint must resolve, and to an address that may be sent to. A near miss needs its potential
    (`near_miss_potential` is nullable for the others).
    """
    query = case.query or {}
    body = case.body if isinstance(case.body, dict) else {}
    return (
        "cursor" in query
        or "after" in query
        or "q" in query
        or any(name.lower() in STATEFUL_HEADERS for name in case.headers or {})
        or any(body.get(field) for field in REFERENCES)
        or case.operation.label in RULES_NO_SCHEMA_STATES
        or (body.get("near_miss") is True and body.get("near_miss_potential") is None)
    )


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


async def _store_admin_key(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=None)
    try:
        async with committed_session(engine) as session:
            key_hash = auth_service.hash_key(ADMIN_KEY)
            session.add(ApiKey(name="admin", scope=Scope.ADMIN, prefix=ADMIN_KEY[:10], key_hash=key_hash))
    finally:
        await engine.dispose()


async def _give_up(database_url: str, delivery_id: str) -> None:
    """Make the delivery dead, as the worker leaves one that ran out of attempts, so it can be retried."""
    engine = make_engine(database_url, pool_size=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.update(Delivery)
                .where(col(Delivery.id) == uuid.UUID(delivery_id))
                .values(status=DeliveryStatus.DEAD, attempts=12, last_error="HTTP 503 from the tracker")
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with scratch_database(tmp_path_factory.mktemp("schemathesis")) as url:
        upgrade(url)
        app = create_app(Settings(database_url=url, **secret_settings(url)))
        asyncio.run(_store_admin_key(url))
        with serving_in_thread(app, PORT) as base_url:
            yield Target(base_url, url)


@schema.parametrize()
@hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None)
def test_api(case: schemathesis.Case, target: Target) -> None:
    target.point_at_seeds(case)
    response = case.call()
    case.validate_response(response, excluded_checks=[positive_data_acceptance] if _refused_by_state(case) else [])
    if response.status_code == 204:
        target.forget_seeds()
