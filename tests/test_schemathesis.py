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

import hypothesis
import pytest
import requests
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import col

from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import ApiKey, Scope
from service.core.openapi import export_openapi
from service.db import make_engine
from service.migrate import upgrade
from service.outbox.models import Delivery, DeliveryStatus
from service.settings import Settings
from tests.backends import scratch_database
from tests.database import committed_session
from tests.factories import SUBMITTABLE_STANDARD, T0

schema = schemathesis.openapi.from_dict(json.loads(export_openapi(create_app(Settings(database_url="sqlite://")))))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

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

    def __init__(self, app: FastAPI, database_url: str) -> None:
        self.app = app
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
        # Through the same in-process client as schemathesis, so the app's connection pool serves one event loop.
        with asgi.get_client(self.app) as client:
            client.headers.update(self.headers)
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
        }


def _created(response: requests.Response) -> dict[str, Any]:
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
        app = create_app(Settings(database_url=url))
        asyncio.run(_store_admin_key(url))
        yield Target(app, url)
        asgi.shutdown_lifespans()  # closes the app's connections before its database is dropped


@schema.parametrize()
@hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None)
def test_api(case: schemathesis.Case, target: Target) -> None:
    target.point_at_seeds(case)
    response = case.call(app=target.app)
    case.validate_response(response, checks=CHECKS)
    if response.status_code == 204:
        target.forget_seeds()
