"""Action items to Jira issues and back, end to end: API -> outbox -> worker -> fake Jira -> admin webhook."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from service.core.clock import utc_now
from service.outbox.worker import Worker
from tests.factories import add_action_item, create_postmortem
from tests.fakes.jira import FakeJira, signed_webhook
from tests.fakes.server import Fault
from tests.sync.helpers import (
    SECRET,
    connect_jira,
    deliveries,
    drain,
    force_sync,
    item_of,
    patch_item,
    post_webhook,
)

CREATE_PATH = "/rest/api/3/issue"


async def linked_item(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, jira: FakeJira, worker: Worker
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A connected integration and an action item whose issue exists in Jira."""
    integration = await connect_jira(admin_client, jira)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    return integration, item


async def send_webhook(
    anonymous_client: httpx.AsyncClient,
    integration: dict[str, Any],
    payload: dict[str, Any],
    *,
    delivery_id: str | None = None,
    retry: int = 0,
) -> httpx.Response:
    headers, body = signed_webhook(payload, SECRET, delivery_id=delivery_id, retry=retry)
    return await post_webhook(anonymous_client, "jira", integration, headers, body)


def creates(jira: FakeJira) -> int:
    return sum(r.method == "POST" and r.path == CREATE_PATH for r in jira.requests)


def link_targets(document: dict[str, Any]) -> list[str]:
    """Every link in an ADF document."""
    found: list[str] = []
    for node in document.get("content", []):
        found += [m["attrs"]["href"] for m in node.get("marks", []) if m["type"] == "link"]
        found += link_targets(node)
    return found


async def test_a_new_item_becomes_exactly_one_issue_with_the_link_saved(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, jira: FakeJira, worker: Worker
) -> None:
    await connect_jira(admin_client, jira)
    postmortem = await create_postmortem(client, title="Checkout outage", severity="P1")
    created = await add_action_item(
        client, postmortem["id"], title="Add a canary stage", priority="P0", due_date="2099-01-31"
    )
    assert created["sync_status"] == "pending"

    await drain(worker)

    assert len(jira.issues) == 1
    assert creates(jira) == 1
    issue = next(iter(jira.issues.values()))
    fields = issue["fields"]
    assert (fields["summary"], fields["duedate"], fields["issuetype"]["name"]) == (
        "Add a canary stage",
        "2099-01-31",
        "Task",
    )
    assert {"postmortem", "severity:P1", "priority:P0"} <= set(fields["labels"])
    assert any(href.endswith(f"/v1/postmortems/{postmortem['id']}") for href in link_targets(fields["description"]))
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["last_sync_error"]) == ("synced", None)
    external = item["external"]
    assert external["synced_at"] is not None
    assert {k: v for k, v in external.items() if k != "synced_at"} == {
        "tracker": "jira",
        "id": issue["id"],
        "key": "OPS-1",
        "url": f"{jira.base_url}/browse/OPS-1",
        "state": "To Do",
        "unmapped": 0,
    }


@pytest.mark.parametrize(
    ("statuses", "jira_status", "resolution"),
    [
        (["in_progress"], "In Progress", None),
        (["done"], "Done", "Done"),
        (["wont_do"], "Done", "Won't Do"),
        (["in_progress", "open"], "To Do", None),
    ],
    ids=["in_progress", "done", "wont_do", "reopened"],
)
async def test_content_and_local_status_changes_are_pushed(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    statuses: list[str],
    jira_status: str,
    resolution: str | None,
) -> None:
    _, item = await linked_item(client, admin_client, jira, worker)

    await patch_item(client, item["id"], title="Renamed", priority="P0", due_date="2099-03-01", status=statuses[0])
    await drain(worker)
    for status in statuses[1:]:
        await patch_item(client, item["id"], status=status)
        await drain(worker)

    assert len(jira.issues) == 1
    fields = jira.issue(item["external"]["id"])["fields"]
    assert (fields["summary"], fields["duedate"]) == ("Renamed", "2099-03-01")
    assert "priority:P0" in fields["labels"]
    assert "priority:P1" not in fields["labels"]
    assert fields["status"]["name"] == jira_status
    assert (fields["resolution"] or {}).get("name") == resolution
    pushed = await item_of(client, item["id"])
    assert (pushed["status"], pushed["sync_status"]) == (statuses[-1], "synced")
    assert pushed["external"]["state"] == jira_status


async def test_a_create_whose_answer_was_lost_ends_with_one_issue(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, jira: FakeJira, worker: Worker
) -> None:
    await connect_jira(admin_client, jira)
    postmortem = await create_postmortem(client)
    # Jira creates the issue, then the connection drops before the worker hears about it.
    jira.faults.append(Fault(after=True, drop=True, method="POST", path_contains=CREATE_PATH))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(jira.issues) == 1
    assert creates(jira) == 1
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["external"]["id"]) == ("synced", next(iter(jira.issues)))
    assert [d["attempts"] for d in await deliveries(client)] == [2]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=503, method="POST", path_contains=CREATE_PATH),
        Fault(status=429, headers={"Retry-After": "0"}),
        Fault(drop=True),
    ],
    ids=["500", "503-on-create", "429", "dropped"],
)
async def test_transient_failures_are_retried_until_delivered(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, jira: FakeJira, worker: Worker, fault: Fault
) -> None:
    await connect_jira(admin_client, jira)
    postmortem = await create_postmortem(client)
    jira.faults.extend([fault, fault])
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(jira.issues) == 1
    assert (await item_of(client, created["id"]))["sync_status"] == "synced"
    assert [(d["status"], d["attempts"]) for d in await deliveries(client)] == [("done", 3)]


async def test_retry_after_postpones_the_next_attempt(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, jira: FakeJira, worker: Worker
) -> None:
    await connect_jira(admin_client, jira)
    postmortem = await create_postmortem(client)
    jira.faults.append(Fault(status=429, headers={"Retry-After": "120"}))
    created = await add_action_item(client, postmortem["id"])
    before = utc_now()

    await worker.run_until_idle()

    [delivery] = await deliveries(client)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert datetime.fromisoformat(delivery["next_attempt_at"]) >= before + timedelta(seconds=120)
    assert jira.issues == {}
    assert (await item_of(client, created["id"]))["sync_status"] == "pending"


@pytest.mark.parametrize("status", [400, 401])
async def test_a_permanent_failure_is_dead_at_once_listed_and_can_be_retried(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, jira: FakeJira, worker: Worker, status: int
) -> None:
    await connect_jira(admin_client, jira)
    postmortem = await create_postmortem(client)
    jira.faults.append(Fault(status=status, method="POST", path_contains=CREATE_PATH))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    item = await item_of(client, created["id"])
    assert item["sync_status"] == "failed"
    assert str(status) in item["last_sync_error"]
    dead = await deliveries(client, status="dead")
    assert [(d["action_item_id"], d["attempts"]) for d in dead] == [(created["id"], 1)]
    assert str(status) in dead[0]["last_error"]
    assert jira.issues == {}

    retried = await client.post(f"/v1/deliveries/{dead[0]['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    assert (await item_of(client, created["id"]))["sync_status"] == "pending"
    await drain(worker)

    assert len(jira.issues) == 1
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["last_sync_error"]) == ("synced", None)
    assert await deliveries(client, status="dead") == []


async def test_a_signed_webhook_changes_the_status_once_even_when_redelivered(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, jira, worker)
    jira.move(item["external"]["id"], "Done", resolution="Won't Do")
    payload = jira.webhook(item["external"]["id"])

    first = await send_webhook(anonymous_client, integration, payload, delivery_id="delivery-1")
    again = await send_webhook(anonymous_client, integration, payload, delivery_id="delivery-1", retry=1)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    await drain(worker)

    applied = await item_of(client, item["id"])
    assert (applied["status"], applied["external"]["state"]) == ("wont_do", "Done")

    # Reopened here; a late redelivery of the old event must not close it again.
    await patch_item(client, item["id"], status="open")
    await drain(worker)
    late = await send_webhook(anonymous_client, integration, payload, delivery_id="delivery-1", retry=2)
    assert late.json()["duplicate"] is True
    await drain(worker)

    assert (await item_of(client, item["id"]))["status"] == "open"
    assert jira.issue(item["external"]["id"])["fields"]["status"]["name"] == "To Do"
    assert sum(d["kind"] == "webhook.apply" for d in await deliveries(client)) == 1


@pytest.mark.parametrize("tamper", ["wrong-secret", "no-signature", "changed-body", "not-sha256"])
async def test_a_webhook_without_a_valid_signature_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    tamper: str,
) -> None:
    integration, item = await linked_item(client, admin_client, jira, worker)
    jira.move(item["external"]["id"], "Done", resolution="Done")
    headers, body = signed_webhook(
        jira.webhook(item["external"]["id"]), "another-secret" if tamper == "wrong-secret" else SECRET
    )
    if tamper == "no-signature":
        del headers["X-Hub-Signature"]
    if tamper == "changed-body":
        body = body.replace(b'"Done"', b'"To Do"', 1)
    if tamper == "not-sha256":
        headers["X-Hub-Signature"] = headers["X-Hub-Signature"].replace("sha256=", "sha1=")

    response = await post_webhook(anonymous_client, "jira", integration, headers, body)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    await drain(worker)
    assert (await item_of(client, item["id"]))["status"] == "open"
    assert [d["kind"] for d in await deliveries(client)] == ["tracker.push"]


async def test_events_about_other_issues_are_acknowledged_and_ignored(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, jira, worker)
    jira.move(item["external"]["id"], "Done", resolution="Done")
    unknown = jira.webhook(item["external"]["id"])
    unknown["issue"] = unknown["issue"] | {"id": "99999", "key": "OPS-999"}
    other_event = jira.webhook(item["external"]["id"]) | {"webhookEvent": "comment_created"}

    for payload in (unknown, other_event):
        response = await send_webhook(anonymous_client, integration, payload)
        assert (response.status_code, response.json()["duplicate"]) == (202, False)
    await drain(worker)

    assert (await item_of(client, item["id"]))["status"] == "open"
    applied = [d for d in await deliveries(client) if d["kind"] == "webhook.apply"]
    assert [d["status"] for d in applied] == ["done", "done"]


@pytest.mark.parametrize("route", ["webhook", "sync"])
async def test_an_unmapped_status_keeps_the_item_status_and_is_counted(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    route: str,
) -> None:
    integration, item = await linked_item(client, admin_client, jira, worker)
    await patch_item(client, item["id"], status="in_progress")
    await drain(worker)
    jira.add_status("Blocked", "undefined", transition_id="41")
    jira.move(item["external"]["id"], "Blocked")

    for _ in range(2):
        if route == "webhook":
            response = await send_webhook(anonymous_client, integration, jira.webhook(item["external"]["id"]))
            assert response.status_code == 202
        else:
            await force_sync(client, item["id"])
        await drain(worker)

    seen = await item_of(client, item["id"])
    assert seen["status"] == "in_progress"
    assert (seen["external"]["state"], seen["external"]["unmapped"]) == ("Blocked", 2)


@pytest.mark.parametrize("route", ["webhook", "sync"])
async def test_a_deleted_issue_marks_the_link_deleted(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
    route: str,
) -> None:
    integration, item = await linked_item(client, admin_client, jira, worker)
    jira.delete_issue(item["external"]["id"])

    if route == "webhook":
        payload = jira.webhook(item["external"]["id"], "jira:issue_deleted")
        assert (await send_webhook(anonymous_client, integration, payload)).status_code == 202
    else:
        await force_sync(client, item["id"])
    await drain(worker)

    gone = await item_of(client, item["id"])
    assert gone["external"]["state"] == "deleted"
    assert (gone["status"], gone["external"]["id"]) == ("open", item["external"]["id"])


async def test_successive_webhooks_about_one_issue_are_applied_in_the_order_they_arrived(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    jira: FakeJira,
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, jira, worker)
    moves = [("In Progress", None), ("Done", "Won't Do"), ("To Do", None), ("Done", "Done")] * 2 + [
        ("In Progress", None)
    ]
    for status, resolution in moves:
        jira.move(item["external"]["id"], status, resolution=resolution)
        response = await send_webhook(anonymous_client, integration, jira.webhook(item["external"]["id"]))
        assert response.status_code == 202

    await drain(worker)

    seen = await item_of(client, item["id"])
    assert (seen["status"], seen["external"]["state"]) == ("in_progress", "In Progress")
