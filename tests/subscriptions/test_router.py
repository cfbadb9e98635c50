"""Subscriptions over HTTP: CRUD for admins only, a secret shown once, rotation, and refused endpoints."""

import base64
import ipaddress
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.settings import Settings
from service.subscriptions import urls
from service.subscriptions.models import Subscription
from tests.database import committed_session
from tests.problems import UNKNOWN_ID, assert_invalid, assert_problem

HOOK = "https://hooks.example.com/postmortems"
PUBLIC_ADDRESS = ipaddress.ip_address("93.184.215.14")


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolve as this table says (no network in tests); unknown names do not resolve."""
    table = {"hooks.example.com": [str(PUBLIC_ADDRESS)], "localhost": ["127.0.0.1"]}

    async def resolve(host: str, port: int) -> list[urls.IPAddress]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return [ipaddress.ip_address(address) for address in table[host]]

    monkeypatch.setattr(urls, "resolve", resolve)
    return table


async def subscribe(admin_client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await admin_client.post("/v1/subscriptions", json={"url": HOOK} | body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_subscription_is_created_with_a_secret_shown_once(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(
        "/v1/subscriptions", json={"url": HOOK, "description": "bot", "event_types": ["postmortem.created"]}
    )

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) >= 24
    assert response.headers["location"] == f"/v1/subscriptions/{created['id']}"
    assert (created["url"], created["event_types"], created["enabled"]) == (HOOK, ["postmortem.created"], True)
    shown = await admin_client.get(f"/v1/subscriptions/{created['id']}")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = (await admin_client.get("/v1/subscriptions")).json()["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert created["secret"] not in shown.text + str(listed)


async def test_the_secret_is_stored_sealed(admin_client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await subscribe(admin_client)

    async with committed_session(app.state.engine) as session:
        stored = await session.get(Subscription, uuid.UUID(created["id"]))
    assert stored is not None
    assert stored.secret.startswith("fernet:")
    assert created["secret"] not in stored.secret


async def test_omitted_event_types_mean_every_type(admin_client: httpx.AsyncClient) -> None:
    assert (await subscribe(admin_client))["event_types"] == []


async def test_update_and_delete(admin_client: httpx.AsyncClient) -> None:
    created = await subscribe(admin_client)
    url = f"/v1/subscriptions/{created['id']}"

    response = await admin_client.patch(url, json={"enabled": False, "event_types": ["action_item.overdue"]})
    assert response.status_code == 200, response.text
    assert (response.json()["enabled"], response.json()["event_types"]) == (False, ["action_item.overdue"])
    assert_invalid(await admin_client.patch(url, json={"url": None}), "url")

    assert (await admin_client.delete(url)).status_code == 204
    assert_problem(await admin_client.get(url), 404)
    assert_problem(await admin_client.get(f"/v1/subscriptions/{UNKNOWN_ID}"), 404)


async def test_only_admins_manage_subscriptions(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    created = await subscribe(admin_client)
    for non_admin in (client, reader_client):
        assert_problem(await non_admin.post("/v1/subscriptions", json={"url": HOOK}), 403)
        assert_problem(await non_admin.get("/v1/subscriptions"), 403)
        assert_problem(await non_admin.get(f"/v1/subscriptions/{created['id']}"), 403)
        assert_problem(await non_admin.patch(f"/v1/subscriptions/{created['id']}", json={"enabled": False}), 403)
        assert_problem(await non_admin.post(f"/v1/subscriptions/{created['id']}/rotate-secret"), 403)
        assert_problem(await non_admin.get(f"/v1/subscriptions/{created['id']}/deliveries"), 403)
        assert_problem(await non_admin.delete(f"/v1/subscriptions/{created['id']}"), 403)


async def test_rotation_returns_a_new_secret_once(admin_client: httpx.AsyncClient) -> None:
    created = await subscribe(admin_client)

    response = await admin_client.post(f"/v1/subscriptions/{created['id']}/rotate-secret")

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    shown = (await admin_client.get(f"/v1/subscriptions/{created['id']}")).json()
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]


REFUSED = [
    "http://hooks.example.com/postmortems",  # http, not loopback
    "ftp://hooks.example.com/x",
    "https://user:pw@hooks.example.com/x",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[fe80::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://internal.example.com/hook",  # resolves to a private address, below
    "https://nowhere.invalid/hook",  # does not resolve
    "not a url",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_unsafe_endpoints_are_refused_naming_url(
    admin_client: httpx.AsyncClient, dns: dict[str, list[str]], url: str
) -> None:
    dns["internal.example.com"] = [str(PUBLIC_ADDRESS), "10.0.0.7"]
    assert_invalid(await admin_client.post("/v1/subscriptions", json={"url": url}), "url")
    created = await subscribe(admin_client)
    assert_invalid(await admin_client.patch(f"/v1/subscriptions/{created['id']}", json={"url": url}), "url")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook", "https://127.0.0.1/hook"]
)
async def test_loopback_endpoints_may_use_http(admin_client: httpx.AsyncClient, url: str) -> None:
    assert (await subscribe(admin_client, url=url))["url"] == url


async def test_the_allow_list_admits_a_private_network(
    admin_client: httpx.AsyncClient, configure: Callable[..., None]
) -> None:
    assert_invalid(await admin_client.post("/v1/subscriptions", json={"url": "https://10.20.0.5/hook"}), "url")
    configure(subscription_allowed_networks=["10.20.0.0/16"])

    assert (await subscribe(admin_client, url="https://10.20.0.5/hook"))["url"] == "https://10.20.0.5/hook"
    assert_invalid(await admin_client.post("/v1/subscriptions", json={"url": "https://10.21.0.5/hook"}), "url")


def test_the_allow_list_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTMORTEMS_SUBSCRIPTION_ALLOWED_NETWORKS", '["10.20.0.0/16", "fd12::/16"]')
    monkeypatch.setenv("POSTMORTEMS_SUBSCRIPTION_DISABLE_AFTER_FAILING_HOURS", "24")
    settings = Settings()
    assert [str(network) for network in settings.subscription_allowed_networks] == ["10.20.0.0/16", "fd12::/16"]
    assert settings.subscription_disable_after_failing_hours == 24
