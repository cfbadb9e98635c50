"""The worker's safety nets and its concurrency: the periodic reconcile of links not confirmed for a while,
workers sharing a burst of webhooks without applying any twice, and one delivery of an item at a time."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.outbox.worker import Worker
from service.sync import service as sync_service
from tests.factories import add_action_item, create_postmortem
from tests.fakes.jira import FakeJira, signed_webhook
from tests.fakes.server import Fault
from tests.sync.helpers import (
    SECRET,
    deliveries,
    drain,
    item_of,
    patch_item,
    post_webhook,
    quick_worker,
    wait_until,
)
from tests.sync.trackers import JiraTracker

CREATE_PATH = JiraTracker.create_path
HOURS_AGO = timedelta(hours=2)


async def linked_items(client: httpx.AsyncClient, worker: Worker, count: int) -> list[dict[str, Any]]:
    postmortem = await create_postmortem(client)
    created = [await add_action_item(client, postmortem["id"], title=f"Item {n}") for n in range(count)]
    await drain(worker)
    items = [await item_of(client, item["id"]) for item in created]
    assert all(item["sync_status"] == "synced" for item in items)
    return items


def reads_of(jira: FakeJira, issue_id: str) -> int:
    return sum(r.method == "GET" and r.path == f"/rest/api/3/issue/{issue_id}" for r in jira.requests)


@pytest.mark.parametrize(
    ("reconcile_after_seconds", "polled"),
    [(1e-6, True), (3600.0, False)],
    ids=["not-confirmed-for-the-period", "recently-confirmed"],
)
async def test_reconcile_polls_links_not_confirmed_for_the_period_and_applies_the_trackers_state(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    app: FastAPI,
    database_url: str,
    reconcile_after_seconds: float,
    polled: bool,
) -> None:
    await JiraTracker(jira).connect(admin_client)
    [item] = await linked_items(client, worker, 1)
    issue_id = item["external"]["id"]
    jira.move(issue_id, "In Progress")  # no webhook: only a poll can notice
    reads_before = reads_of(jira, issue_id)

    async with quick_worker(app, database_url, reconcile_after_seconds=reconcile_after_seconds) as reconciler:
        assert await reconciler.enqueue_reconciles() == int(polled)
        await drain(reconciler)

    seen = await item_of(client, item["id"])
    assert seen["status"] == ("in_progress" if polled else "open")
    assert seen["external"]["state"] == ("In Progress" if polled else "To Do")
    assert (reads_of(jira, issue_id) > reads_before) is polled
    syncs = [(d["action_item_id"], d["status"]) for d in await deliveries(client) if d["kind"] == "tracker.sync"]
    assert syncs == ([(item["id"], "done")] if polled else [])


async def test_only_links_left_unconfirmed_are_polled(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    app: FastAPI,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    integration = await JiraTracker(jira).connect(admin_client)
    with monkeypatch.context() as earlier:  # the links were saved two hours ago
        earlier.setattr(sync_service, "utc_now", lambda: datetime.now(UTC) - HOURS_AGO)
        forgotten, confirmed = await linked_items(client, worker, 2)
    jira.faults.append(Fault(status=400, method="POST", path_contains=CREATE_PATH))
    never_linked = await add_action_item(client, forgotten["postmortem_id"], title="Refused by Jira")
    await drain(worker)
    for item, status in ((forgotten, "In Progress"), (confirmed, "Done")):
        jira.move(item["external"]["id"], status, resolution="Done" if status == "Done" else None)
    # A webhook confirms one link now; the other has not been heard of for two hours.
    webhook = await post_webhook(
        anonymous_client, "jira", integration, *signed_webhook(jira.webhook(confirmed["external"]["id"]), SECRET)
    )
    assert webhook.status_code == 202
    await drain(worker)

    async with quick_worker(app, database_url, reconcile_after_seconds=3600.0) as reconciler:
        assert await reconciler.enqueue_reconciles() == 1
        await drain(reconciler)
        assert await reconciler.enqueue_reconciles() == 0

    syncs = [d["action_item_id"] for d in await deliveries(client) if d["kind"] == "tracker.sync"]
    assert syncs == [forgotten["id"]]
    assert (await item_of(client, forgotten["id"]))["status"] == "in_progress"
    assert (await item_of(client, confirmed["id"]))["status"] == "done"
    assert (await item_of(client, never_linked["id"]))["external"] is None


async def test_two_workers_apply_each_webhook_of_a_burst_exactly_once(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    app: FastAPI,
    database_url: str,
) -> None:
    integration = await JiraTracker(jira).connect(admin_client)
    items = await linked_items(client, worker, 20)
    # A status no action item status maps to: every time an event is applied, `unmapped` counts it.
    jira.add_status("Blocked", "undefined", transition_id="41")
    sent = []
    for n, item in enumerate(items):
        jira.move(item["external"]["id"], "Blocked")
        payload = jira.webhook(item["external"]["id"])
        sent += [signed_webhook(payload, SECRET, delivery_id=f"delivery-{n}", retry=retry) for retry in range(3)]

    answers = await asyncio.gather(
        *(post_webhook(anonymous_client, "jira", integration, headers, body) for headers, body in sent)
    )
    assert [a.status_code for a in answers] == [202] * len(sent)
    assert sum(not a.json()["duplicate"] for a in answers) == len(items)

    async with quick_worker(app, database_url) as first, quick_worker(app, database_url) as second:
        await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    for item in items:
        seen = await item_of(client, item["id"])
        assert (seen["status"], seen["external"]["state"], seen["external"]["unmapped"]) == ("open", "Blocked", 1)
    applied = [(d["status"], d["attempts"]) for d in await deliveries(client) if d["kind"] == "webhook.apply"]
    assert applied == [("done", 1)] * len(items)


async def test_a_change_made_while_another_worker_creates_the_issue_does_not_create_a_second(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    jira: FakeJira,
    app: FastAPI,
    database_url: str,
) -> None:
    await JiraTracker(jira).connect(admin_client)
    postmortem = await create_postmortem(client)
    # Jira is slow to create: the first worker is still waiting when the item changes.
    jira.faults.append(Fault(delay=1.0, method="POST", path_contains=CREATE_PATH))
    item = await add_action_item(client, postmortem["id"])

    async with quick_worker(app, database_url) as first, quick_worker(app, database_url) as second:
        creating = asyncio.create_task(first.run_until_idle())
        await wait_until(lambda: any(r.path == CREATE_PATH for r in jira.requests), what="the create request")
        await patch_item(client, item["id"], title="Renamed while being created")
        await second.run_until_idle()
        await creating
        await drain(first)

    assert len(jira.issues) == 1
    [issue] = jira.issues.values()
    assert issue["fields"]["summary"] == "Renamed while being created"
    seen = await item_of(client, item["id"])
    assert (seen["sync_status"], seen["external"]["id"]) == ("synced", issue["id"])


async def test_a_poll_that_finds_nothing_new_keeps_the_items_version(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    app: FastAPI,
    database_url: str,
) -> None:
    await JiraTracker(jira).connect(admin_client)
    [item] = await linked_items(client, worker, 1)
    before = await client.get(f"/v1/action-items/{item['id']}")

    async with quick_worker(app, database_url, reconcile_after_seconds=1e-6) as reconciler:
        assert await reconciler.enqueue_reconciles() == 1
        await drain(reconciler)

    after = await client.get(f"/v1/action-items/{item['id']}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # it shows when the tracker last confirmed the link
    assert after.json()["external"]["synced_at"] > before.json()["external"]["synced_at"]
    assert after.json()["version"] == before.json()["version"]
    assert after.headers["etag"] != before.headers["etag"]
    edited = await client.patch(
        f"/v1/action-items/{item['id']}", json={"description": "edited"}, headers={"If-Match": after.headers["etag"]}
    )
    assert edited.status_code == 200
