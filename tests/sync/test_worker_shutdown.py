"""A worker stopped with SIGTERM, as Kubernetes stops a pod: it claims no more, lets the deliveries in
flight finish within POSTMORTEMS_SHUTDOWN_GRACE_SECONDS, releases the others so that another worker
takes them up at once rather than when their lease runs out, and exits 0.

The worker is a real `postmortems worker` process; GitHub creates each issue at once and holds its
answer, so the deliveries are in flight when the signal comes.
"""

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import add_action_item, create_postmortem
from tests.fakes.github import SlowToAnswerGitHub
from tests.sync.helpers import deliveries, item_of, quick_worker, wait_until
from tests.sync.trackers import GitHubTracker
from tests.workers import messages, start_worker

ITEMS = 3
EXIT_TIMEOUT_SECONDS = 60


@pytest.fixture
def github() -> Iterator[SlowToAnswerGitHub]:
    fake = SlowToAnswerGitHub()
    with fake:
        yield fake
    assert fake.violations == []


@pytest.fixture
async def items(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, github: SlowToAnswerGitHub
) -> list[dict[str, Any]]:
    """Action items waiting to be pushed to GitHub."""
    await GitHubTracker(github).connect(admin_client)
    postmortem = await create_postmortem(client)
    return [await add_action_item(client, postmortem["id"], title=f"Validate config push {n}") for n in range(ITEMS)]


WorkerStarter = Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def start_worker_with_pushes_in_flight(
    items: list[dict[str, Any]], github: SlowToAnswerGitHub, database_url: str, tmp_path: Path
) -> AsyncIterator[WorkerStarter]:
    """Starts a worker (with the settings given), and returns once GitHub made the issues and holds its answers."""
    started: list[asyncio.subprocess.Process] = []

    async def start(**settings: str) -> asyncio.subprocess.Process:
        process = await start_worker(database_url, tmp_path / "worker.log", **settings)
        started.append(process)
        await wait_until(
            lambda: len(github.issues) == ITEMS or process.returncode is not None, what="every push in flight"
        )
        assert process.returncode is None, (tmp_path / "worker.log").read_text()
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_deliveries_in_flight_finish_within_the_grace_period(
    client: httpx.AsyncClient,
    github: SlowToAnswerGitHub,
    items: list[dict[str, Any]],
    start_worker_with_pushes_in_flight: WorkerStarter,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    process = await start_worker_with_pushes_in_flight(shutdown_grace_seconds="60")
    process.send_signal(signal.SIGTERM)
    await wait_until(lambda: bool(messages(log, "INFO", "outbox worker stopping")), what="the worker's stopping")
    github.release.set()  # the answers come while the worker is stopping
    exit_status = await asyncio.wait_for(process.wait(), EXIT_TIMEOUT_SECONDS)

    assert exit_status == 0, log.read_text()
    assert [(await item_of(client, item["id"]))["sync_status"] for item in items] == ["synced"] * ITEMS
    assert sorted((d["status"], d["attempts"]) for d in await deliveries(client)) == [("done", 1)] * ITEMS
    assert messages(log, "INFO", "released") == []


async def test_deliveries_not_finished_in_the_grace_period_are_released_to_another_worker_at_once(
    client: httpx.AsyncClient,
    github: SlowToAnswerGitHub,
    items: list[dict[str, Any]],
    start_worker_with_pushes_in_flight: WorkerStarter,
    app: FastAPI,
    database_url: str,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    process = await start_worker_with_pushes_in_flight(shutdown_grace_seconds="0.2", outbox_lease_seconds="3600")
    process.send_signal(signal.SIGTERM)
    exit_status = await asyncio.wait_for(process.wait(), EXIT_TIMEOUT_SECONDS)
    released = await deliveries(client)
    github.release.set()
    # Another worker, at once: the hour-long leases of the stopped worker would make it find nothing.
    async with quick_worker(app, database_url) as worker:
        taken_up = await worker.run_once()

    assert exit_status == 0, log.read_text()
    assert messages(log, "INFO", f"released {ITEMS} unfinished deliveries") != []
    assert [(d["status"], d["attempts"]) for d in released] == [("pending", 1)] * ITEMS
    assert taken_up == ITEMS
    assert [(await item_of(client, item["id"]))["sync_status"] for item in items] == ["synced"] * ITEMS
    assert len(github.issues) == ITEMS  # the new attempts found the issues the stopped one had made
