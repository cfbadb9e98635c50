"""Applying and checking the schema version."""

import asyncio

from alembic import command

from service.db import alembic_config, current_revision, head_revision, make_engine


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def pending_revision(database_url: str) -> str | None:
    """The revision the database is at when it is behind head, else None."""

    async def _current() -> str | None:
        engine = make_engine(database_url, pool_size=None)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(_current())
    return None if current == head_revision() else (current or "an empty schema")
