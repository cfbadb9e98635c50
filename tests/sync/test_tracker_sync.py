"""Action items to tracker issues and back, end to end, for every tracker that behaves alike:
API -> outbox -> worker -> fake tracker -> signed webhook. Each tracker's own rules are in test_<tracker>_sync.py."""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from service.core.clock import utc_now
from service.outbox.worker import Worker
from tests.factories import add_action_item, create_postmortem
from tests.fakes.server import Fault
from tests.sync.helpers import SECRET, deliveries, drain, force_sync, item_of, patch_item, post_webhook
from tests.sync.trackers import (
    TRACKERS,
    AnyFault,
    Pushed,
    Tracker,
    assert_refused_and_nothing_changed,
    linked_item,
)

EVERY_TRACKER = list(TRACKERS)
STATUS_CHANGES = {
    "in_progress": ["in_progress"],
    "done": ["done"],
    "wont_do": ["wont_do"],
    "reopened": ["in_progress", "open"],
}


def cases(table: Callable[[type[Tracker[Any]]], Mapping[str, Any]]) -> list[Any]:
    """One parameter set per tracker and case of its `table`, named `<tracker>-<case>`; a tuple gives several values."""
    return [
        pytest.param(kind, *(case if isinstance(case, tuple) else (case,)), id=f"{kind}-{name}")
        for kind, tracker in TRACKERS.items()
        for name, case in table(tracker).items()
    ]


def named(names: Callable[[type[Tracker[Any]]], Iterable[str]]) -> list[Any]:
    """One parameter set per tracker and each of its `names`, named `<tracker>-<name>`."""
    return [
        pytest.param(kind, name, id=f"{kind}-{name}") for kind, tracker in TRACKERS.items() for name in names(tracker)
    ]


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_a_new_item_becomes_exactly_one_issue_with_the_link_saved(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client, title="Checkout outage", severity="P1")
    created = await add_action_item(
        client, postmortem["id"], title="Add a canary stage", priority="P0", due_date="2099-01-31"
    )
    assert created["sync_status"] == "pending"

    await drain(worker)

    [issue_id] = tracker.issue_ids()
    assert tracker.creates() == 1
    issue = tracker.issue(issue_id)
    assert (issue.title, issue.due_date) == ("Add a canary stage", "2099-01-31")
    assert (issue.issue_type, issue.priority) == (tracker.issue_type, tracker.native_priority.get("P0"))
    assert {"postmortem", "severity:P1", "priority:P0"} <= issue.labels
    assert any(link.endswith(f"/v1/postmortems/{postmortem['id']}") for link in issue.links)
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["last_sync_error"]) == ("synced", None)
    external = item["external"]
    assert external["synced_at"] is not None
    assert {k: v for k, v in external.items() if k != "synced_at"} == tracker.new_link(issue_id)


@pytest.mark.parametrize(
    ("tracker", "statuses", "pushed"),
    cases(lambda tracker: {change: (STATUS_CHANGES[change], pushed) for change, pushed in tracker.pushed.items()}),
    indirect=["tracker"],
)
async def test_content_and_local_status_changes_are_pushed(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
    statuses: list[str],
    pushed: Pushed,
) -> None:
    _, item = await linked_item(client, admin_client, tracker, worker)

    await patch_item(client, item["id"], title="Renamed", priority="P2", due_date="2099-03-01", status=statuses[0])
    await drain(worker)
    for status in statuses[1:]:
        await patch_item(client, item["id"], status=status)
        await drain(worker)

    assert tracker.issue_ids() == [item["external"]["id"]]
    issue = tracker.issue(item["external"]["id"])
    assert (issue.title, issue.due_date, issue.priority) == ("Renamed", "2099-03-01", tracker.native_priority.get("P2"))
    assert {"priority:P2", "priority:P1"} & issue.labels == {"priority:P2"}
    assert (issue.state, issue.resolution) == (pushed.state, pushed.resolution)
    pushed_item = await item_of(client, item["id"])
    assert (pushed_item["status"], pushed_item["sync_status"]) == (statuses[-1], "synced")
    assert pushed_item["external"]["state"] == pushed.link_state


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_a_create_whose_answer_was_lost_ends_with_one_issue(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    # The tracker creates the issue, but its answer never reaches the worker.
    tracker.inject(tracker.lost_create)
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert tracker.creates() == 1
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    assert tracker.issue_ids() == [item["external"]["id"]]
    assert [d["attempts"] for d in await deliveries(client)] == [2]


@pytest.mark.parametrize(("tracker", "fault"), cases(lambda tracker: tracker.transient_faults), indirect=["tracker"])
async def test_transient_failures_are_retried_until_delivered(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker, fault: AnyFault
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    tracker.inject(fault)
    tracker.inject(fault)
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(tracker.issue_ids()) == 1
    assert (await item_of(client, created["id"]))["sync_status"] == "synced"
    assert [(d["status"], d["attempts"]) for d in await deliveries(client)] == [("done", 3)]


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_transient_failures_give_up_after_the_maximum_attempts(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    for _ in range(10):
        tracker.inject(Fault(status=503))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    dead = await deliveries(client, status="dead")
    assert [d["attempts"] for d in dead] == [worker.settings.outbox_max_attempts]
    assert (await item_of(client, created["id"]))["sync_status"] == "failed"
    assert tracker.issue_ids() == []


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_retry_after_postpones_the_next_attempt(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    tracker.inject(Fault(status=429, headers={"Retry-After": "120"}))
    created = await add_action_item(client, postmortem["id"])
    before = utc_now()

    await worker.run_until_idle()

    [delivery] = await deliveries(client)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert datetime.fromisoformat(delivery["next_attempt_at"]) >= before + timedelta(seconds=120)
    assert tracker.issue_ids() == []
    assert (await item_of(client, created["id"]))["sync_status"] == "pending"


@pytest.mark.parametrize(
    ("tracker", "fault", "error"), cases(lambda tracker: tracker.permanent_faults), indirect=["tracker"]
)
async def test_a_permanent_failure_is_dead_at_once_listed_and_can_be_retried(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
    fault: AnyFault,
    error: str,
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    tracker.inject(fault)
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    item = await item_of(client, created["id"])
    assert item["sync_status"] == "failed"
    assert error in item["last_sync_error"]
    dead = await deliveries(client, status="dead")
    assert [(d["action_item_id"], d["attempts"]) for d in dead] == [(created["id"], 1)]
    assert error in dead[0]["last_error"]
    assert tracker.issue_ids() == []

    retried = await client.post(f"/v1/deliveries/{dead[0]['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    assert (await item_of(client, created["id"]))["sync_status"] == "pending"
    await drain(worker)

    assert len(tracker.issue_ids()) == 1
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["last_sync_error"]) == ("synced", None)
    assert await deliveries(client, status="dead") == []


@pytest.mark.parametrize(
    ("tracker", "delivery_header"),
    [pytest.param(kind, True, id=kind) for kind in EVERY_TRACKER]
    + [
        pytest.param(kind, False, id=f"{kind}-no-delivery-header")
        for kind, tracker in TRACKERS.items()
        if tracker.optional_delivery_header
    ],
    indirect=["tracker"],
)
async def test_a_signed_webhook_changes_the_status_once_even_when_redelivered(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
    delivery_header: bool,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    issue_id = item["external"]["id"]
    payload = tracker.change_on_tracker(issue_id)

    async def deliver(attempt: int) -> httpx.Response:
        return await tracker.send(
            anonymous_client,
            integration,
            payload,
            delivery_id="delivery-1",
            attempt=attempt,
            delivery_header=delivery_header,
        )

    first, again = await deliver(0), await deliver(1)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    await drain(worker)

    applied = await item_of(client, item["id"])
    assert (applied["status"], applied["external"]["state"]) == tracker.remote_change

    # Changed here; a late redelivery of the old event must not change it back.
    status, tracker_state = tracker.local_change
    await patch_item(client, item["id"], status=status)
    await drain(worker)
    late = await deliver(2)
    assert late.json()["duplicate"] is True
    await drain(worker)

    assert (await item_of(client, item["id"]))["status"] == status
    assert tracker.issue(issue_id).state == tracker_state
    assert sum(d["kind"] == "webhook.apply" for d in await deliveries(client)) == 1


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_a_status_from_the_tracker_moves_the_postmortem_etag(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
) -> None:
    """The postmortem shows its items' summary, so an item closed on the tracker changes what it shows."""
    integration, item = await linked_item(client, admin_client, tracker, worker)
    url = f"/v1/postmortems/{item['postmortem_id']}"
    etag = (await client.get(url)).headers["etag"]

    tracker.finish_on_tracker(item["external"]["id"])
    response = await tracker.send(anonymous_client, integration, tracker.webhook(item["external"]["id"]))
    assert response.status_code == 202
    await drain(worker)

    polled = await client.get(url, headers={"If-None-Match": etag})
    assert polled.status_code == 200
    assert polled.json()["action_items_summary"] == {"total": 1, "open": 0, "done": 1, "overdue": 0}
    assert polled.headers["etag"] != etag
    stale = await client.patch(url, json={"title": "Stale edit"}, headers={"If-Match": etag})
    assert (stale.status_code, stale.json()["errors"][0]["field"]) == (412, "If-Match")


@pytest.mark.parametrize(
    ("tracker", "tamper"),
    named(lambda _: ("wrong-secret", "no-signature", "changed-body")),
    indirect=["tracker"],
)
async def test_a_webhook_without_a_valid_signature_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
    tamper: str,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    tracker.finish_on_tracker(item["external"]["id"])
    payload = tracker.webhook(item["external"]["id"])
    headers, body = tracker.signed(payload, "another-secret" if tamper == "wrong-secret" else SECRET)
    if tamper == "no-signature":
        headers = {name: value for name, value in headers.items() if name.lower() not in tracker.signature_headers}
    if tamper == "changed-body":
        signed_body, body = body, body.replace(*tracker.forged_state, 1)
        assert body != signed_body

    response = await post_webhook(anonymous_client, tracker.kind, integration, headers, body)

    await assert_refused_and_nothing_changed(response, client, worker, item)


@pytest.mark.parametrize("tracker", EVERY_TRACKER, indirect=True)
async def test_events_about_other_issues_or_types_are_acknowledged_and_ignored(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    tracker.finish_on_tracker(item["external"]["id"])
    payloads = tracker.unrelated_webhooks(item["external"]["id"])

    for payload in payloads:
        response = await tracker.send(anonymous_client, integration, payload)
        assert (response.status_code, response.json()["duplicate"]) == (202, False)
    await drain(worker)

    assert (await item_of(client, item["id"]))["status"] == "open"
    applied = [d for d in await deliveries(client) if d["kind"] == "webhook.apply"]
    assert [d["status"] for d in applied] == ["done", "done"]


@pytest.mark.parametrize(
    ("tracker", "route"),
    named(lambda tracker: ("webhook", "sync") if tracker.unmapped_state is not None else ()),
    indirect=["tracker"],
)
async def test_an_unmapped_state_keeps_the_item_status_and_is_counted(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
    route: str,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    await patch_item(client, item["id"], status="in_progress")
    await drain(worker)
    tracker.move_to_unmapped_state(item["external"]["id"])

    for _ in range(2):
        if route == "webhook":
            response = await tracker.send(anonymous_client, integration, tracker.webhook(item["external"]["id"]))
            assert response.status_code == 202
        else:
            await force_sync(client, item["id"])
        await drain(worker)

    seen = await item_of(client, item["id"])
    assert seen["status"] == "in_progress"
    assert (seen["external"]["state"], seen["external"]["unmapped"]) == (tracker.unmapped_state, 2)


@pytest.mark.parametrize(
    ("tracker", "route"),
    named(lambda tracker: tracker.deletion_routes),
    indirect=["tracker"],
)
async def test_a_deleted_issue_marks_the_link_deleted(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
    route: str,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    payload = tracker.delete_on_tracker(item["external"]["id"], route)

    if route == "sync":
        await force_sync(client, item["id"])
    else:
        assert payload is not None
        assert (await tracker.send(anonymous_client, integration, payload)).status_code == 202
    await drain(worker)

    gone = await item_of(client, item["id"])
    assert gone["external"]["state"] == "deleted"
    assert (gone["status"], gone["external"]["id"]) == ("open", item["external"]["id"])
