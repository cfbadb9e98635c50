"""How the service connects: a fixed pool that never overflows, SSL only where the URL or the host calls for it,
and SQLite connections that come back to the pool clean without a needless rollback."""

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa

from service.core.database import Database
from service.db import make_engine
from tests.backends import scratch_database

SSL_REQUEST = 80877103  # PostgreSQL's SSLRequest code; a StartupMessage carries the protocol version instead
PROTOCOL_3 = 196608


@asynccontextmanager
async def first_message_listener(host: str) -> AsyncIterator[tuple[int, list[int]]]:
    """A TCP server that records the code of the first message each client sends, then hangs up."""
    codes: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header = await reader.readexactly(8)
        codes.append(struct.unpack("!ii", header)[1])
        writer.close()

    server = await asyncio.start_server(answer, host, 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, codes


async def first_code(url: str, codes: list[int]) -> int:
    engine = make_engine(url, pool_size=None)
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the listener is no database; only its log matters
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    return codes[0]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_no_ssl_is_attempted_to_a_local_host_by_default(host: str) -> None:
    async with first_message_listener("127.0.0.1") as (port, codes):
        assert await first_code(f"postgresql://postmortems@{host}:{port}/postmortems", codes) == PROTOCOL_3


async def test_a_remote_host_is_asked_for_ssl_first_by_default() -> None:
    async with first_message_listener("127.0.0.2") as (port, codes):  # not a name the service takes as local
        assert await first_code(f"postgresql://postmortems@127.0.0.2:{port}/postmortems", codes) == SSL_REQUEST


async def test_the_url_sslmode_is_followed_on_a_local_host() -> None:
    async with first_message_listener("127.0.0.1") as (port, codes):
        url = f"postgresql://postmortems@127.0.0.1:{port}/postmortems?sslmode=require"
        assert await first_code(url, codes) == SSL_REQUEST


async def test_the_pool_never_opens_more_connections_than_its_size(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as url:
        engine = make_engine(url, pool_size=2)
        try:
            first, second = await engine.connect(), await engine.connect()
            with pytest.raises(TimeoutError):  # a third waits for one of the two to come back
                await asyncio.wait_for(engine.connect(), timeout=0.5)
            await first.close()
            third = await asyncio.wait_for(engine.connect(), timeout=5)
            await third.close()
            await second.close()
        finally:
            await engine.dispose()


async def test_a_sqlite_connection_is_rolled_back_on_return_only_when_left_in_a_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollbacks: list[bool] = []
    rollback = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(self.in_transaction)
        await rollback(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    database = Database(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1))
    try:
        async with database.unit(write=True) as unit:
            await (await unit.driver()).fetch("CREATE TABLE note (body TEXT)", [])
            await unit.commit()
        rollbacks.clear()

        async with database.unit(write=False) as unit:
            assert await (await unit.driver()).fetch("SELECT count(*) FROM note", []) == [(0,)]
        assert rollbacks == []  # a read began no transaction: nothing to roll back

        async with database.unit(write=True) as unit:  # left without commit
            await (await unit.driver()).fetch("INSERT INTO note VALUES ('lost')", [])
        assert rollbacks == [True]

        async with database.unit(write=False) as unit:
            connection = await unit.connection()
            assert (await connection.execute(sa.text("SELECT count(*) FROM note"))).scalar() == 0
    finally:
        await database.dispose()
