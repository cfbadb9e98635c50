"""Engines, sessions and the schema version check, for SQLite and PostgreSQL alike."""

import logging
from importlib import resources
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(str(resources.files("service.migrations")))
SQLITE_BUSY_TIMEOUT_SECONDS = 30
SQLITE_BEGIN_OPTION = "postmortems_sqlite_begin"
SQLITE_BEGIN = {"deferred": "BEGIN", "immediate": "BEGIN IMMEDIATE"}


def async_url(database_url: str) -> URL:
    """Pick the async driver: aiosqlite for SQLite, asyncpg for PostgreSQL."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def make_engine(database_url: str, *, pooled: bool = True) -> AsyncEngine:
    url = async_url(database_url)
    kwargs: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if url.get_backend_name() == "sqlite":
        # aiosqlite logs every statement with its parameters at DEBUG, tracker secrets included.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=False, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, and the BEGIN each session factory asks for.

    A deferred transaction that reads and then writes fails with SQLITE_BUSY when another
    writer got in between; `BEGIN IMMEDIATE` takes the write lock up front so writers queue.
    Reads run without a transaction ("none"), saving two round trips through aiosqlite's thread.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "deferred")
        if mode in SQLITE_BEGIN:
            connection.exec_driver_sql(SQLITE_BEGIN[mode])


def make_session_factories(
    engine: AsyncEngine,
) -> tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]:
    """(read, write) session factories.

    Reads autocommit (no BEGIN/ROLLBACK round trips); writes run in one transaction, which on
    SQLite takes the write lock when it begins.
    """
    if engine.dialect.name == "sqlite":
        read_options: dict[str, Any] = {SQLITE_BEGIN_OPTION: "none"}
        write_options: dict[str, Any] = {SQLITE_BEGIN_OPTION: "immediate"}
    else:
        read_options, write_options = {"isolation_level": "AUTOCOMMIT"}, {}

    def factory(options: dict[str, Any]) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(
            engine.execution_options(**options), class_=AsyncSession, expire_on_commit=False, autoflush=False
        )

    return factory(read_options), factory(write_options)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)
