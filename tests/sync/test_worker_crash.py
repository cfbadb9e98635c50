"""A worker killed after the tracker created the ticket but before the link was saved: still exactly one ticket.

The worker runs as a real `postmortems worker` process against the test database and is killed with
SIGKILL while GitHub has created the issue but not yet answered; a fresh worker takes the delivery over
once the lease ran out.
"""

import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import add_action_item, create_postmortem
from tests.fakes.github import TOKEN, SlowToAnswerGitHub
from tests.sync.helpers import SECRET, deliveries, drain, item_of, post_webhook, quick_worker, wait_until
from tests.sync.trackers import GitHubTracker
from tests.workers import start_worker


@pytest.fixture
def github() -> Iterator[SlowToAnswerGitHub]:
    fake = SlowToAnswerGitHub()
    with fake:
        try:
            yield fake
        finally:
            fake.release.set()
    assert fake.violations == []


async def test_a_worker_killed_before_saving_the_link_leaves_exactly_one_issue(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    github: SlowToAnswerGitHub,
    app: FastAPI,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    integration = await GitHubTracker(github).connect(admin_client)
    # A webhook first, so the worker process also handles the webhook secret before it dies.
    headers, body = github.issue_delivery(4242, "reopened", SECRET)
    assert (await post_webhook(anonymous_client, "github", integration, headers, body)).status_code == 202
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    log = tmp_path / "worker.log"

    process = await start_worker(database_url, log, outbox_lease_seconds="1")
    try:
        # The worker runs deliveries concurrently: wait until the webhook is applied and the issue created.
        await wait_until(
            lambda: (
                (bool(github.issues) and "webhook.apply attempt 1: done" in log.read_text())
                or process.returncode is not None
            ),
            what="the webhook's application and the issue's creation",
        )
        assert process.returncode is None, log.read_text()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
    github.release.set()

    assert process.returncode == -signal.SIGKILL
    assert len(github.issues) == 1
    unsaved = await item_of(client, created["id"])
    assert (unsaved["sync_status"], unsaved["external"]) == ("pending", None)

    caplog.set_level(logging.DEBUG)
    async with quick_worker(app, database_url) as worker:
        await drain(worker)

    assert len(github.issues) == 1
    assert sum(r.method == "POST" and r.path.endswith("/issues") for r in github.requests) == 1
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    assert item["external"]["id"] == str(next(iter(github.issues)))
    assert sorted((d["kind"], d["status"], d["attempts"]) for d in await deliveries(client)) == [
        ("tracker.push", "done", 2),
        ("webhook.apply", "done", 1),
    ]
    output = log.read_text()
    assert "outbox worker started" in output
    assert "webhook.apply attempt 1: done" in output
    for secret in (TOKEN, SECRET):
        assert secret not in output
        assert secret not in caplog.text
