"""Liveness and readiness probes: no key needed; ready only when the database answers at the schema's head
(or a newer release's)."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text

from service.app import create_app
from service.db import make_engine
from service.migrate import head, pending_revision, upgrade
from service.settings import Settings
from tests.backends import postgres_server_url, scratch_database
from tests.problems import assert_problem


async def test_healthz_answers_without_a_key(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_ready_on_a_migrated_database(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.fixture
def unmigrated_database(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path) as url:
        yield url


def unreachable_database(tmp_path: Path) -> str:
    server_url = postgres_server_url()
    if server_url is None:
        return f"sqlite:///{tmp_path / 'missing-directory' / 'postmortems.db'}"
    return make_url(server_url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)


@asynccontextmanager
async def anonymous_client_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.engine.dispose()


@pytest.fixture
async def unmigrated_client(unmigrated_database: str) -> AsyncIterator[httpx.AsyncClient]:
    async with anonymous_client_for(unmigrated_database) as client:
        yield client


@pytest.fixture
async def unreachable_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with anonymous_client_for(unreachable_database(tmp_path)) as client:
        yield client


async def test_readyz_is_unavailable_while_the_schema_is_behind_head(unmigrated_client: httpx.AsyncClient) -> None:
    problem = assert_problem(await unmigrated_client.get("/readyz"), 503)
    assert problem["instance"] == "/readyz"
    assert str(head()) in problem["detail"]
    assert "postmortems migrate" in problem["detail"]


async def test_healthz_answers_while_the_schema_is_behind_head(unmigrated_client: httpx.AsyncClient) -> None:
    response = await unmigrated_client.get("/healthz")
    assert response.status_code == 200


async def test_readyz_is_unavailable_when_the_database_cannot_be_reached(
    unreachable_client: httpx.AsyncClient,
) -> None:
    problem = assert_problem(await unreachable_client.get("/readyz"), 503)
    assert problem["detail"] == "the database is unreachable"


async def test_readyz_is_ready_on_a_schema_a_newer_release_migrated(unmigrated_database: str) -> None:
    """During a rolling upgrade the migration hook runs first; the old pods must stay ready meanwhile."""
    await asyncio.to_thread(upgrade, unmigrated_database)
    engine = make_engine(unmigrated_database, pool_size=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'a-newer-release'"))
    finally:
        await engine.dispose()

    async with anonymous_client_for(unmigrated_database) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert await asyncio.to_thread(pending_revision, unmigrated_database) is None  # and `serve` starts on it
