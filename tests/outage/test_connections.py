"""A connection the database ends while it is in use (as a stopping server ends every session):
the unit fails with `ConnectionLost`, closing it does not fail, and the pool's next unit gets a
working connection in its place."""

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlmodel import select

from service.core.database import Database, UnitOfWork
from service.db import ConnectionLost, make_engine
from tests.outage.postgres import PrivatePostgres
from tests.sync.helpers import wait_until


async def on_driver(unit: UnitOfWork) -> Any:
    return await (await unit.driver()).fetch("SELECT pg_sleep(60)", [])


async def on_session(unit: UnitOfWork) -> Any:
    return (await (await unit.session()).exec(select(sa.func.pg_sleep(60)))).all()


@pytest.fixture
async def database(postgres: PrivatePostgres) -> AsyncIterator[Database]:
    """One pooled connection, so that the unit after the loss reuses the lost one's place."""
    database = Database(make_engine(postgres.url, pool_size=1))
    yield database
    await database.dispose()


async def end_session(server_url: str, pid: int, *, running: str = "") -> None:
    """Terminate backend `pid`, once its query contains `running`, as a fast shutdown ends every session."""
    admin = await asyncpg.connect(server_url)
    try:
        for _ in range(500):
            if await admin.fetchval(
                "SELECT position($2 in query) > 0 FROM pg_stat_activity WHERE pid = $1", pid, running
            ):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"backend {pid} never ran {running!r}")
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
@pytest.mark.parametrize("run", [on_driver, on_session], ids=["driver", "session"])
async def test_a_connection_ended_in_use_fails_the_unit_and_is_replaced_for_the_next(
    postgres: PrivatePostgres, database: Database, write: bool, run: Callable[[UnitOfWork], Coroutine[Any, Any, Any]]
) -> None:
    async with database.unit(write=write) as unit:
        pid = (await (await unit.driver()).fetch("SELECT pg_backend_pid()", []))[0][0]
        statement = asyncio.create_task(run(unit))
        await end_session(postgres.url, pid, running="pg_sleep")
        with pytest.raises(ConnectionLost):
            await statement
    # Leaving the block closed the unit without an error.

    async with database.unit(write=write) as unit:
        rows = await (await unit.driver()).fetch("SELECT pg_backend_pid()", [])
    assert rows[0][0] != pid


async def test_a_begin_on_a_connection_ended_since_it_was_taken_raises_connection_lost(
    postgres: PrivatePostgres, database: Database
) -> None:
    connection = await database.engine.connect()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    await end_session(postgres.url, await raw.fetchval("SELECT pg_backend_pid()"))
    await wait_until(raw.is_closed, what="the driver's noticing the end of the session")

    with pytest.raises(ConnectionLost):
        await connection.begin()
    await connection.close()
