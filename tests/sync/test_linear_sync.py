"""Action items to Linear issues and back, end to end: API -> outbox -> worker -> fake Linear -> webhook."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from service.core.clock import utc_now
from service.outbox.worker import Worker
from tests.factories import add_action_item, create_postmortem
from tests.fakes.linear import API_KEY, FakeIssue, FakeLinear, GraphQLFault, now_iso, now_ms, sign_webhook
from tests.fakes.server import Fault
from tests.sync.helpers import (
    SECRET,
    connect,
    deliveries,
    drain,
    force_sync,
    item_of,
    patch_item,
    post_webhook,
)


def internal_error(**options: Any) -> GraphQLFault:
    return GraphQLFault("Internal server error", "INTERNAL_SERVER_ERROR", "internal error", status=500, **options)


def rate_limited() -> GraphQLFault:
    """Linear's rate limit answer: HTTP 400, code RATELIMITED, and the exhausted budget's reset (epoch ms)."""
    headers = {"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": str(now_ms())}
    return GraphQLFault("Rate limit exceeded", "RATELIMITED", "ratelimited", status=400, headers=headers)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLinear]:
    with FakeLinear() as running:
        assert isinstance(running, FakeLinear)
        yield running


@pytest.fixture
def linear(server: FakeLinear) -> Iterator[FakeLinear]:
    server.reset()
    yield server
    assert server.violations == []


def inject(linear: FakeLinear, fault: Fault | GraphQLFault) -> None:
    if isinstance(fault, GraphQLFault):
        linear.graphql_faults.append(fault)
    else:
        linear.faults.append(fault)


async def connect_linear(admin_client: httpx.AsyncClient, linear: FakeLinear) -> dict[str, Any]:
    return await connect(
        admin_client,
        {
            "kind": "linear",
            "name": "eng-linear",
            "base_url": linear.base_url,
            "settings": {"team_id": linear.team_id},
            "credentials": {"token": API_KEY},
        },
    )


async def linked_item(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, linear: FakeLinear, worker: Worker
) -> tuple[dict[str, Any], dict[str, Any], FakeIssue]:
    """A connected integration, and an action item whose issue exists in Linear."""
    integration = await connect_linear(admin_client, linear)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    return integration, item, linear.issues[item["external"]["id"]]


def move(linear: FakeLinear, issue: FakeIssue, state: str) -> None:
    """What a person does in Linear: put the issue into another workflow state."""
    linear.update_issue(issue.id, {"stateId": linear.state_named(state).id})


async def send_webhook(
    anonymous_client: httpx.AsyncClient,
    integration: dict[str, Any],
    payload: dict[str, Any],
    *,
    secret: str = SECRET,
    delivery_id: str | None = None,
    with_delivery: bool = True,
) -> httpx.Response:
    headers, body = sign_webhook(payload, secret, delivery_id=delivery_id, with_delivery=with_delivery)
    return await post_webhook(anonymous_client, "linear", integration, headers, body)


async def test_a_new_item_becomes_exactly_one_issue_with_the_link_saved(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, linear: FakeLinear, worker: Worker
) -> None:
    await connect_linear(admin_client, linear)
    postmortem = await create_postmortem(client, title="Checkout outage", severity="P1")
    created = await add_action_item(
        client, postmortem["id"], title="Add a canary stage", priority="P0", due_date="2099-01-31"
    )
    assert created["sync_status"] == "pending"

    await drain(worker)

    assert len(linear.issues) == 1
    assert linear.operations.count("issueCreate") == 1
    issue = next(iter(linear.issues.values()))
    assert (issue.title, issue.priority, issue.due_date) == ("Add a canary stage", 1, "2099-01-31")
    assert f"/v1/postmortems/{postmortem['id']}" in (issue.description or "")
    assert {"postmortem", "severity:P1", "priority:P0"} <= linear.label_names(issue)
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["last_sync_error"]) == ("synced", None)
    external = item["external"]
    assert external["synced_at"] is not None
    assert {k: v for k, v in external.items() if k != "synced_at"} == {
        "tracker": "linear",
        "id": issue.id,
        "key": "ENG-1",
        "url": linear.url(issue),
        "state": "backlog",
        "unmapped": 0,
    }


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        (["in_progress"], "In Progress"),
        (["done"], "Done"),
        (["wont_do"], "Canceled"),
        (["in_progress", "open"], "Todo"),
    ],
    ids=["in_progress", "done", "wont_do", "reopened"],
)
async def test_content_and_local_status_changes_are_pushed(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    statuses: list[str],
    state: str,
) -> None:
    _, item, issue = await linked_item(client, admin_client, linear, worker)

    await patch_item(client, item["id"], title="Renamed", priority="P2", due_date="2099-03-01", status=statuses[0])
    await drain(worker)
    for status in statuses[1:]:
        await patch_item(client, item["id"], status=status)
        await drain(worker)

    assert len(linear.issues) == 1
    assert (issue.title, issue.priority, issue.due_date) == ("Renamed", 3, "2099-03-01")
    assert {"priority:P2", "priority:P1"} & linear.label_names(issue) == {"priority:P2"}
    assert linear.state_of(issue).name == state
    pushed = await item_of(client, item["id"])
    assert (pushed["status"], pushed["sync_status"]) == (statuses[-1], "synced")
    assert pushed["external"]["state"] == linear.state_of(issue).type


async def test_a_create_whose_answer_was_lost_ends_with_one_issue(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, linear: FakeLinear, worker: Worker
) -> None:
    await connect_linear(admin_client, linear)
    postmortem = await create_postmortem(client)
    # Linear creates the issue, then answers with an error: the worker never learns it exists.
    linear.graphql_faults.append(internal_error(after=True, field="issueCreate"))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(linear.issues) == 1
    assert linear.operations.count("issueCreate") == 1
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["external"]["id"]) == ("synced", next(iter(linear.issues)))
    assert [d["attempts"] for d in await deliveries(client)] == [2]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=429, headers={"Retry-After": "0"}),
        Fault(drop=True),
        rate_limited(),
        internal_error(field="issueCreate"),
    ],
    ids=["500", "429", "dropped", "ratelimited", "internal-error-on-create"],
)
async def test_transient_failures_are_retried_until_delivered(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    fault: Fault | GraphQLFault,
) -> None:
    await connect_linear(admin_client, linear)
    postmortem = await create_postmortem(client)
    inject(linear, fault)
    inject(linear, fault)
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(linear.issues) == 1
    assert (await item_of(client, created["id"]))["sync_status"] == "synced"
    assert [(d["status"], d["attempts"]) for d in await deliveries(client)] == [("done", 3)]


async def test_retry_after_postpones_the_next_attempt(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, linear: FakeLinear, worker: Worker
) -> None:
    await connect_linear(admin_client, linear)
    postmortem = await create_postmortem(client)
    linear.faults.append(Fault(status=429, headers={"Retry-After": "120"}))
    created = await add_action_item(client, postmortem["id"])
    before = utc_now()

    await worker.run_until_idle()

    [delivery] = await deliveries(client)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert datetime.fromisoformat(delivery["next_attempt_at"]) >= before + timedelta(seconds=120)
    assert linear.issues == {}
    assert (await item_of(client, created["id"]))["sync_status"] == "pending"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=401), "401"),
        (GraphQLFault("Argument Validation Error", "INPUT_ERROR", "invalid input", field="issueCreate"), "Argument"),
    ],
    ids=["unauthorized", "invalid-input"],
)
async def test_a_permanent_failure_is_dead_at_once_listed_and_can_be_retried(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    fault: Fault | GraphQLFault,
    error: str,
) -> None:
    await connect_linear(admin_client, linear)
    postmortem = await create_postmortem(client)
    inject(linear, fault)
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    item = await item_of(client, created["id"])
    assert item["sync_status"] == "failed"
    assert error in item["last_sync_error"]
    dead = await deliveries(client, status="dead")
    assert [(d["action_item_id"], d["attempts"]) for d in dead] == [(created["id"], 1)]
    assert error in dead[0]["last_error"]
    assert linear.issues == {}

    retried = await client.post(f"/v1/deliveries/{dead[0]['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    await drain(worker)

    assert len(linear.issues) == 1
    item = await item_of(client, created["id"])
    assert (item["sync_status"], item["last_sync_error"]) == ("synced", None)
    assert await deliveries(client, status="dead") == []


@pytest.mark.parametrize("with_delivery", [True, False], ids=["delivery-header", "no-delivery-header"])
async def test_a_signed_webhook_changes_the_status_once_even_when_redelivered(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    with_delivery: bool,
) -> None:
    integration, item, issue = await linked_item(client, admin_client, linear, worker)
    before = linear.state_of(issue).id
    move(linear, issue, "In Review")
    payload = linear.issue_webhook(issue, updated_from={"stateId": before})

    async def deliver() -> httpx.Response:
        return await send_webhook(
            anonymous_client, integration, payload, delivery_id="delivery-1", with_delivery=with_delivery
        )

    first, again = await deliver(), await deliver()
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    await drain(worker)

    applied = await item_of(client, item["id"])
    assert (applied["status"], applied["external"]["state"]) == ("in_progress", "started")

    # Finished here; a late redelivery of the old event must not take it back to in progress.
    await patch_item(client, item["id"], status="done")
    await drain(worker)
    assert (await deliver()).json()["duplicate"] is True
    await drain(worker)

    assert (await item_of(client, item["id"]))["status"] == "done"
    assert linear.state_of(issue).name == "Done"
    assert sum(d["kind"] == "webhook.apply" for d in await deliveries(client)) == 1


@pytest.mark.parametrize(
    "tamper", ["wrong-secret", "no-signature", "changed-body", "prefixed", "stale", "from-the-future"]
)
async def test_a_webhook_without_a_valid_signature_or_too_old_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    tamper: str,
) -> None:
    integration, item, issue = await linked_item(client, admin_client, linear, worker)
    move(linear, issue, "Done")
    shift = {"stale": -120_000, "from-the-future": 120_000}.get(tamper, 0)
    payload = linear.issue_webhook(issue, at_ms=now_ms() + shift)
    headers, body = sign_webhook(payload, "another-secret" if tamper == "wrong-secret" else SECRET)
    if tamper == "no-signature":
        del headers["Linear-Signature"]
    if tamper == "changed-body":
        body = body.replace(b'"completed"', b'"canceled"', 1)
    if tamper == "prefixed":
        headers["Linear-Signature"] = "sha256=" + headers["Linear-Signature"]

    response = await post_webhook(anonymous_client, "linear", integration, headers, body)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    await drain(worker)
    assert (await item_of(client, item["id"]))["status"] == "open"
    assert [d["kind"] for d in await deliveries(client)] == ["tracker.push"]


async def test_events_about_other_issues_or_types_are_acknowledged_and_ignored(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
) -> None:
    integration, item, issue = await linked_item(client, admin_client, linear, worker)
    stranger = linear.add_issue("Made in Linear", state="Done")
    comment = {
        "id": "c0ffee00-0000-4000-8000-000000000000",
        "body": "Looks good",
        "issueId": issue.id,
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
        "reactionData": {},
    }
    payloads = [
        linear.issue_webhook(stranger),
        linear.entity_webhook("Comment", "create", comment),
    ]

    for payload in payloads:
        response = await send_webhook(anonymous_client, integration, payload)
        assert (response.status_code, response.json()["duplicate"]) == (202, False)
    await drain(worker)

    assert (await item_of(client, item["id"]))["status"] == "open"
    applied = [d for d in await deliveries(client) if d["kind"] == "webhook.apply"]
    assert [d["status"] for d in applied] == ["done", "done"]


@pytest.mark.parametrize("route", ["webhook", "sync"])
async def test_an_unmapped_state_keeps_the_item_status_and_is_counted(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    route: str,
) -> None:
    integration, item, issue = await linked_item(client, admin_client, linear, worker)
    await patch_item(client, item["id"], status="in_progress")
    await drain(worker)
    linear.add_state("Paused", "paused", 3.5)
    move(linear, issue, "Paused")

    for _ in range(2):
        if route == "webhook":
            response = await send_webhook(anonymous_client, integration, linear.issue_webhook(issue))
            assert response.status_code == 202
        else:
            await force_sync(client, item["id"])
        await drain(worker)

    seen = await item_of(client, item["id"])
    assert seen["status"] == "in_progress"
    assert (seen["external"]["state"], seen["external"]["unmapped"]) == ("paused", 2)


@pytest.mark.parametrize("route", ["remove-webhook", "trashed-webhook", "sync"])
async def test_a_deleted_issue_marks_the_link_deleted(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    linear: FakeLinear,
    worker: Worker,
    route: str,
) -> None:
    integration, item, issue = await linked_item(client, admin_client, linear, worker)
    issue.trashed = True

    if route == "sync":
        await force_sync(client, item["id"])
    else:
        payload = linear.issue_webhook(issue, "remove" if route == "remove-webhook" else "update")
        assert (await send_webhook(anonymous_client, integration, payload)).status_code == 202
    await drain(worker)

    gone = await item_of(client, item["id"])
    assert gone["external"]["state"] == "deleted"
    assert (gone["status"], gone["external"]["id"]) == ("open", issue.id)
