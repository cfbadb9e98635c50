"""Engines and the schema version check, for SQLite and PostgreSQL alike."""

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Dialect, event, make_url
from sqlalchemy.engine import URL, ExceptionContext
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, PoolProxiedConnection, PoolResetState
from sqlalchemy.util import await_

MIGRATIONS_DIR = Path(str(resources.files("service.migrations")))
SQLITE_BUSY_TIMEOUT_SECONDS = 30
SQLITE_BEGIN_OPTION = "postmortems_sqlite_begin"
SQLITE_BEGIN = {"deferred": "BEGIN", "immediate": "BEGIN IMMEDIATE"}
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_POOL_SIZE = 10
# JSON columns are read and written on every request; orjson does both several times faster than json.
_JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}


class DatabaseUnavailable(SQLAlchemyError):
    """The database cannot be reached: no connection could be made, or the one in use was lost.

    What failed may succeed once the database is back; the API answers 503 with `Retry-After`.
    A `SQLAlchemyError`, so that code handling any database error handles this one too.
    """


class ConnectionLost(DatabaseUnavailable):
    """The database closed the connection in use (it stopped or restarted); the connection is discarded."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the connection to the database was lost: {_reason(cause)}")


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


def make_engine(database_url: str, *, pool_size: int | None = DEFAULT_POOL_SIZE) -> AsyncEngine:
    """An engine with a fixed pool of `pool_size` connections, or none (`None`: one per use, for short commands).

    The pool does not overflow: a burst waits for a connection instead of opening and closing
    extra ones, which on PostgreSQL costs more than the queries it would serve.
    """
    url = async_url(database_url)
    pooling: dict[str, Any] = (
        {"poolclass": NullPool} if pool_size is None else {"pool_size": pool_size, "max_overflow": 0}
    )
    if url.get_backend_name() == "sqlite":
        # aiosqlite logs every statement with its parameters at DEBUG, tracker secrets included.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        if url.database in (None, "", ":memory:"):
            pooling = {}  # one connection holds an in-memory database: SQLAlchemy's StaticPool
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            pool_reset_on_return=None,  # `_configure_sqlite` resets: only a connection left in a transaction
            **_JSON_CODEC,
            **pooling,
        )
        _configure_sqlite(engine)
        _report_outages(engine)
        return engine
    url, ssl = _ssl_mode(url)
    engine = create_async_engine(url, connect_args={"ssl": ssl}, pool_pre_ping=False, **_JSON_CODEC, **pooling)
    _begin_asyncpg_transactions_eagerly(engine)
    _replace_connections_closed_in_the_pool(engine)
    _report_outages(engine)
    return engine


def _report_outages(engine: AsyncEngine) -> None:
    """Failing to connect, and a connection lost in use, raise `DatabaseUnavailable` from every use of the engine.

    SQLAlchemy still does what it does on a lost connection: that connection is discarded, and the
    pool's others opened before it are replaced when next taken (the database went away under all).
    """

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            raise DatabaseUnavailable(f"cannot connect to the database: {_reason(exc)}") from exc

    @event.listens_for(engine.sync_engine, "handle_error")
    def _lost(context: ExceptionContext) -> DatabaseUnavailable | None:
        if context.is_disconnect and not isinstance(context.original_exception, DatabaseUnavailable):
            return ConnectionLost(context.original_exception)
        return None


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _replace_connections_closed_in_the_pool(engine: AsyncEngine) -> None:
    """A pooled connection the database closed while it waited (a restart) is replaced before it is handed out.

    asyncpg notices the close as it happens, so this costs no round trip (unlike `pool_pre_ping`).
    The pool then replaces the others opened before it too, and retries with a fresh connection.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise InvalidatePoolError("the database closed this pooled connection")


def _ssl_mode(url: URL) -> tuple[URL, str]:
    """The URL's `sslmode` (libpq's names) as asyncpg's `ssl`; by default none on a local host or socket.

    asyncpg, like libpq, tries SSL first ("prefer") when not told otherwise, which costs a round
    trip and a TLS context on every new connection. Over loopback or a Unix socket there is nothing
    to protect, so SSL is used there only when the URL asks for it; remote hosts keep "prefer".
    """
    mode = url.query.get("sslmode")
    if isinstance(mode, str):
        return url.difference_update_query(["sslmode"]), mode
    host = url.host or url.query.get("host")
    local = host is None or (isinstance(host, str) and (host in LOCAL_HOSTS or host.startswith("/")))
    return url, "disable" if local else "prefer"


def _begin_asyncpg_transactions_eagerly(engine: AsyncEngine) -> None:
    """Send BEGIN when SQLAlchemy begins a transaction, not when it next runs a statement itself.

    SQLAlchemy's asyncpg adapter defers BEGIN to its own next statement, so a statement run on the
    driver connection first (`core.sql`) would run outside the transaction. The adapter's
    `_start_transaction` is what it calls itself at that point; it does nothing on autocommit
    connections. tests/core/test_sql.py fails if a driver statement ever escapes the transaction.

    A failed BEGIN goes through SQLAlchemy's own error handling, as a failed statement does: a lost
    connection is discarded and reported (`_report_outages`).
    """

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        adapted = connection.connection.dbapi_connection
        if adapted is not None and adapted._transaction is None:
            try:
                await_(adapted._start_transaction())
            except Exception as exc:
                connection._handle_dbapi_exception(exc, None, None, None, None)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, and the BEGIN each unit of work asks for.

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
        # 1 MiB of page cache per connection instead of 2: the pool's connections cache the same pages,
        # and the operating system's cache is behind them (10 MB less resident, no slower).
        cursor.execute("PRAGMA cache_size=-1024")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # The pool's own reset rolls back every returned connection, a trip through aiosqlite's
        # thread even after a read that never began a transaction.
        if state.asyncio_safe and not state.terminate_only and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "deferred")
        if mode in SQLITE_BEGIN:
            connection.exec_driver_sql(SQLITE_BEGIN[mode])


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


async def current_revision(engine: AsyncEngine) -> str | None:
    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)
