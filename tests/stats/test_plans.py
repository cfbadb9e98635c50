"""How GET /v1/stats reads the database: in one statement, planned for its window, from the indexes meant for it.

These tests look at the statement and its plan, not at the figures: test_router.py checks those, on the
same backends.
"""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import col

from service.postmortems.models import Postmortem
from service.stats.models import StatsParams
from service.stats.service import Filters, parameters, resolve_window, statement
from tests.factories import create_postmortem

QUARTER = {"from": "2025-01-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}
STATS_INDEXES = {
    "ix_postmortem_incident_at_status",  # the postmortems in the window
    "ix_postmortem_failure_mode_incident_at",  # the repeats
    "ix_action_item_due_date_status",  # action items due in the window
    "ix_action_item_status_due_date",  # overdue action items
}


def bound(app: FastAPI, **params: str) -> Any:
    """The statement for `params` on the app's backend, with their values."""
    window = resolve_window(StatsParams.model_validate(params))
    query = statement(postgresql=app.state.engine.dialect.name == "postgresql", filters=Filters.of(window))
    return query.params(parameters(window))


def compiled(app: FastAPI, **params: str) -> str:
    """The statement for `params`, as the app's backend runs it, with its values written in."""
    return str(bound(app, **params).compile(dialect=app.state.engine.dialect, compile_kwargs={"literal_binds": True}))


def on(app: FastAPI, backend: str) -> None:
    if app.state.engine.dialect.name != backend:
        pytest.skip(f"a {backend} plan")


async def postgresql_plan(app: FastAPI, sql: str, *settings: str) -> list[dict[str, Any]]:
    """The plan's nodes, with sequential scans and sorts discouraged.

    The test tables are nearly empty, where reading the table is cheapest; discouraged, the plan shows
    which index can serve each part, and give its rows in order, rather than what a planner would pick
    at volume.
    """
    async with app.state.engine.connect() as connection:
        await connection.begin()
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        await connection.exec_driver_sql("SET LOCAL enable_sort = off")
        for setting in settings:
            await connection.exec_driver_sql(f"SET LOCAL {setting}")
        found = (await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql)).scalar_one()
        await connection.rollback()
    plan = json.loads(found) if isinstance(found, str) else found
    return list(_nodes(plan[0]["Plan"]))


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def sqlite_plan(app: FastAPI, sql: str) -> list[str]:
    async with app.state.engine.connect() as connection:
        rows = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)).all()
    return [row[-1] for row in rows]


async def test_on_postgresql_a_quarter_is_read_from_indexes_alone(app: FastAPI) -> None:
    on(app, "postgresql")

    nodes = await postgresql_plan(app, compiled(app, **QUARTER))

    assert [node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"] == []
    assert {node.get("Index Name") for node in nodes} >= STATS_INDEXES - {"ix_postmortem_incident_at_status"}
    # On tables this small the planner may read the window through the table; at volume it reads
    # `ix_postmortem_incident_at_status` alone (the SQLite plan shows it can).
    repeats = [node for node in nodes if node.get("Index Name") == "ix_postmortem_failure_mode_incident_at"]
    assert {node["Node Type"] for node in repeats} == {"Index Only Scan"}


async def test_on_postgresql_the_service_filter_finds_postmortems_through_its_gin_index(app: FastAPI) -> None:
    """The filter alone, with index scans off as well: nearly empty, the table or its primary key read
    whole would do as well as anything."""
    on(app, "postgresql")
    matching = sa.select(col(Postmortem.id)).where(*Filters(service=True).clauses()).params(service="checkout")
    sql = str(matching.compile(dialect=app.state.engine.dialect, compile_kwargs={"literal_binds": True}))

    nodes = await postgresql_plan(app, sql, "enable_indexscan = off")

    assert [node.get("Index Name") for node in nodes if "Index" in node["Node Type"]] == ["ix_postmortem_services"]


async def test_on_sqlite_a_quarter_is_read_from_indexes_alone(app: FastAPI) -> None:
    """SQLite uses an index on an expression only for that very expression: these plans fail when the
    incident time in the queries and in the indexes drift apart."""
    on(app, "sqlite")

    details = await sqlite_plan(app, compiled(app, **QUARTER))

    reads = [detail for detail in details if detail.split()[1:2] in (["postmortem"], ["action_item"])]
    assert [read for read in reads if "USING COVERING INDEX" not in read] == []
    assert any("ix_postmortem_incident_at_status" in read for read in reads)
    assert any("ix_postmortem_failure_mode_incident_at" in read for read in reads)


def test_the_window_is_written_into_the_statement_rather_than_sent_as_parameters(app: FastAPI) -> None:
    """PostgreSQL would otherwise switch to a generic plan after five requests, guessing a tiny window."""
    window = resolve_window(StatsParams.model_validate(QUARTER))
    executed = bound(app, **QUARTER).compile(dialect=app.state.engine.dialect).construct_expanded_state()

    bounds = {window.from_, window.to, window.previous_from, window.from_.date(), window.to.date()}
    sent = {executed.parameters[name] for name in executed.positiontup or []}
    assert "2025-01-01 00:00:00" in executed.statement
    assert "2025-04-01 00:00:00" in executed.statement
    assert sent & bounds == set()


async def test_the_figures_take_one_statement_and_on_sqlite_a_second_for_the_medians(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_postmortem(
        client,
        started_at="2025-02-03T09:00:00Z",
        detected_at="2025-02-03T09:05:00Z",
        resolved_at="2025-02-03T10:00:00Z",
    )
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if "postmortem" in sql or "action_item" in sql:
            statements.append(sql)

    sa.event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        response = await client.get("/v1/stats", params=QUARTER)
    finally:
        sa.event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)

    assert response.status_code == 200, response.text
    assert response.json()["mttd"]["median_minutes"] == 5.0
    assert len(statements) == (1 if app.state.engine.dialect.name == "postgresql" else 2)
