"""`postmortems worker` through a PostgreSQL outage: it keeps running, retries with a growing delay,
logs the outage once when it starts and once when it ends, and delivers again by itself."""

import asyncio
import logging
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from service.app import create_app
from service.db import DatabaseUnavailable
from service.outbox.outage import MAX_RETRY_SECONDS, DatabaseOutage
from service.settings import Settings
from tests.backends import secret_settings
from tests.factories import add_action_item, create_postmortem
from tests.fakes.github import FakeGitHub
from tests.outage.postgres import PrivatePostgres
from tests.sync.helpers import wait_until
from tests.sync.trackers import GitHubTracker
from tests.workers import messages, start_worker

RETRIES = 5  # seen before the database comes back
EXIT_TIMEOUT_SECONDS = 60


@pytest.fixture
async def admin_client(postgres: PrivatePostgres, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=postgres.url, **secret_settings(postgres.url)))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {api_key}"},
        ) as client:
            yield client
    finally:
        await app.state.database.dispose()


def retry_delays(log: Path) -> list[float]:
    return [float(re.findall(r"next try in ([0-9.]+) s", message)[0]) for message in messages(log, "DEBUG", "next try")]


async def test_the_worker_waits_out_an_outage_logging_it_once_and_delivers_again(
    postgres: PrivatePostgres, admin_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    github = FakeGitHub()
    with github:
        process = await start_worker(postgres.url, log)
        try:
            await wait_until(lambda: bool(messages(log, "INFO", "outbox worker started")), what="the worker's start")
            postgres.stop()
            await wait_until(lambda: len(retry_delays(log)) >= RETRIES, seconds=30, what=f"{RETRIES} retries")
            postgres.start()
            await wait_until(lambda: bool(messages(log, "INFO", "reachable again")), seconds=60, what="the recovery")
            await GitHubTracker(github).connect(admin_client)
            await add_action_item(admin_client, (await create_postmortem(admin_client))["id"])
            await wait_until(lambda: len(github.issues) == 1, what="the push of an item made after the outage")
            process.send_signal(signal.SIGTERM)
            exit_status = await asyncio.wait_for(process.wait(), EXIT_TIMEOUT_SECONDS)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    assert exit_status == 0, log.read_text()
    assert len(messages(log, "WARNING")) == 1
    assert messages(log, "WARNING", "the database is unreachable") != []
    assert len(messages(log, "INFO", "reachable again")) == 1
    assert messages(log, "ERROR") == []
    delays = retry_delays(log)
    assert delays == sorted(delays)
    assert delays[-1] > delays[0]


def test_retries_grow_up_to_a_cap_and_the_outage_is_logged_once_each_way(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="service.outbox.outage")
    outage = DatabaseOutage(first_retry_seconds=1.0)
    error = DatabaseUnavailable("cannot connect to the database: ConnectionRefusedError")

    delays = [outage.retry_in(error) for _ in range(12)]
    outage.noticed(error)  # a delivery's failure during the same outage
    outage.reached()
    outage.reached()

    assert delays[:5] == sorted(delays[:5])
    assert all(MAX_RETRY_SECONDS / 2 <= delay <= MAX_RETRY_SECONDS for delay in delays[-3:])
    assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]
    assert "the database is unreachable" in caplog.records[0].getMessage()
    assert "the database is reachable again" in caplog.records[1].getMessage()
