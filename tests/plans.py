"""The plans PostgreSQL makes for prebuilt statements, to check that they read the indexes meant for them.

The test tables are nearly empty, where reading a whole table is cheapest; with sequential scans and sorts
discouraged, the plan shows which index can serve each part and give its rows in order, as the planner
picks at volume (the benchmark's 100k postmortems and 1M action items).
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from service.core.database import Database
from service.core.sql import Statement


def skip_unless_postgresql(app: FastAPI) -> None:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL plan")


async def plan(app: FastAPI, statement: Statement, **values: Any) -> list[dict[str, Any]]:
    """Every node of the statement's plan for these values."""
    database: Database = app.state.database
    sql, arguments = statement.rendered(database.dialect, **values)
    async with database.unit(write=True) as unit:
        driver = await unit.driver()
        await driver.fetch("SET LOCAL enable_seqscan = off", [])
        await driver.fetch("SET LOCAL enable_sort = off", [])
        (row,) = await driver.fetch("EXPLAIN (FORMAT JSON) " + sql, arguments)
    found = row[0]
    return list(_nodes((json.loads(found) if isinstance(found, str) else found)[0]["Plan"]))


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def scanned(nodes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(node type, index or table) of every scan in the plan."""
    return {
        (node["Node Type"], node.get("Index Name") or node.get("Relation Name", ""))
        for node in nodes
        if "Scan" in node["Node Type"]
    }
