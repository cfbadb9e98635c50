"""What only Jira does, end to end; the scenarios every tracker shares are in test_tracker_sync.py."""

import httpx
import pytest

from service.outbox.worker import Worker
from tests.fakes.jira import FakeJira
from tests.sync.helpers import drain, item_of, post_webhook
from tests.sync.trackers import JiraTracker, assert_refused_and_nothing_changed, linked_item


@pytest.fixture
def tracker(jira: FakeJira) -> JiraTracker:
    return JiraTracker(jira)


async def test_a_webhook_signed_with_another_algorithm_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: JiraTracker,
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    tracker.finish_on_tracker(item["external"]["id"])
    headers, body = tracker.signed(tracker.webhook(item["external"]["id"]))
    headers["X-Hub-Signature"] = headers["X-Hub-Signature"].replace("sha256=", "sha1=")

    response = await post_webhook(anonymous_client, "jira", integration, headers, body)

    await assert_refused_and_nothing_changed(response, client, worker, item)


async def test_successive_webhooks_about_one_issue_are_applied_in_the_order_they_arrived(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: JiraTracker,
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    moves = [("In Progress", None), ("Done", "Won't Do"), ("To Do", None), ("Done", "Done")] * 2 + [
        ("In Progress", None)
    ]
    for status, resolution in moves:
        tracker.fake.move(item["external"]["id"], status, resolution=resolution)
        response = await tracker.send(anonymous_client, integration, tracker.webhook(item["external"]["id"]))
        assert response.status_code == 202

    await drain(worker)

    seen = await item_of(client, item["id"])
    assert (seen["status"], seen["external"]["state"]) == ("in_progress", "In Progress")
