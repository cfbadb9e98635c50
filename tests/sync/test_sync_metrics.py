"""What the metrics tell of the trackers: webhooks received, deliveries made, and the outbox backlog."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.observability.metrics import Metrics
from service.outbox.worker import Worker
from tests.factories import add_action_item, create_postmortem
from tests.sync.trackers import TRACKERS, Tracker, linked_item

EVERY_TRACKER = list(TRACKERS)


def sample(app: FastAPI, name: str, **labels: str) -> float:
    metrics: Metrics = app.state.metrics
    return metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_webhooks_are_counted_by_tracker_and_outcome(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    payload = tracker.change_on_tracker(item["external"]["id"])
    outcomes = ("accepted", "duplicate", "invalid-signature")
    received = "postmortems_webhooks_received_total"
    before = {outcome: sample(app, received, tracker=tracker.kind, outcome=outcome) for outcome in outcomes}

    for _ in range(2):  # the same delivery twice
        response = await tracker.send(anonymous_client, integration, payload, delivery_id="delivery-1")
        assert response.status_code == 202
    headers, body = tracker.signed(payload, delivery_id="delivery-2", attempt=0, delivery_header=True)
    forged = await anonymous_client.post(
        f"/v1/webhooks/{tracker.kind}/{integration['id']}", headers=headers, content=body + b" "
    )
    assert forged.status_code == 401

    after = {outcome: sample(app, received, tracker=tracker.kind, outcome=outcome) for outcome in outcomes}
    assert {outcome: after[outcome] - before[outcome] for outcome in outcomes} == {
        "accepted": 1,
        "duplicate": 1,
        "invalid-signature": 1,
    }


@pytest.mark.parametrize("tracker", ["github"], indirect=True)
async def test_the_outbox_backlog_is_read_when_scraped(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    for title in ("Add a canary", "Alert on replication lag"):
        await add_action_item(client, postmortem["id"], title=title)  # pushed by a worker that has not run

    scraped = dict(
        line.split() for line in (await anonymous_client.get("/metrics")).text.splitlines() if line[0] != "#"
    )

    assert float(scraped["postmortems_outbox_pending_deliveries"]) == 2
    assert float(scraped["postmortems_outbox_oldest_pending_age_seconds"]) >= 0


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_deliveries_are_counted_by_tracker_and_outcome(
    app: FastAPI, client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> None:
    deliveries = "postmortems_outbox_deliveries_total"
    before = {outcome: sample(app, deliveries, tracker=tracker.kind, outcome=outcome) for outcome in ("done", "retry")}
    timed = sample(app, "postmortems_outbox_delivery_duration_seconds_count", tracker=tracker.kind)

    await linked_item(client, admin_client, tracker, worker)  # one push, made at the first attempt

    assert sample(app, deliveries, tracker=tracker.kind, outcome="done") - before["done"] == 1
    assert sample(app, deliveries, tracker=tracker.kind, outcome="retry") == before["retry"]
    assert sample(app, "postmortems_outbox_delivery_duration_seconds_count", tracker=tracker.kind) - timed == 1
