"""Alembic environment: migrations run on the service's own async engine."""

import asyncio
import warnings

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.exc import SAWarning

from service.db import make_engine
from service.models import metadata
from service.search.models import include_name
from service.settings import get_settings

# On SQLite a batch alteration copies one table, and reflects the tables its foreign keys reach to do so;
# SQLAlchemy cannot reflect expression indexes (those of `postmortem`) and warns, though only the copied table
# is rebuilt and the indexes stay as they are.
warnings.filterwarnings(
    "ignore", message="Skipped unsupported reflection of expression-based index", category=SAWarning
)


def _database_url() -> str:
    url = context.config.attributes.get("database_url")
    return str(url) if url else get_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = make_engine(_database_url(), pool_size=None)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_in_event_loop() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_online())


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
_run_in_event_loop()
