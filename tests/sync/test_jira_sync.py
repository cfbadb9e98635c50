"""What only Jira does, end to end; the scenarios every tracker shares are in test_tracker_sync.py."""

import logging
import math
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.outbox.worker import Worker
from tests.factories import add_action_item, create_postmortem
from tests.fakes.jira import FakeJira
from tests.fakes.server import Fault
from tests.sync.helpers import deliveries, drain, item_of, post_webhook, quick_worker
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


# -- one issue although Jira's search lags behind its creates (service.sync.creates) ------------------------
async def push_new_item(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: JiraTracker,
    app: FastAPI,
    database_url: str,
    *,
    fault: Fault,
    bound: float,
) -> dict[str, Any]:
    """An item pushed while `fault` strikes, by a worker whose POSTMORTEMS_JIRA_SEARCH_LAG_SECONDS is `bound`."""
    await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    tracker.inject(fault)
    created = await add_action_item(client, postmortem["id"])
    async with quick_worker(app, database_url, jira_search_lag_seconds=bound) as worker:
        await drain(worker)
    return await item_of(client, created["id"])


@pytest.mark.parametrize(("bound", "issues"), [(60.0, 1), (0.0, 2)], ids=["guarded", "bound-0"])
async def test_a_create_whose_answer_was_lost_waits_for_the_search_instead_of_creating_again(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: JiraTracker,
    app: FastAPI,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    bound: float,
    issues: int,
) -> None:
    """The retry comes within the search's lag, so the search does not show the issue the lost create made.
    Within the bound the worker waits until it does; with the bound at 0 (as before the guard) it makes a second."""
    tracker.fake.search_lag = 1.0
    caplog.set_level(logging.INFO)

    item = await push_new_item(client, admin_client, tracker, app, database_url, fault=tracker.lost_create, bound=bound)

    assert tracker.creates() == len(tracker.issue_ids()) == issues
    assert item["sync_status"] == "synced"
    assert [d["attempts"] for d in await deliveries(client)] == [2]  # waiting is not an attempt
    assert ("tracker.push attempt 2: deferred" in caplog.text) is (bound > 0)


async def test_an_issue_made_by_a_create_that_failed_later_is_found_by_its_id_at_once(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: JiraTracker,
    app: FastAPI,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Jira answered the create, then reading the new issue failed: its id is kept, and the retry's search
    passes it in `reconcileIssues`, which shows the issue although the search never would."""
    tracker.fake.search_lag = math.inf
    caplog.set_level(logging.INFO)
    after_create = Fault(status=503, method="GET", path_contains="/rest/api/3/issue/")

    item = await push_new_item(client, admin_client, tracker, app, database_url, fault=after_create, bound=60.0)

    [issue_id] = tracker.issue_ids()
    assert tracker.creates() == 1
    assert item["external"]["id"] == issue_id
    assert "deferred" not in caplog.text


async def test_a_refused_create_made_nothing_so_the_retry_creates_at_once(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: JiraTracker,
    app: FastAPI,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker.fake.search_lag = math.inf
    caplog.set_level(logging.INFO)
    rate_limited = Fault(status=429, headers={"Retry-After": "0"}, method="POST", path_contains=tracker.create_path)

    item = await push_new_item(client, admin_client, tracker, app, database_url, fault=rate_limited, bound=60.0)

    assert len(tracker.issue_ids()) == tracker.creates() - 1 == 1  # the refused request counts as sent
    assert item["sync_status"] == "synced"
    assert "deferred" not in caplog.text


async def test_once_the_bound_has_passed_without_a_match_the_issue_is_created(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    tracker: JiraTracker,
    app: FastAPI,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 503 leaves open whether Jira made the issue; it had not, so after the bound the retry makes it."""
    caplog.set_level(logging.INFO)
    unavailable = Fault(status=503, method="POST", path_contains=tracker.create_path)
    started = time.monotonic()

    item = await push_new_item(client, admin_client, tracker, app, database_url, fault=unavailable, bound=0.5)

    assert time.monotonic() - started >= 0.5
    assert len(tracker.issue_ids()) == 1
    assert item["sync_status"] == "synced"
    assert "tracker.push attempt 2: deferred" in caplog.text
    assert [d["attempts"] for d in await deliveries(client)] == [2]
