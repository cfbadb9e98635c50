"""What the integration tests share: request bodies, the stored row, signed webhooks, apps with other settings."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi import FastAPI

from service.app import create_app
from service.integrations.models import Integration
from service.settings import Settings
from tests.database import committed_session
from tests.servers import POSTMORTEMS

TOKEN = "tok-3f9a1c7e5b2d4a6c8e0f"
WEBHOOK_SECRET = "whsec-7d2b9e4f1a6c3e8b"
SETTINGS: dict[str, dict[str, str]] = {
    "github": {"owner": "acme", "repo": "incident-followups"},
    "linear": {"team_id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d"},
    "jira": {"project_key": "OPS", "email": "automation@example.com"},
}
JIRA_SITE = "https://acme.atlassian.net"
KINDS = list(SETTINGS)
OLD_KEY = "the-key-before-the-rotation"
NEW_KEY = "the-key-after-the-rotation"


def body_for(kind: str, /, **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": kind,
        "name": f"{kind}-followups",
        "settings": SETTINGS[kind],
        "credentials": {"token": TOKEN},
        "webhook_secret": WEBHOOK_SECRET,
    }
    if kind == "jira":
        body["base_url"] = JIRA_SITE
    return body | overrides


async def connect(client: httpx.AsyncClient, kind: str = "github", /, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/integrations", json=body_for(kind, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def url(integration: dict[str, Any]) -> str:
    return f"/v1/integrations/{integration['id']}"


async def get_integration(client: httpx.AsyncClient, integration_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/integrations/{integration_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def stored_row(app: FastAPI, integration_id: str) -> dict[str, Any]:
    """The integration's row as the database holds it."""
    table = Integration.__table__
    async with app.state.engine.connect() as connection:
        statement = sa.select(table).where(table.c.id == uuid.UUID(integration_id))
        return dict((await connection.execute(statement)).mappings().one())


async def post_signed_webhook(client: httpx.AsyncClient, path: str, secret: str) -> httpx.Response:
    """A GitHub ping, signed as GitHub signs it."""
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
    }
    return await client.post(path, content=body, headers=headers)


@asynccontextmanager
async def app_client(
    database_url: str, api_key: str, **settings: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service with these settings on the test database, and a client of it with this API key."""
    app = create_app(Settings(database_url=database_url, **settings))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {api_key}"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as client:
            yield app, client
    finally:
        await app.state.engine.dispose()


def run_cli(database_url: str, *args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`postmortems ARGS...` as an operator runs it, on this database; `settings` are `POSTMORTEMS_*` variables
    named without the prefix (`secret_keys="new,old"`), and no other `POSTMORTEMS_*` variable is passed."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("POSTMORTEMS_")}
    environment |= {"POSTMORTEMS_DATABASE_URL": database_url}
    environment |= {f"POSTMORTEMS_{name.upper()}": value for name, value in settings.items()}
    return subprocess.run(  # noqa: S603 - our own console script
        [POSTMORTEMS, *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def opened_with(key: bytes, stored: str) -> str:
    assert stored.startswith("fernet:")
    return Fernet(key).decrypt(stored.removeprefix("fernet:").encode()).decode()


def sha256_key(key: str) -> bytes:
    """How releases before HKDF made a Fernet key of a string."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())


async def store_raw(app: FastAPI, integration_id: str, **columns: Any) -> None:
    """Overwrite stored columns as another release would have written them."""
    table = Integration.__table__
    async with committed_session(app.state.engine) as session:
        await session.exec(sa.update(table).where(table.c.id == uuid.UUID(integration_id)).values(**columns))


def generated_key(tmp_path: Path) -> str:
    result = run_cli("sqlite://", "secrets", "generate-key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [key] = result.stdout.splitlines()
    return key
