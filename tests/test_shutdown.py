"""`postmortems serve` stopped by SIGTERM under load, as Kubernetes stops a pod: it stops accepting,
the requests in progress finish and are stored, none is cut off, and the process exits 0."""

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from service.migrate import upgrade
from tests.backends import scratch_database
from tests.observability.test_logs import create_api_key
from tests.servers import STOP_TIMEOUT_SECONDS, serving

IN_FLIGHT = 48  # requests under way when the signal comes, each on a connection of its own


async def test_sigterm_lets_the_requests_in_progress_finish_and_exits_0(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as database_url:
        await asyncio.to_thread(upgrade, database_url)
        api_key = create_api_key(database_url, tmp_path)
        with serving(database_url, tmp_path) as server:
            clients = [
                httpx.AsyncClient(
                    base_url=server.base_url,
                    headers={"Authorization": f"Bearer {api_key}"},
                    limits=httpx.Limits(max_connections=1),
                    trust_env=False,
                    timeout=STOP_TIMEOUT_SECONDS,
                )
                for _ in range(IN_FLIGHT)
            ]
            try:
                # Every connection accepted and idle first, so that the signal finds each with a request under way.
                for client in clients:
                    assert (await client.get("/healthz")).status_code == 200
                answers = await _posts_with_sigterm_after_the_first_answer(clients, server.process)
                exit_status = await asyncio.to_thread(server.process.wait, STOP_TIMEOUT_SECONDS)
                with pytest.raises(httpx.ConnectError):  # it stopped accepting
                    await httpx.AsyncClient(base_url=server.base_url, trust_env=False).get("/healthz")
            finally:
                for client in clients:
                    await client.aclose()
        stored = _titles_stored(database_url)

    assert [answer.status_code for answer in answers] == [201] * IN_FLIGHT
    assert stored == {answer.json()["title"] for answer in answers}
    assert exit_status == 0, server.log()


async def _posts_with_sigterm_after_the_first_answer(
    clients: list[httpx.AsyncClient], process: subprocess.Popen[bytes]
) -> list[httpx.Response]:
    async def post(number: int, client: httpx.AsyncClient) -> httpx.Response:
        response = await client.post("/v1/postmortems", json={"title": f"in flight {number}", "severity": "P3"})
        if process.poll() is None and not signalled.is_set():
            signalled.set()
            os.kill(process.pid, signal.SIGTERM)
        return response

    signalled = asyncio.Event()
    return await asyncio.gather(*(post(number, client) for number, client in enumerate(clients)))


def _titles_stored(database_url: str) -> set[str]:
    url = sa.make_url(database_url)
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg") if url.get_backend_name() != "sqlite" else url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(sa.text("SELECT title FROM postmortem")))
    finally:
        engine.dispose()
