"""What only GitHub does, end to end; the scenarios every tracker shares are in test_tracker_sync.py."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from service.outbox.runner import worker_context
from service.outbox.worker import Worker
from service.settings import Settings
from tests.factories import add_action_item, create_postmortem, submittable_postmortem
from tests.fakes.github import TOKEN, FakeGitHub
from tests.fakes.server import Fault
from tests.sync.helpers import SECRET, deliveries, drain, force_sync, item_of, patch_item, post_webhook
from tests.sync.trackers import GitHubTracker, linked_item


@pytest.fixture
def tracker(github: FakeGitHub) -> GitHubTracker:
    return GitHubTracker(github)


async def test_sync_reads_a_change_made_on_github_and_a_deleted_issue(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, worker: Worker
) -> None:
    _, item = await linked_item(client, admin_client, tracker, worker)
    number = int(item["external"]["id"])

    tracker.fake.edit_on_github(number, state="closed", state_reason="completed")
    await force_sync(client, item["id"])
    await drain(worker)
    assert (await item_of(client, item["id"]))["status"] == "done"

    tracker.fake.delete_issue(number)
    await force_sync(client, item["id"])
    await drain(worker)
    gone = await item_of(client, item["id"])
    assert gone["external"]["state"] == "deleted"
    assert gone["status"] == "done"


async def test_on_complete_policy_pushes_when_the_postmortem_completes(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, worker: Worker
) -> None:
    await tracker.connect(admin_client, push_policy="on_complete")
    postmortem = await submittable_postmortem(client)
    await drain(worker)
    assert tracker.fake.issues == {}

    for action in ("submit", "approve", "complete"):
        response = await client.post(f"/v1/postmortems/{postmortem['id']}/{action}")
        assert response.status_code == 200, response.text
    await drain(worker)

    assert len(tracker.fake.issues) == 1


async def test_integrations_never_show_their_secrets(admin_client: httpx.AsyncClient, tracker: GitHubTracker) -> None:
    integration = await tracker.connect(admin_client)
    listed = await admin_client.get("/v1/integrations")
    fetched = await admin_client.get(f"/v1/integrations/{integration['id']}")
    for text in (str(integration), listed.text, fetched.text):
        assert TOKEN not in text
        assert SECRET not in text
    assert integration["webhook_path"] == f"/v1/webhooks/github/{integration['id']}"
    assert integration["has_webhook_secret"] is True


async def test_two_workers_never_deliver_the_same_item_twice(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, app: FastAPI, database_url: str
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    items = [await add_action_item(client, postmortem["id"], title=f"Item {n}") for n in range(12)]
    settings = Settings(database_url=database_url)
    async with (
        worker_context(app.state.database, settings, app.state.secrets.box) as first,
        worker_context(app.state.database, settings, app.state.secrets.box) as second,
    ):
        await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    assert len(tracker.fake.issues) == len(items)
    assert tracker.creates() == len(items)
    assert sorted(d["attempts"] for d in await deliveries(client)) == [1] * len(items)


async def test_pushing_other_fields_keeps_a_status_set_on_github(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, worker: Worker
) -> None:
    _, item = await linked_item(client, admin_client, tracker, worker)
    number = int(item["external"]["id"])
    tracker.fake.edit_on_github(number, state="closed", state_reason="completed")

    await patch_item(client, item["id"], title="Add a canary stage to deploys")
    await drain(worker)

    issue = tracker.fake.issues[number]
    assert (issue["title"], issue["state"]) == ("Add a canary stage to deploys", "closed")
    pushed = await item_of(client, item["id"])
    assert pushed["status"] == "done"
    assert pushed["external"]["state"] == "closed:completed"


async def test_a_webhook_is_checked_for_its_signature_before_its_media_type(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, tracker: GitHubTracker
) -> None:
    integration = await tracker.connect(admin_client)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Hub-Signature-256": "sha256=" + "0" * 64}

    response = await post_webhook(anonymous_client, "github", integration, headers, b"payload=%7B%7D")

    assert response.status_code == 401
    assert response.json()["type"].endswith(":invalid-signature")


async def test_a_worker_has_several_deliveries_in_flight_at_once(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, worker: Worker
) -> None:
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    items = [await add_action_item(client, postmortem["id"], title=f"Item {n}") for n in range(6)]
    # Each create waits long enough for the others to arrive, if they are sent without waiting for it.
    tracker.fake.faults.extend(Fault(delay=0.3, method="POST", path_contains="/issues") for _ in items)

    await drain(worker)

    assert tracker.creates() == len(items)
    assert len(tracker.fake.issues) == len(items)
    assert tracker.fake.peak_in_flight > 1


async def test_a_first_push_creates_the_issue_without_looking_for_one(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, worker: Worker
) -> None:
    """No earlier attempt can have made a ticket, so the recent issues are not scanned for its marker."""
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert tracker.creates() == 1
    assert [request.method for request in tracker.fake.requests] == ["POST"]


async def test_a_retried_push_looks_for_the_issue_an_earlier_attempt_may_have_made(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: GitHubTracker, worker: Worker
) -> None:
    """GitHub created the issue but the answer never came: the retry finds it instead of making a second."""
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])
    tracker.fake.faults.append(Fault(after=True, status=502, method="POST", path_contains="/issues"))

    await drain(worker)

    assert tracker.creates() == 1
    assert len(tracker.fake.issues) == 1
    linked = await item_of(client, item["id"])
    assert linked["external"]["id"] == str(next(iter(tracker.fake.issues)))
    assert [d["attempts"] for d in await deliveries(client)] == [2]
