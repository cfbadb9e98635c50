"""A worker killed after the tracker created the ticket but before the link was saved: still exactly one ticket.

The worker runs as a real `postmortems worker` process against the test database and is killed with
SIGKILL while the tracker has created the issue but not yet answered; a fresh worker takes the delivery
over once the lease ran out. GitHub's lookup (its recent issues list) sees the issue at once. Jira's
search shows it only JIRA_SEARCH_LAG seconds after it was made, and the fresh worker comes within that
window: it must wait for the search instead of creating a second issue.
"""

import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import add_action_item, create_postmortem
from tests.fakes.jira import FakeJira
from tests.sync.helpers import SECRET, deliveries, drain, item_of, post_webhook, quick_worker, wait_until
from tests.sync.trackers import Tracker
from tests.workers import start_worker

LEASE_SECONDS = 1  # the killed worker's claim runs out after this long
JIRA_SEARCH_LAG = 4.0  # well beyond the lease, so the fresh worker's first search comes before the issue shows
SEARCH_LAG_BOUND = 60.0  # POSTMORTEMS_JIRA_SEARCH_LAG_SECONDS of the fresh worker: above the fake's lag


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira()
    fake.search_lag = JIRA_SEARCH_LAG
    with fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets the tracker answer the held create; set at the latest when the test ends, so that the fake can stop."""
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize(("tracker", "waits_for_the_search"), [("github", False), ("jira", True)], indirect=["tracker"])
async def test_a_worker_killed_before_saving_the_link_leaves_exactly_one_issue(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    waits_for_the_search: bool,
    release: threading.Event,
    app: FastAPI,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    integration = await tracker.connect(admin_client)
    # A webhook first, so the worker process also handles the webhook secret before it dies.
    headers, body = tracker.signed(tracker.stranger_webhook())
    assert (await post_webhook(anonymous_client, tracker.kind, integration, headers, body)).status_code == 202
    postmortem = await create_postmortem(client)
    tracker.hold_create(release)
    created = await add_action_item(client, postmortem["id"])
    log = tmp_path / "worker.log"

    process = await start_worker(database_url, log, outbox_lease_seconds=str(LEASE_SECONDS))
    try:
        # The worker runs deliveries concurrently: wait until the webhook is applied and the issue created.
        await wait_until(
            lambda: (
                (bool(tracker.issue_ids()) and "webhook.apply attempt 1: done" in log.read_text())
                or process.returncode is not None
            ),
            what="the webhook's application and the issue's creation",
        )
        assert process.returncode is None, log.read_text()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
    release.set()

    assert process.returncode == -signal.SIGKILL
    assert len(tracker.issue_ids()) == 1
    unsaved = await item_of(client, created["id"])
    assert (unsaved["sync_status"], unsaved["external"]) == ("pending", None)

    caplog.set_level(logging.DEBUG)
    async with quick_worker(app, database_url, jira_search_lag_seconds=SEARCH_LAG_BOUND) as worker:
        await drain(worker, seconds=30)

    [issue_id] = tracker.issue_ids()
    assert tracker.creates() == 1
    assert ("tracker.push attempt 2: deferred" in caplog.text) is waits_for_the_search
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    assert item["external"]["id"] == issue_id
    assert sorted((d["kind"], d["status"], d["attempts"]) for d in await deliveries(client)) == [
        ("tracker.push", "done", 2),  # waiting for the search is not an attempt
        ("webhook.apply", "done", 1),
    ]
    output = log.read_text()
    assert "outbox worker started" in output
    assert "webhook.apply attempt 1: done" in output
    for secret in (tracker.token, SECRET):
        assert secret not in output
        assert secret not in caplog.text
