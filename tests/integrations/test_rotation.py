"""`postmortems secrets rotate`, run as an operator runs it: every stored secret sealed again with the
newest key in one transaction, or, when one opens with no key, nothing changed and one clear line."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from service.auth.models import Scope
from tests.backends import postgres_server_url
from tests.integrations.helpers import (
    OLD_KEY,
    TOKEN,
    WEBHOOK_SECRET,
    app_client,
    connect,
    generated_key,
    get_integration,
    opened_with,
    post_signed_webhook,
    run_cli,
    sha256_key,
    store_raw,
    stored_row,
)
from tests.problems import assert_problem


async def rows(app: FastAPI, integrations: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [
        (row["credentials"], row["webhook_secret"])
        for row in [await stored_row(app, integration["id"]) for integration in integrations]
    ]


async def test_rotate_seals_every_secret_with_the_newest_key(
    app: FastAPI, database_url: str, api_keys: dict[Scope, str], tmp_path: Path
) -> None:
    admin = api_keys[Scope.ADMIN]
    new_key = generated_key(tmp_path)
    async with app_client(database_url, admin, secret_keys=OLD_KEY) as (_, client):
        sealed = await connect(client, "github", name="sealed-with-the-old-key")
        without_webhook_secret = await connect(client, "jira", name="no-webhook-secret", webhook_secret=None)
        legacy = await connect(client, "github", name="sealed-by-an-earlier-release")
        plain = await connect(client, "github", name="stored-as-sent")
        integrations = [sealed, without_webhook_secret, legacy, plain]
        shown_before = [await get_integration(client, integration["id"]) for integration in integrations]
    old = Fernet(sha256_key(OLD_KEY))
    await store_raw(
        app,
        legacy["id"],
        credentials="fernet:" + old.encrypt(TOKEN.encode()).decode(),
        webhook_secret="fernet:" + old.encrypt(WEBHOOK_SECRET.encode()).decode(),
    )
    await store_raw(app, plain["id"], credentials=f"plain:{TOKEN}", webhook_secret=f"plain:{WEBHOOK_SECRET}")
    before = await rows(app, integrations)

    result = run_cli(database_url, "secrets", "rotate", cwd=tmp_path, secret_keys=f"{new_key},{OLD_KEY}")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "re-encrypted 7 secrets with the newest key\n"
    after = await rows(app, integrations)
    assert after[1][1] is None
    for (credentials, webhook_secret), (old_credentials, old_webhook_secret) in zip(after, before, strict=True):
        assert credentials != old_credentials
        assert opened_with(new_key.encode(), credentials) == TOKEN
        if webhook_secret is not None:
            assert webhook_secret != old_webhook_secret
            assert opened_with(new_key.encode(), webhook_secret) == WEBHOOK_SECRET
    async with app_client(database_url, admin, secret_keys=new_key) as (_, client):
        accepted = [
            await post_signed_webhook(client, i["webhook_path"], WEBHOOK_SECRET) for i in (sealed, legacy, plain)
        ]
        shown_after = [await get_integration(client, integration["id"]) for integration in integrations]
    async with app_client(database_url, admin, secret_keys=OLD_KEY) as (_, client):
        with_the_old_key = await post_signed_webhook(client, sealed["webhook_path"], WEBHOOK_SECRET)
    assert [response.status_code for response in accepted] == [202, 202, 202]
    assert shown_after == shown_before  # no version moved: nothing a client sees has changed
    assert_problem(with_the_old_key, 409)
    for output in (result.stdout, result.stderr):
        assert new_key not in output
        assert OLD_KEY not in output


async def test_rotate_changes_nothing_when_a_secret_opens_with_none_of_the_keys(
    app: FastAPI, database_url: str, api_keys: dict[Scope, str], tmp_path: Path
) -> None:
    admin = api_keys[Scope.ADMIN]
    async with app_client(database_url, admin, secret_keys=OLD_KEY) as (_, client):
        openable = await connect(client, "github", name="openable")
    async with app_client(database_url, admin, secret_keys="a-key-nobody-kept") as (_, client):
        lost = await connect(client, "linear", name="lost")
    before = await rows(app, [openable, lost])

    result = run_cli(
        database_url, "secrets", "rotate", cwd=tmp_path, secret_keys=f"{generated_key(tmp_path)},{OLD_KEY}"
    )

    assert result.returncode == 1
    assert result.stdout == ""
    last_line = result.stderr.splitlines()[-1]
    assert last_line.startswith(f"nothing was re-encrypted: integration 'lost' ({lost['id']}), credentials: ")
    assert "none of the keys in use opens this secret" in last_line
    assert await rows(app, [openable, lost]) == before  # the one that opened was rolled back with the rest


@pytest.mark.skipif(postgres_server_url() is None, reason="needs POSTMORTEMS_TEST_DATABASE_URL (PostgreSQL)")
def test_rotate_without_a_key_on_postgresql_says_which_setting_to_set(database_url: str, tmp_path: Path) -> None:
    result = run_cli(database_url, "secrets", "rotate", cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "nothing was re-encrypted: there is no key to encrypt with: set POSTMORTEMS_SECRET_KEYS"
    )


@pytest.mark.skipif(postgres_server_url() is not None, reason="the SQLite default: a key file beside the database")
async def test_rotate_on_sqlite_without_a_key_seals_with_the_key_file(
    app: FastAPI, admin_client: httpx.AsyncClient, tmp_path: Path, database_url: str
) -> None:
    """How an embedded database of an earlier release, with secrets stored as sent, gets them encrypted."""
    integration = await connect(admin_client, "github")
    await store_raw(app, integration["id"], credentials=f"plain:{TOKEN}", webhook_secret=f"plain:{WEBHOOK_SECRET}")

    result = run_cli(database_url, "secrets", "rotate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "re-encrypted 2 secrets with the newest key\n"
    row = await stored_row(app, integration["id"])
    assert row["credentials"].startswith("fernet:")
    assert app.state.secrets.box.open(row["credentials"]) == TOKEN  # the app's key: the key file's
    assert (await post_signed_webhook(admin_client, integration["webhook_path"], WEBHOOK_SECRET)).status_code == 202
