"""Prebuilt statements on the driver connection, and units of work sharing one transaction with the ORM."""

import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from service.action_items.models import ActionItem, ItemKind, ItemStatus, Priority
from service.core.database import Database
from service.core.sql import Statement, param
from service.postmortems.enums import Severity, Status, Template
from service.postmortems.models import Postmortem

postmortems = Postmortem.__table__  # type: ignore[attr-defined]
action_items = ActionItem.__table__  # type: ignore[attr-defined]

READ = Statement(
    sa.select(postmortems.c.id, postmortems.c.severity, postmortems.c.resolved_at, postmortems.c.services).where(
        postmortems.c.id == param("id")
    )
)
OPEN_ITEMS = Statement(
    sa.select(sa.func.count().label("open")).where(
        action_items.c.postmortem_id == param("postmortem_id"),
        action_items.c.status.in_([ItemStatus.OPEN, ItemStatus.IN_PROGRESS]),
        action_items.c.due_date < param("today"),
    )
)
RENAME = Statement(
    sa.update(postmortems)
    .where(postmortems.c.id == param("id"))
    .values(title=param("title"))
    .returning(postmortems.c.title, postmortems.c.version)
)
INSERT_WITH_ID = Statement(
    sa.insert(postmortems).values(
        id=param("id"),
        title="copy",
        severity=Severity.P2,
        template=Template.STANDARD,
        status=Status.DRAFT,
        created_at=param("now"),
        updated_at=param("now"),
        version=1,
    )
)


def _postmortem(**values: object) -> Postmortem:
    return Postmortem(title="Checkout", severity=Severity.P1, template=Template.STANDARD, status=Status.DRAFT, **values)


@pytest.fixture
def database(app: FastAPI) -> Database:
    database: Database = app.state.database
    return database


async def test_values_go_in_and_come_out_as_the_orm_converts_them(database: Database) -> None:
    resolved = datetime(2025, 1, 15, 9, 35, 12, 345678, tzinfo=UTC)
    async with database.unit(write=True) as unit:
        postmortem = _postmortem(resolved_at=resolved, services=["checkout", "payments"])
        (await unit.session()).add(postmortem)
        await unit.commit()

    async with database.unit(write=False) as unit:
        row = await READ.one(unit, id=postmortem.id)

    assert row == {
        "id": postmortem.id,
        "severity": Severity.P1,
        "resolved_at": resolved,
        "services": ["checkout", "payments"],
    }
    assert isinstance(row["id"], uuid.UUID)
    assert row["resolved_at"].tzinfo is not None


async def test_constants_are_compiled_in_and_placeholders_vary(database: Database) -> None:
    async with database.unit(write=True) as unit:
        session = await unit.session()
        postmortem = _postmortem()
        session.add(postmortem)
        await session.flush()
        for status, due in [
            (ItemStatus.OPEN, date(2025, 1, 1)),
            (ItemStatus.IN_PROGRESS, date(2025, 3, 1)),
            (ItemStatus.DONE, date(2025, 1, 1)),
        ]:
            session.add(
                ActionItem(
                    postmortem_id=postmortem.id,
                    title="t",
                    priority=Priority.P1,
                    status=status,
                    kind=ItemKind.OTHER,
                    due_date=due,
                )
            )
        await unit.commit()

    async with database.unit(write=False) as unit:
        early = await OPEN_ITEMS.one(unit, postmortem_id=postmortem.id, today=date(2025, 2, 1))
        late = await OPEN_ITEMS.one(unit, postmortem_id=postmortem.id, today=date(2025, 6, 1))

    assert (early["open"], late["open"]) == (1, 2)


async def test_statements_see_what_the_session_holds_and_roll_back_with_the_unit(database: Database) -> None:
    async with database.unit(write=True) as unit:
        postmortem = _postmortem()
        (await unit.session()).add(postmortem)  # not flushed: the statement must flush it first
        renamed = await RENAME.one(unit, id=postmortem.id, title="Renamed")
        assert renamed == {"title": "Renamed", "version": 1}
        # leaving without commit rolls back the session's insert and the statement's update alike

    async with database.unit(write=False) as unit:
        assert await READ.one_or_none(unit, id=postmortem.id) is None


async def test_a_statement_runs_inside_the_transaction_begun_by_the_unit(database: Database) -> None:
    """The statement is the unit's first: on asyncpg it must still run after BEGIN, not in autocommit."""
    postmortem_id = uuid.uuid4()
    async with database.unit(write=True) as unit:
        await INSERT_WITH_ID.all(unit, id=postmortem_id, now=datetime.now(UTC))
        await unit.rollback()

    async with database.unit(write=False) as unit:
        assert await READ.one_or_none(unit, id=postmortem_id) is None


async def test_a_broken_constraint_raises_integrity_error_as_through_the_orm(database: Database) -> None:
    postmortem_id = uuid.uuid4()
    async with database.unit(write=True) as unit:
        await INSERT_WITH_ID.all(unit, id=postmortem_id, now=datetime.now(UTC))
        with pytest.raises(IntegrityError):
            await INSERT_WITH_ID.all(unit, id=postmortem_id, now=datetime.now(UTC))


async def test_a_missing_placeholder_is_named(database: Database) -> None:
    async with database.unit(write=False) as unit:
        with pytest.raises(TypeError, match="'today'"):
            await OPEN_ITEMS.all(unit, postmortem_id=uuid.uuid4())
