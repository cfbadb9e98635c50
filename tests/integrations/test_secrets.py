"""How secrets are sealed: keys newest first (the first seals, any opens); a generated key used as it
is, any other string stretched with HKDF-SHA256; and what earlier releases stored still opens."""

import base64
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import FastAPI

from service.auth.models import Scope
from service.integrations.secrets import FERNET_KEY
from tests.integrations.helpers import (
    NEW_KEY,
    OLD_KEY,
    TOKEN,
    WEBHOOK_SECRET,
    app_client,
    connect,
    generated_key,
    opened_with,
    post_signed_webhook,
    sha256_key,
    store_raw,
    stored_row,
)
from tests.problems import assert_problem


async def test_the_first_key_seals_and_any_key_opens(database_url: str, api_keys: dict[Scope, str]) -> None:
    admin = api_keys[Scope.ADMIN]
    async with app_client(database_url, admin, secret_keys=OLD_KEY) as (_, client):
        before = await connect(client, "github", name="before")
    async with app_client(database_url, admin, secret_keys=f"{NEW_KEY},{OLD_KEY}") as (_, client):
        both_open_old = await post_signed_webhook(client, before["webhook_path"], WEBHOOK_SECRET)
        after = await connect(client, "github", name="after")
    async with app_client(database_url, admin, secret_keys=NEW_KEY) as (_, client):
        new_opens_new = await post_signed_webhook(client, after["webhook_path"], WEBHOOK_SECRET)
        new_opens_old = await post_signed_webhook(client, before["webhook_path"], WEBHOOK_SECRET)

    assert both_open_old.status_code == 202, both_open_old.text
    assert new_opens_new.status_code == 202, new_opens_new.text
    assert "none of the keys in use opens this secret" in assert_problem(new_opens_old, 409)["detail"]


async def test_a_generated_key_is_used_as_it_is_and_any_other_is_stretched_with_hkdf(
    database_url: str, api_keys: dict[Scope, str], tmp_path: Path
) -> None:
    """The derivation is part of what is stored: changing it would lose every secret sealed before."""
    key = generated_key(tmp_path)
    admin = api_keys[Scope.ADMIN]
    async with app_client(database_url, admin, secret_keys=key) as (app, client):
        generated = await stored_row(app, (await connect(client, "github", name="generated"))["id"])
    async with app_client(database_url, admin, secret_keys=OLD_KEY) as (app, client):
        passphrase = await stored_row(app, (await connect(client, "linear", name="passphrase"))["id"])

    assert FERNET_KEY.fullmatch(key)
    assert key != generated_key(tmp_path)
    assert opened_with(key.encode(), generated["credentials"]) == TOKEN
    stretch = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"postmortems/secret-box/v1",
        info=b"postmortems: tracker credentials and webhook secrets at rest",
    )
    hkdf_key = base64.urlsafe_b64encode(stretch.derive(OLD_KEY.encode()))
    assert opened_with(hkdf_key, passphrase["credentials"]) == TOKEN
    assert opened_with(hkdf_key, passphrase["webhook_secret"]) == WEBHOOK_SECRET


async def test_what_earlier_releases_stored_still_opens(
    app: FastAPI, admin_client: httpx.AsyncClient, database_url: str, api_keys: dict[Scope, str]
) -> None:
    legacy = await connect(admin_client, "github", name="sealed-by-sha256")
    plain = await connect(admin_client, "github", name="stored-as-sent")
    old = Fernet(sha256_key(OLD_KEY))
    await store_raw(
        app,
        legacy["id"],
        credentials="fernet:" + old.encrypt(TOKEN.encode()).decode(),
        webhook_secret="fernet:" + old.encrypt(WEBHOOK_SECRET.encode()).decode(),
    )
    await store_raw(app, plain["id"], credentials=f"plain:{TOKEN}", webhook_secret=f"plain:{WEBHOOK_SECRET}")

    async with app_client(database_url, api_keys[Scope.ADMIN], secret_keys=f"{NEW_KEY},{OLD_KEY}") as (keyed, client):
        legacy_webhook = await post_signed_webhook(client, legacy["webhook_path"], WEBHOOK_SECRET)
        plain_webhook = await post_signed_webhook(client, plain["webhook_path"], WEBHOOK_SECRET)
        legacy_token = keyed.state.secrets.box.open((await stored_row(keyed, legacy["id"]))["credentials"])

    assert legacy_webhook.status_code == 202, legacy_webhook.text
    assert plain_webhook.status_code == 202, plain_webhook.text
    assert legacy_token == TOKEN
