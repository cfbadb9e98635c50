"""Where the keys come from: the key file beside a SQLite database, made on first start and kept;
an in-memory database's own key; on PostgreSQL no key, so secrets are refused; plaintext only when
allowed. The start-up log names the source, never the key."""

import asyncio
import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import Scope
from service.db import make_engine
from service.integrations.keys import secret_box
from service.integrations.secrets import FERNET_KEY
from service.migrate import upgrade
from service.settings import Settings
from tests.backends import postgres_server_url
from tests.database import committed_session
from tests.integrations.helpers import (
    TOKEN,
    WEBHOOK_SECRET,
    app_client,
    body_for,
    connect,
    post_signed_webhook,
    stored_row,
    url,
)
from tests.problems import assert_problem
from tests.servers import serving


async def _admin_key(database_url: str) -> str:
    engine = make_engine(database_url, pool_size=None)
    try:
        async with committed_session(engine) as session:
            _, key = await auth_service.create(session, name="ops", scope=Scope.ADMIN)
    finally:
        await engine.dispose()
    return key


async def test_serve_makes_a_key_file_beside_the_sqlite_database_on_first_start_and_keeps_it(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'incidents.db'}"
    key_file = tmp_path / "incidents.db.key"
    await asyncio.to_thread(upgrade, database_url)  # it runs an event loop of its own
    headers = {"Authorization": f"Bearer {await _admin_key(database_url)}"}

    with serving(database_url, tmp_path) as first:
        made_at_start = key_file.exists()
        async with httpx.AsyncClient(base_url=first.base_url, headers=headers, trust_env=False) as http:
            created = await http.post("/v1/integrations", json=body_for("github"))
            listed = await http.get("/v1/integrations")
    key = key_file.read_text().strip()
    with serving(database_url, tmp_path) as second:
        async with httpx.AsyncClient(base_url=second.base_url, trust_env=False) as http:
            accepted = await post_signed_webhook(http, created.json()["webhook_path"], WEBHOOK_SECRET)

    assert made_at_start
    assert created.status_code == 201, created.text
    assert FERNET_KEY.fullmatch(key)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == key  # kept: the second start opened the secret with it
    assert accepted.status_code == 202, accepted.text
    assert f"the key file {key_file} (made now" in first.log()
    assert f"the key file {key_file} (beside the database)" in second.log()
    for text in (first.log(), second.log(), created.text, listed.text, accepted.text):
        assert key not in text


def test_processes_starting_together_agree_on_one_key_file(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'incidents.db'}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        boxes = list(pool.map(lambda _: secret_box(settings), range(8)))

    sealed = [box.seal(f"token-{n}", field="credentials.token") for n, box in enumerate(boxes)]
    assert all(box.open(value) == f"token-{n}" for box in boxes for n, value in enumerate(sealed))
    assert [path.name for path in tmp_path.iterdir()] == ["incidents.db.key"]  # no draft left behind


def test_a_key_file_that_holds_no_key_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "incidents.db.key").write_text("\n")

    with pytest.raises(RuntimeError, match="holds no key: restore it from the backup"):
        secret_box(Settings(database_url=f"sqlite:///{tmp_path / 'incidents.db'}"))


def test_a_key_file_others_can_read_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'incidents.db'}")
    secret_box(settings)
    (tmp_path / "incidents.db.key").chmod(0o644)

    with caplog.at_level(logging.WARNING):
        secret_box(settings)

    assert "can be read by other users: chmod 600 it" in caplog.text


def test_an_in_memory_database_gets_a_key_of_its_own_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO)
    one, other = secret_box(Settings(database_url="sqlite://")), secret_box(Settings(database_url="sqlite://"))

    sealed = one.seal(TOKEN, field="credentials.token")

    assert sealed.startswith("fernet:")
    assert one.open(sealed) == TOKEN
    with pytest.raises(ValueError, match="none of the keys in use"):
        other.open(sealed)
    assert list(tmp_path.iterdir()) == []
    assert "a key made for this process" in caplog.text


def test_building_the_app_makes_no_key_file(tmp_path: Path) -> None:
    """Only a start (or a first request) does: `postmortems openapi` builds the app and leaves no file behind."""
    create_app(Settings(database_url=f"sqlite:///{tmp_path / 'incidents.db'}"))

    assert list(tmp_path.iterdir()) == []


async def test_plaintext_is_stored_only_when_allowed_and_no_key_is_set(
    database_url: str, api_keys: dict[Scope, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    admin = api_keys[Scope.ADMIN]
    async with app_client(database_url, admin, allow_plaintext_secrets=True) as (plain, client):
        integration = await connect(client, "github")
        accepted = await post_signed_webhook(client, integration["webhook_path"], WEBHOOK_SECRET)
        stored = await stored_row(plain, integration["id"])
    async with app_client(database_url, admin, allow_plaintext_secrets=True, secret_keys="a-key") as (keyed, client):
        other = await connect(client, "linear")
        sealed = await stored_row(keyed, other["id"])

    assert accepted.status_code == 202, accepted.text
    assert (stored["credentials"], stored["webhook_secret"]) == (f"plain:{TOKEN}", f"plain:{WEBHOOK_SECRET}")
    assert "stored as sent: POSTMORTEMS_ALLOW_PLAINTEXT_SECRETS is true" in caplog.text
    assert sealed["credentials"].startswith("fernet:")  # a key wins over the permission


@pytest.mark.skipif(postgres_server_url() is None, reason="needs POSTMORTEMS_TEST_DATABASE_URL (PostgreSQL)")
async def test_on_postgresql_without_a_key_secrets_are_refused_and_everything_else_works(
    database_url: str,
    api_keys: dict[Scope, str],
    admin_client: httpx.AsyncClient,
    app: FastAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    stored = await connect(admin_client, "github", name="stored-with-a-key")
    before = await stored_row(app, stored["id"])

    async with app_client(database_url, api_keys[Scope.ADMIN]) as (_, client):
        refused = await client.post("/v1/integrations", json=body_for("linear"))
        listed = await client.get("/v1/integrations")
        new_secret = await client.patch(url(stored), json={"webhook_secret": "whsec-new"})
        renamed = await client.patch(url(stored), json={"name": "renamed"})
        webhook = await post_signed_webhook(client, stored["webhook_path"], WEBHOOK_SECRET)

    problem = assert_problem(refused, 422)
    assert problem["type"] == "urn:postmortems:problem:secret-key-missing"
    assert "set POSTMORTEMS_SECRET_KEYS" in problem["detail"]
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("credentials.token", "secret_key_missing")]
    [error] = assert_problem(new_secret, 422)["errors"]
    assert (error["field"], error["code"]) == ("webhook_secret", "secret_key_missing")
    assert [item["name"] for item in listed.json()["items"]] == ["stored-with-a-key"]  # nothing was stored
    assert renamed.status_code == 200, renamed.text
    after = await stored_row(app, stored["id"])
    assert (after["credentials"], after["webhook_secret"]) == (before["credentials"], before["webhook_secret"])
    # A stored secret cannot be opened without its key, and says which setting is missing.
    assert (
        "no key is set: add the key it was stored with to POSTMORTEMS_SECRET_KEYS"
        in assert_problem(webhook, 409)["detail"]
    )
    assert "secrets are refused until POSTMORTEMS_SECRET_KEYS is set" in caplog.text


def test_the_keys_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTMORTEMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("POSTMORTEMS_SECRET_KEYS", "newest, older,")
    assert Settings().encryption_keys() == ["newest", "older"]

    monkeypatch.delenv("POSTMORTEMS_SECRET_KEYS")
    monkeypatch.setenv("POSTMORTEMS_SECRET_KEY", "only, one")
    assert Settings().encryption_keys() == ["only, one"]

    monkeypatch.setenv("POSTMORTEMS_SECRET_KEYS", "newest")
    with pytest.raises(ValidationError, match="set POSTMORTEMS_SECRET_KEYS or POSTMORTEMS_SECRET_KEY, not both"):
        Settings()
