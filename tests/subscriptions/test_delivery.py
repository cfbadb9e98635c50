"""Events sent to a real receiver on 127.0.0.1 by the outbox worker: signed per Standard Webhooks, retried
with one webhook-id, never redirected, in order per resource, and a failing endpoint disabled."""

import ipaddress
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from service.core import clock
from service.outbox.worker import Worker
from service.subscriptions import signing, urls
from tests.factories import add_action_item, create_postmortem
from tests.subscriptions.receiver import Receiver, receiving
from tests.sync.helpers import drain, quick_worker


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
async def worker(app: FastAPI, database_url: str) -> AsyncIterator[Worker]:
    async with quick_worker(app, database_url, subscription_disable_after_failing_hours=1) as worker:
        yield worker


async def subscribe(admin_client: httpx.AsyncClient, url: str, **body: Any) -> dict[str, Any]:
    response = await admin_client.post("/v1/subscriptions", json={"url": url} | body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries(admin_client: httpx.AsyncClient, subscription: dict[str, Any]) -> list[dict[str, Any]]:
    response = await admin_client.get(f"/v1/subscriptions/{subscription['id']}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def verified(secret: str, received: Any) -> dict[str, Any]:
    """The payload, after the Standard Webhooks library verified its signature."""
    return dict(Webhook(secret).verify(received.body, received.headers))


async def test_an_event_is_delivered_signed_per_standard_webhooks(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    subscription = await subscribe(admin_client, receiver.url)
    postmortem = await create_postmortem(client)

    await drain(worker)

    [received] = receiver.received
    payload = verified(subscription["secret"], received)
    assert payload["type"] == "postmortem.created"
    assert payload["data"]["postmortem"] == postmortem
    assert payload["data"]["actor"]["name"] == "writer"
    assert set(payload) == {"type", "timestamp", "data"}
    assert received.headers["content-type"] == "application/json"
    [delivery] = await deliveries(admin_client, subscription)
    assert received.headers["webhook-id"] == delivery["id"]
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("done", 1, 204)
    assert [attempt["outcome"] for attempt in delivery["attempt_log"]] == ["done"]


async def test_only_the_event_types_subscribed_to_are_sent(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    await subscribe(admin_client, receiver.url, event_types=["action_item.created"])
    postmortem = await create_postmortem(client)
    await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert [json.loads(r.body)["type"] for r in receiver.received] == ["action_item.created"]


async def test_failed_attempts_are_retried_with_the_same_webhook_id(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    subscription = await subscribe(admin_client, receiver.url)
    receiver.answer(500, times=2)
    await create_postmortem(client)

    await drain(worker)

    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    for received in receiver.received:
        verified(subscription["secret"], received)
    [delivery] = await deliveries(admin_client, subscription)
    assert [(a["outcome"], a["response_status"]) for a in delivery["attempt_log"]] == [
        ("retry", 500),
        ("retry", 500),
        ("done", 204),
    ]
    assert delivery["status"] == "done"


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    subscription = await subscribe(admin_client, receiver.url)
    receiver.answer(302, location=receiver.url.replace("/hooks", "/elsewhere"))
    await create_postmortem(client)

    await drain(worker)

    assert [r.path for r in receiver.received] == ["/hooks", "/hooks"]
    [delivery] = await deliveries(admin_client, subscription)
    assert [a["response_status"] for a in delivery["attempt_log"]] == [302, 204]
    assert delivery["attempt_log"][0]["error"].startswith("HTTP 302")


async def test_events_of_one_resource_arrive_in_order_even_after_a_failure(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    await subscribe(admin_client, receiver.url)
    receiver.answer(503)
    postmortem = await create_postmortem(client)
    for title in ("one", "two", "three"):
        response = await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"title": title})
        assert response.status_code == 200

    await drain(worker)

    delivered = [json.loads(r.body) for r in receiver.received]
    versions = [payload["data"]["postmortem"]["version"] for payload in delivered]
    assert versions == [1, 1, 2, 3, 4]  # the failed first one again before any later one
    assert [p["data"]["postmortem"]["title"] for p in delivered[2:]] == ["one", "two", "three"]


async def test_an_endpoint_failing_for_long_is_disabled(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    receiver: Receiver,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscription = await subscribe(admin_client, receiver.url)
    receiver.answer(500, times=100)
    await create_postmortem(client)
    await worker.run_once()
    failing = (await admin_client.get(f"/v1/subscriptions/{subscription['id']}")).json()
    assert failing["enabled"] is True
    assert failing["failing_since"] is not None

    later = clock.utc_now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "utc_now", lambda: later)
    await drain(worker)

    disabled = (await admin_client.get(f"/v1/subscriptions/{subscription['id']}")).json()
    assert disabled["enabled"] is False
    assert "failed for 1 hours" in disabled["disabled_reason"]
    [delivery] = await deliveries(admin_client, subscription)
    assert delivery["status"] == "dead"
    assert "disabled" in delivery["last_error"]

    sent = len(receiver.received)
    await create_postmortem(client)  # nothing is sent to a disabled subscription
    await drain(worker)
    assert len(receiver.received) == sent


async def test_a_delivery_is_resent_with_its_webhook_id(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    subscription = await subscribe(admin_client, receiver.url)
    await create_postmortem(client)
    await drain(worker)
    [delivery] = await deliveries(admin_client, subscription)
    url = f"/v1/subscriptions/{subscription['id']}/deliveries/{delivery['id']}/retry"

    response = await admin_client.post(url)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert (await admin_client.post(url)).status_code == 409  # pending already
    await drain(worker)

    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery["id"], delivery["id"]]
    unknown = f"/v1/subscriptions/{subscription['id']}/deliveries/{uuid.uuid4()}/retry"
    assert (await admin_client.post(unknown)).status_code == 404


async def test_after_a_rotation_both_secrets_sign_for_a_day(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    receiver: Receiver,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscription = await subscribe(admin_client, receiver.url)
    rotated = (await admin_client.post(f"/v1/subscriptions/{subscription['id']}/rotate-secret")).json()
    await create_postmortem(client)
    await drain(worker)

    [received] = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    verified(rotated["secret"], received)
    verified(subscription["secret"], received)  # receivers not switched yet still verify

    a_day_later = clock.utc_now() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(clock, "utc_now", lambda: a_day_later)
    await create_postmortem(client)
    await drain(worker)

    latest = receiver.received[-1]
    message_id, timestamp = latest.headers["webhook-id"], int(latest.headers["webhook-timestamp"])
    assert latest.headers["webhook-signature"] == signing.sign(rotated["secret"], message_id, timestamp, latest.body)


async def test_an_address_is_checked_again_before_each_attempt(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    receiver: Receiver,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name that resolved to an allowed address when subscribed but to a private one later (DNS rebinding)."""
    subscription = await subscribe(admin_client, receiver.url.replace("127.0.0.1", "localhost"))
    answers = {"localhost": ipaddress.ip_address("10.0.0.1")}

    async def resolve(host: str, port: int) -> list[urls.IPAddress]:
        return [answers[host]]

    monkeypatch.setattr(urls, "resolve", resolve)
    await create_postmortem(client)
    await drain(worker)

    assert receiver.received == []
    [delivery] = await deliveries(admin_client, subscription)
    assert delivery["status"] == "dead"
    assert "10.0.0.1" in delivery["last_error"]


async def test_a_name_is_sent_to_at_the_address_checked_with_its_own_host_header(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, receiver: Receiver, worker: Worker
) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost")
    subscription = await subscribe(admin_client, url)
    await create_postmortem(client)
    await drain(worker)

    [received] = receiver.received
    assert received.headers["host"] == httpx.URL(url).netloc.decode()
    verified(subscription["secret"], received)
