"""Applying and checking the schema version.

A release's migrations keep the release before it working (they add before they take away), so
a database migrated by a newer release is fine for this one: during a rolling upgrade the
migration runs first, and the old pods keep serving until the new ones are ready. Only a schema
behind this build's head is refused.
"""

import asyncio
import functools

from alembic import command
from alembic.script import ScriptDirectory

from service.db import alembic_config, current_revision, make_engine


def upgrade(database_url: str) -> tuple[str | None, str | None]:
    """Migrate to this build's head; the revisions before and after (None: an empty schema)."""
    before = _current_revision(database_url)
    command.upgrade(alembic_config(database_url), "head")
    return before, _current_revision(database_url)


def _current_revision(database_url: str) -> str | None:
    async def read() -> str | None:
        engine = make_engine(database_url, pool_size=None)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head() -> str | None:
    return _scripts().get_current_head()


def is_behind(revision: str | None) -> bool:
    """Whether a database at `revision` needs this build's migrations: empty, or at one of this
    build's revisions before its head. A revision this build does not know is a newer release's."""
    if revision is None:
        return True
    known = {script.revision for script in _scripts().walk_revisions()}
    return revision in known and revision != head()


def pending_revision(database_url: str) -> str | None:
    """The revision the database is at when it is behind this build's head, else None."""

    current = _current_revision(database_url)
    return (current or "an empty schema") if is_behind(current) else None
