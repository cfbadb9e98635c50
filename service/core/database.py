"""Units of database work: one pooled connection, taken on first use, and for writes one transaction.

Within a unit, the ORM session and the prebuilt statements of `core.sql` share that connection and
its transaction. Most code uses the session; hot paths run prebuilt statements on the driver, which
skips the ORM's per-statement work. Requests get their unit from `UnitOfWorkMiddleware`; the outbox
worker and the command line open their own.

    async with database.unit(write=True) as unit:
        session = await unit.session()
        ...
        await unit.commit()          # leaving the block without it rolls back
"""

import contextlib
import sqlite3
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, Self

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import SQLITE_BEGIN_OPTION, ConnectionLost


class Driver(Protocol):
    """The one call `core.sql` needs from asyncpg and aiosqlite alike; a broken constraint raises
    SQLAlchemy's `IntegrityError`, and a lost connection `ConnectionLost`, as through the session."""

    async def fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]: ...


class _Asyncpg:
    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        try:
            rows: Sequence[Sequence[Any]] = await self._connection.fetch(sql, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(sql, args, exc) from exc
        except Exception as exc:
            # Closed: the database ended the session, as SQLAlchemy judges a disconnect. SQLAlchemy discards
            # the connection when the unit gives it back (a write's rollback fails on it) or when the pool
            # next hands it out (`db._replace_connections_closed_in_the_pool`).
            if self._connection.is_closed():
                raise ConnectionLost(exc) from exc
            raise
        return rows


class _Aiosqlite:
    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        try:
            rows = await self._connection.execute_fetchall(sql, args)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(sql, args, exc) from exc
        return list(rows)


def _driver_for(dialect: Dialect, connection: Any) -> Driver:
    return _Asyncpg(connection) if dialect.driver == "asyncpg" else _Aiosqlite(connection)


_SNAPSHOT_OPTIONS: dict[str, dict[str, Any]] = {
    "postgresql": {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True},
    # A deferred transaction reads one WAL snapshot from its first SELECT to its end.
    "sqlite": {SQLITE_BEGIN_OPTION: "deferred"},
}


class Database:
    """The engine, and the connection options of reads and writes on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        if engine.dialect.name == "sqlite":
            # Reads run without a transaction; writes take the write lock when they begin, so
            # that writers queue instead of failing when another one got in between.
            self._read_engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "none"})
            self._write_engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "immediate"})
        else:
            # Reads autocommit: no BEGIN and ROLLBACK round trips around a single SELECT.
            self._read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            self._write_engine = engine

    def unit(self, *, write: bool) -> "UnitOfWork":
        return UnitOfWork(self._write_engine if write else self._read_engine, self.dialect, write=write)

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One connection, one transaction (for writes), one session; all taken when first asked for."""

    __slots__ = ("_connection", "_driver", "_engine", "_session", "dialect", "write")

    def __init__(self, engine: AsyncEngine, dialect: Dialect, *, write: bool) -> None:
        self._engine = engine
        self.dialect = dialect
        self.write = write
        self._connection: AsyncConnection | None = None
        self._session: AsyncSession | None = None
        self._driver: Driver | None = None

    async def connection(self) -> AsyncConnection:
        if self._connection is None:
            connection = await self._engine.connect()
            try:
                if self.write:
                    await connection.begin()
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
        return self._connection

    async def session(self) -> AsyncSession:
        """The ORM session, in the unit's transaction.

        It joins the transaction without owning it: `session.commit()` would not commit (use the
        unit's `commit`), while a failed flush rolls the whole transaction back.
        """
        if self._session is None:
            self._session = AsyncSession(
                bind=await self.connection(),
                expire_on_commit=False,
                autoflush=False,
            )
        return self._session

    async def snapshot_session(self) -> AsyncSession:
        """The ORM session in a read-only transaction in which every statement sees the same moment.

        For answers made of several statements that must agree with each other; a read unit's
        statements otherwise autocommit one by one (authentication may have run one already).
        """
        if self.write:
            raise RuntimeError("a write unit reads inside its own transaction already")
        await self._end_session()
        connection = await self.connection()
        if connection.in_transaction():  # SQLAlchemy's own bookkeeping: the statements before were autocommitted
            await connection.commit()
        await connection.execution_options(**_SNAPSHOT_OPTIONS[self.dialect.name])
        await connection.begin()
        return await self.session()

    async def driver(self) -> Driver:
        """The driver connection, after writing out what the session holds, so that statements see it.

        Objects the session loaded earlier do not see what statements change afterwards.
        """
        if self._session is not None:
            await self._session.flush()
        if self._driver is None:
            connection = await self.connection()
            checked_out = connection.sync_connection
            if checked_out is None or checked_out.invalidated:  # reconnecting takes I/O: SQLAlchemy's async path
                raw = await connection.get_raw_connection()
            else:  # the connection is checked out already: reading it needs no trip through a greenlet
                raw = checked_out.connection
            self._driver = _driver_for(self.dialect, raw.driver_connection)
        return self._driver

    async def flush(self) -> None:
        if self._session is not None:
            await self._session.flush()

    async def commit(self) -> None:
        """Write out the session and commit; the unit's next use starts a new transaction and session."""
        await self.flush()
        await self._end_session()
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.commit()

    async def rollback(self) -> None:
        await self._end_session()
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.rollback()

    async def _end_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def close(self) -> None:
        """Give the connection back to the pool; what was not committed is rolled back (on a lost
        connection, the database has rolled it back already: closing it cannot fail)."""
        try:
            await self._end_session()
        finally:
            connection, self._connection, self._driver = self._connection, None, None
            if connection is not None:
                with contextlib.suppress(ConnectionLost):
                    await connection.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _traceback: TracebackType | None
    ) -> None:
        await self.close()
