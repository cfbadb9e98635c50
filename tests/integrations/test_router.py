"""Tracker integrations: CRUD per kind, per-kind settings, write-only secrets sealed at rest, one default."""

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.auth.models import Scope
from tests.factories import add_action_item, create_postmortem
from tests.integrations.helpers import (
    JIRA_SITE,
    KINDS,
    SETTINGS,
    TOKEN,
    WEBHOOK_SECRET,
    app_client,
    body_for,
    connect,
    get_integration,
    post_signed_webhook,
    stored_row,
    url,
)
from tests.problems import UNKNOWN_ID, assert_invalid, assert_problem, problem_errors

# -- CRUD ---------------------------------------------------------------------------------------------------------

EXPECTED = {
    "github": {"base_url": "https://api.github.com", "settings": SETTINGS["github"]},
    "linear": {"base_url": "https://api.linear.app", "settings": SETTINGS["linear"]},
    "jira": {
        "base_url": JIRA_SITE,
        "settings": SETTINGS["jira"]
        | {"issue_type": "Task", "wont_do_resolutions": ["Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce"]},
    },
}


@pytest.mark.parametrize("kind", KINDS)
async def test_crud_round_trip(admin_client: httpx.AsyncClient, kind: str) -> None:
    response = await admin_client.post("/v1/integrations", json=body_for(kind))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/integrations/{created['id']}"
    assert {name: created[name] for name in ("kind", "name", "push_policy", "status_map", "default")} == {
        "kind": kind,
        "name": f"{kind}-followups",
        "push_policy": "on_create",
        "status_map": {},
        "default": False,
    }
    assert {name: created[name] for name in ("base_url", "settings")} == EXPECTED[kind]
    assert created["has_webhook_secret"] is True
    assert created["webhook_path"] == f"/v1/webhooks/{kind}/{created['id']}"

    fetched = await admin_client.get(url(created))
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert fetched.headers["etag"] == response.headers["etag"]
    assert (await admin_client.get("/v1/integrations")).json()["items"] == [created]

    changes = {"name": f"{kind}-renamed", "push_policy": "on_complete", "status_map": {"blocked": "in_progress"}}
    patched = await admin_client.patch(url(created), json=changes)
    assert patched.status_code == 200, patched.text
    updated = patched.json()
    assert {name: updated[name] for name in changes} == changes
    assert updated["version"] > created["version"]
    assert patched.headers["etag"] == (await admin_client.get(url(created))).headers["etag"] != response.headers["etag"]
    assert {name: updated[name] for name in ("kind", "base_url", "settings", "has_webhook_secret")} == {
        name: created[name] for name in ("kind", "base_url", "settings", "has_webhook_secret")
    }
    assert await get_integration(admin_client, created["id"]) == updated

    deleted = await admin_client.delete(url(created))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(await admin_client.get(url(created)), 404)
    assert (await admin_client.get("/v1/integrations")).json()["items"] == []


async def test_integrations_are_listed_in_creation_order(admin_client: httpx.AsyncClient) -> None:
    created = [await connect(admin_client, kind) for kind in KINDS]
    assert (await admin_client.get("/v1/integrations")).json()["items"] == created


async def test_a_given_base_url_is_kept_without_its_trailing_slash(admin_client: httpx.AsyncClient) -> None:
    created = await connect(admin_client, "github", base_url="https://github.example.com/api/v3/")
    assert created["base_url"] == "https://github.example.com/api/v3"


async def test_jira_needs_its_site_url(admin_client: httpx.AsyncClient) -> None:
    body = body_for("jira")
    del body["base_url"]
    assert_invalid(await admin_client.post("/v1/integrations", json=body), "base_url")
    assert (await admin_client.get("/v1/integrations")).json()["items"] == []


@pytest.mark.parametrize("kind", KINDS)
async def test_clearing_the_base_url_restores_the_default_or_is_refused(
    admin_client: httpx.AsyncClient, kind: str
) -> None:
    integration = await connect(admin_client, kind, base_url="https://tracker.example.com")

    response = await admin_client.patch(url(integration), json={"base_url": None})

    if kind == "jira":
        assert_invalid(response, "base_url")
        assert (await get_integration(admin_client, integration["id"]))["base_url"] == "https://tracker.example.com"
    else:
        assert response.status_code == 200, response.text
        assert response.json()["base_url"] == EXPECTED[kind]["base_url"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_unknown_integration_is_not_found(admin_client: httpx.AsyncClient, method: str) -> None:
    body = {"name": "renamed"} if method == "PATCH" else None
    assert_problem(await admin_client.request(method, f"/v1/integrations/{UNKNOWN_ID}", json=body), 404)


# -- validation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "kind_settings", "field"),
    [
        ("github", {"owner": "acme"}, "settings.repo"),
        ("github", {"repo": "incident-followups"}, "settings.owner"),
        ("github", SETTINGS["github"] | {"project_key": "OPS"}, "settings.project_key"),
        ("github", {"owner": "acme", "repo": ".."}, "settings.repo"),
        ("linear", {}, "settings.team_id"),
        ("linear", SETTINGS["linear"] | {"team": "SRE"}, "settings.team"),
        ("jira", {"email": "automation@example.com"}, "settings.project_key"),
        ("jira", {"project_key": "OPS"}, "settings.email"),
        ("jira", SETTINGS["jira"] | {"project_key": "ops"}, "settings.project_key"),
        ("jira", SETTINGS["jira"] | {"owner": "acme"}, "settings.owner"),
    ],
)
async def test_settings_are_validated_per_kind(
    admin_client: httpx.AsyncClient, kind: str, kind_settings: dict[str, str], field: str
) -> None:
    response = await admin_client.post("/v1/integrations", json=body_for(kind, settings=kind_settings))

    assert_invalid(response, field)
    assert (await admin_client.get("/v1/integrations")).json()["items"] == []


async def test_an_unknown_setting_is_reported_as_unknown(admin_client: httpx.AsyncClient) -> None:
    body = body_for("linear", settings=SETTINGS["linear"] | {"team": "SRE"})
    [error] = problem_errors(await admin_client.post("/v1/integrations", json=body), 422)
    assert (error["field"], error["code"]) == ("settings.team", "extra_forbidden")


async def test_settings_are_validated_on_update_too(admin_client: httpx.AsyncClient) -> None:
    integration = await connect(admin_client, "github")

    response = await admin_client.patch(url(integration), json={"settings": {"owner": "acme", "branch": "main"}})

    assert_invalid(response, "settings.repo", "settings.branch")
    assert await get_integration(admin_client, integration["id"]) == integration


async def test_settings_are_replaced_as_a_whole(admin_client: httpx.AsyncClient) -> None:
    integration = await connect(admin_client, "jira")

    response = await admin_client.patch(url(integration), json={"settings": {"project_key": "SRE", "email": "a@b.c"}})

    assert response.status_code == 200, response.text
    assert response.json()["settings"] == EXPECTED["jira"]["settings"] | {"project_key": "SRE", "email": "a@b.c"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "trello"}, "kind"),
        ({"name": ""}, "name"),
        ({"base_url": "ftp://tracker.example.com"}, "base_url"),
        ({"credentials": {}}, "credentials.token"),
        ({"credentials": {"token": ""}}, "credentials.token"),
        ({"credentials": {"token": TOKEN, "user": "bot"}}, "credentials.user"),
        ({"webhook_secret": ""}, "webhook_secret"),
        ({"push_policy": "on_review"}, "push_policy"),
        ({"status_map": {"blocked": "paused"}}, "status_map.blocked"),
        ({"default": "maybe"}, "default"),
        ({"secret": WEBHOOK_SECRET}, "secret"),
    ],
)
async def test_an_invalid_integration_is_rejected(
    admin_client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await admin_client.post("/v1/integrations", json=body_for("github", **overrides))

    assert_invalid(response, field)
    assert (await admin_client.get("/v1/integrations")).json()["items"] == []


async def test_credentials_are_required(admin_client: httpx.AsyncClient) -> None:
    body = body_for("github")
    del body["credentials"]
    assert_invalid(await admin_client.post("/v1/integrations", json=body), "credentials")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "linear"}, "kind"),
        ({"name": None}, "name"),
        ({"credentials": None}, "credentials"),
        ({"default": None}, "default"),
        ({"push_policy": None}, "push_policy"),
    ],
)
async def test_an_invalid_update_is_rejected_and_changes_nothing(
    admin_client: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    integration = await connect(admin_client, "github")

    assert_invalid(await admin_client.patch(url(integration), json=changes), field)
    assert await get_integration(admin_client, integration["id"]) == integration


# -- secrets ------------------------------------------------------------------------------------------------------

ROTATED_TOKEN = "tok-rotated-8c1e5a9f2b7d"
ROTATED_SECRET = "whsec-rotated-4e6a0c2f8b1d"


async def test_secrets_are_never_returned_nor_logged(
    admin_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = (TOKEN, WEBHOOK_SECRET, ROTATED_TOKEN, ROTATED_SECRET)
    created = await admin_client.post("/v1/integrations", json=body_for("github"))
    assert created.status_code == 201, created.text
    integration_url = created.headers["location"]
    rotation = {"credentials": {"token": ROTATED_TOKEN}, "webhook_secret": ROTATED_SECRET}
    rotated = await admin_client.patch(integration_url, json=rotation)
    assert rotated.status_code == 200, rotated.text
    fetched = await admin_client.get(integration_url)
    listed = await admin_client.get("/v1/integrations")

    for response, shown in ((created, created.json()), (rotated, rotated.json()), (fetched, fetched.json())):
        assert not any(secret in response.text for secret in secrets)
        assert not set(shown) & {"credentials", "token", "webhook_secret"}
    assert not any(secret in listed.text for secret in secrets)
    assert listed.json()["items"] == [fetched.json()]
    assert caplog.records  # the requests were logged, at every level
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    assert not any(secret in logged for secret in secrets)


async def test_a_rejected_secret_is_not_echoed(admin_client: httpx.AsyncClient) -> None:
    body = body_for("github", credentials={"token": TOKEN, "scope": "repo"}, webhook_secret="x" * 501)
    response = await admin_client.post("/v1/integrations", json=body)
    assert_invalid(response, "credentials.scope", "webhook_secret")
    assert TOKEN not in response.text
    assert "x" * 501 not in response.text


async def test_secrets_are_encrypted_at_rest_by_default(app: FastAPI, admin_client: httpx.AsyncClient) -> None:
    """With no key configured: the key file beside the SQLite database (on PostgreSQL the tests set a key)."""
    integration = await connect(admin_client, "github")

    row = await stored_row(app, integration["id"])

    assert row["credentials"].startswith("fernet:")
    assert row["webhook_secret"].startswith("fernet:")
    assert TOKEN not in row["credentials"]
    assert WEBHOOK_SECRET not in row["webhook_secret"]


@pytest.fixture
async def sealed_client(
    database_url: str, api_keys: dict[Scope, str]
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service with `POSTMORTEMS_SECRET_KEY` set, on the same database, as the admin."""
    async with app_client(database_url, api_keys[Scope.ADMIN], secret_key="correct-horse-battery-staple") as sealed:
        yield sealed


async def test_with_a_secret_key_secrets_are_encrypted_at_rest(
    sealed_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    sealed, client = sealed_client
    integration = await connect(client, "github")
    first = await stored_row(sealed, integration["id"])

    rotated = await client.patch(url(integration), json={"credentials": {"token": ROTATED_TOKEN}})
    assert rotated.status_code == 200, rotated.text
    second = await stored_row(sealed, integration["id"])

    stored = [first["credentials"], first["webhook_secret"], second["credentials"]]
    assert all(value.startswith("fernet:") for value in stored)
    assert len(set(stored)) == len(stored)
    assert not any(secret in value for value in stored for secret in (TOKEN, WEBHOOK_SECRET, ROTATED_TOKEN))
    assert second["webhook_secret"] == first["webhook_secret"]
    # Sealed, not lost: the service opens the secret again to check a webhook's signature.
    accepted = await post_signed_webhook(client, integration["webhook_path"], WEBHOOK_SECRET)
    assert accepted.status_code == 202, accepted.text


async def test_rotating_credentials_replaces_them_and_keeps_the_rest(
    app: FastAPI, admin_client: httpx.AsyncClient
) -> None:
    integration = await connect(admin_client, "github")

    response = await admin_client.patch(url(integration), json={"credentials": {"token": ROTATED_TOKEN}})

    assert response.status_code == 200, response.text
    assert response.json()["version"] > integration["version"]
    row = await stored_row(app, integration["id"])
    box = app.state.secrets.box
    assert (box.open(row["credentials"]), box.open(row["webhook_secret"])) == (ROTATED_TOKEN, WEBHOOK_SECRET)


async def test_an_update_without_secrets_keeps_them(app: FastAPI, admin_client: httpx.AsyncClient) -> None:
    integration = await connect(admin_client, "github")
    before = await stored_row(app, integration["id"])

    assert (await admin_client.patch(url(integration), json={"name": "renamed"})).status_code == 200

    after = await stored_row(app, integration["id"])
    assert (after["credentials"], after["webhook_secret"]) == (before["credentials"], before["webhook_secret"])


async def test_rotating_the_webhook_secret_changes_which_signatures_are_accepted(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    integration = await connect(admin_client, "github")
    path = integration["webhook_path"]
    assert (await post_signed_webhook(anonymous_client, path, WEBHOOK_SECRET)).status_code == 202

    response = await admin_client.patch(url(integration), json={"webhook_secret": ROTATED_SECRET})
    assert response.status_code == 200, response.text

    assert_problem(await post_signed_webhook(anonymous_client, path, WEBHOOK_SECRET), 401)
    assert (await post_signed_webhook(anonymous_client, path, ROTATED_SECRET)).status_code == 202


async def test_removing_the_webhook_secret_refuses_every_webhook(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    integration = await connect(admin_client, "github")

    response = await admin_client.patch(url(integration), json={"webhook_secret": None})

    assert response.status_code == 200, response.text
    assert response.json()["has_webhook_secret"] is False
    assert_problem(await post_signed_webhook(anonymous_client, integration["webhook_path"], WEBHOOK_SECRET), 401)


async def test_the_webhook_path_is_where_the_trackers_webhooks_are_accepted(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    integration = await connect(admin_client, "github", webhook_secret=None)
    assert integration["has_webhook_secret"] is False

    response = await admin_client.patch(url(integration), json={"webhook_secret": WEBHOOK_SECRET})
    assert response.json()["has_webhook_secret"] is True

    accepted = await post_signed_webhook(anonymous_client, response.json()["webhook_path"], WEBHOOK_SECRET)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"accepted": True, "duplicate": False}


# -- default, names, concurrency ----------------------------------------------------------------------------------


async def defaults(client: httpx.AsyncClient) -> list[str]:
    return [entry["name"] for entry in (await client.get("/v1/integrations")).json()["items"] if entry["default"]]


async def test_only_one_integration_is_the_default(admin_client: httpx.AsyncClient) -> None:
    first = await connect(admin_client, "github", name="first", default=True)
    assert await defaults(admin_client) == ["first"]

    await connect(admin_client, "linear", name="second", default=True)
    assert await defaults(admin_client) == ["second"]

    response = await admin_client.patch(url(first), json={"default": True})
    assert response.status_code == 200, response.text
    assert await defaults(admin_client) == ["first"]

    await connect(admin_client, "jira", name="third")
    assert await defaults(admin_client) == ["first"]

    assert (await admin_client.patch(url(first), json={"default": False})).status_code == 200
    assert await defaults(admin_client) == []


async def test_a_name_is_used_once(admin_client: httpx.AsyncClient) -> None:
    await connect(admin_client, "github", name="followups")

    response = await admin_client.post("/v1/integrations", json=body_for("linear", name="followups"))

    [error] = problem_errors(response, 409)
    assert (error["field"], error["code"]) == ("name", "duplicate")
    assert len((await admin_client.get("/v1/integrations")).json()["items"]) == 1


async def test_renaming_to_a_used_name_is_a_conflict(admin_client: httpx.AsyncClient) -> None:
    await connect(admin_client, "github", name="followups")
    other = await connect(admin_client, "linear", name="platform")

    [error] = problem_errors(await admin_client.patch(url(other), json={"name": "followups"}), 409)

    assert error["field"] == "name"
    assert (await get_integration(admin_client, other["id"]))["name"] == "platform"
    assert (await admin_client.patch(url(other), json={"name": "platform"})).status_code == 200


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_a_stale_if_match_is_refused(admin_client: httpx.AsyncClient, method: str) -> None:
    integration = await connect(admin_client, "github")
    stale = (await admin_client.get(url(integration))).headers["etag"]
    current = await admin_client.patch(url(integration), json={"name": "renamed"})
    assert current.status_code == 200

    body = {"push_policy": "on_complete"} if method == "PATCH" else None
    refused = await admin_client.request(method, url(integration), json=body, headers={"If-Match": stale})

    assert_problem(refused, 412)
    assert await get_integration(admin_client, integration["id"]) == current.json()
    fresh = {"If-Match": current.headers["etag"]}
    assert (await admin_client.request(method, url(integration), json=body, headers=fresh)).status_code in (200, 204)


# -- references from postmortems and action items -----------------------------------------------------------------


async def test_deleting_an_integration_unlinks_what_referenced_it(admin_client: httpx.AsyncClient) -> None:
    integration = await connect(admin_client, "github")
    postmortem = await create_postmortem(admin_client, integration_id=integration["id"])
    item = await add_action_item(admin_client, postmortem["id"], integration_id=integration["id"])
    urls = (f"/v1/postmortems/{postmortem['id']}", f"/v1/action-items/{item['id']}")
    fetched = [await admin_client.get(path) for path in urls]
    postmortem, item = (response.json() for response in fetched)
    assert (postmortem["integration_id"], item["integration_id"]) == (integration["id"], integration["id"])
    assert item["sync_status"] == "pending"

    assert (await admin_client.delete(url(integration))).status_code == 204

    kept_postmortem, kept_item = [await admin_client.get(path) for path in urls]
    assert kept_postmortem.json()["integration_id"] is None
    assert kept_item.json()["integration_id"] is None
    assert kept_item.json()["sync_status"] is None  # its push was never sent, and now never will be
    assert kept_item.json()["external"] is None
    for before, after in zip(fetched, (kept_postmortem, kept_item), strict=True):
        assert after.headers["etag"] != before.headers["etag"]  # a changed representation gets a new ETag
        unchanged = set(before.json()) - {
            "integration_id",
            "sync_status",
            "version",
            "updated_at",
            "action_items_summary",
        }
        assert {name: after.json()[name] for name in unchanged} == {name: before.json()[name] for name in unchanged}
    assert (await admin_client.get("/v1/deliveries")).json()["items"] == []


async def test_an_item_of_the_default_integration_is_linked_to_it(admin_client: httpx.AsyncClient) -> None:
    integration = await connect(admin_client, "github", default=True)
    postmortem = await create_postmortem(admin_client)

    item = await add_action_item(admin_client, postmortem["id"])

    assert item["integration_id"] == integration["id"]
    assert item["sync_status"] == "pending"
    assert item["external"] is None


async def test_an_item_with_no_integration_is_not_synced(admin_client: httpx.AsyncClient) -> None:
    await connect(admin_client, "github")  # not the default
    postmortem = await create_postmortem(admin_client)

    item = await add_action_item(admin_client, postmortem["id"])

    assert (item["integration_id"], item["sync_status"], item["external"]) == (None, None, None)


async def _postmortem_url(client: httpx.AsyncClient) -> str:
    return f"/v1/postmortems/{(await create_postmortem(client))['id']}"


async def _items_url(client: httpx.AsyncClient) -> str:
    return f"/v1/postmortems/{(await create_postmortem(client))['id']}/action-items"


async def _item_url(client: httpx.AsyncClient) -> str:
    postmortem = await create_postmortem(client)
    return f"/v1/action-items/{(await add_action_item(client, postmortem['id']))['id']}"


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("POST", None, {"title": "Checkout errors", "severity": "P2"}),
        ("PATCH", _postmortem_url, {}),
        (
            "POST",
            _items_url,
            {"title": "Validate config pushes", "owner": "@payments", "priority": "P1", "due_date": "2099-01-31"},
        ),
        ("PATCH", _item_url, {}),
    ],
    ids=["create postmortem", "update postmortem", "create action item", "update action item"],
)
async def test_an_unknown_integration_id_is_rejected(
    admin_client: httpx.AsyncClient, method: str, target: Any, body: dict[str, Any]
) -> None:
    await connect(admin_client, "github", default=True)
    path = "/v1/postmortems" if target is None else await target(admin_client)

    response = await admin_client.request(method, path, json=body | {"integration_id": UNKNOWN_ID})

    assert_invalid(response, "integration_id")
