"""Alembic migrations are the schema: they build it from nothing, match the models, and undo cleanly."""

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from service.db import alembic_config, make_engine
from service.migrate import head, pending_revision, upgrade
from service.models import metadata
from service.search.models import include_name
from tests.backends import scratch_database

T = TypeVar("T")


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path) as url:
        yield url


def on_connection(database_url: str, work: Callable[[Connection], T]) -> T:
    async def run() -> T:
        engine = make_engine(database_url, pool_size=None)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(connection: Connection) -> set[str]:
    """Tables, leaving out the search index that backs a model table (SQLite FTS5 and its shadow tables)."""
    return {name for name in sa.inspect(connection).get_table_names() if include_name(name, "table", {})}


def revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def differences(target: MetaData) -> Callable[[Connection], list[Any]]:
    """What `alembic revision --autogenerate` would write to turn the database into `target`."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": target, "include_name": include_name}
        )
        return list(compare_metadata(context, target))

    return compare


def test_upgrade_head_builds_every_table_on_an_empty_database(empty_database: str) -> None:
    assert on_connection(empty_database, tables) == set()
    assert pending_revision(empty_database) == "an empty schema"

    upgrade(empty_database)

    assert on_connection(empty_database, tables) == set(metadata.tables) | {"alembic_version"}
    assert on_connection(empty_database, revision) == head()
    assert pending_revision(empty_database) is None


def test_the_migrations_match_the_models(empty_database: str) -> None:
    upgrade(empty_database)
    diff = on_connection(empty_database, differences(metadata))
    assert diff == [], (
        "the models and the migrations disagree; write a migration "
        "(`.venv/bin/alembic revision --autogenerate -m ...`) and review it:\n" + "\n".join(map(str, diff))
    )


def test_the_comparison_notices_a_model_the_migrations_lack(empty_database: str) -> None:
    upgrade(empty_database)
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["postmortem"].append_column(sa.Column("severity_reason", sa.String(200)))
    sa.Table("postmortem_watcher", changed, sa.Column("id", sa.Uuid, primary_key=True))

    diff = on_connection(empty_database, differences(changed))

    assert {(change[0], change[3].name) for change in diff if change[0] == "add_column"} == {
        ("add_column", "severity_reason")
    }
    assert {change[1].name for change in diff if change[0] == "add_table"} == {"postmortem_watcher"}


def test_downgrade_to_base_and_upgrade_again_round_trips(empty_database: str) -> None:
    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")

    assert on_connection(empty_database, tables) <= {"alembic_version"}
    assert on_connection(empty_database, revision) is None

    upgrade(empty_database)

    assert on_connection(empty_database, revision) == head()
    assert on_connection(empty_database, differences(metadata)) == []
