"""How postmortems are read, listed and searched on PostgreSQL, and their labels derived on both databases:
from the indexes meant for each."""

import uuid
from datetime import date

import sqlalchemy as sa
from fastapi import FastAPI

from service.core.sql import Statement, param
from service.postmortems import reads
from service.postmortems.filters import PostmortemFilters
from service.search import query as search_query
from service.search import service as search_service
from tests.plans import plan, scanned, skip_unless_postgresql

SUMMARY_INDEX = "ix_action_item_postmortem_id_status"


def _summary_read_from_its_index_alone(nodes: list[dict[str, object]]) -> bool:
    counts = [node for node in nodes if node.get("Index Name") == SUMMARY_INDEX]
    return len(counts) == len(reads.SUMMARY_KEYS) and {node["Node Type"] for node in counts} == {"Index Only Scan"}


def _no_sequential_scan(nodes: list[dict[str, object]]) -> bool:
    return not any(node["Node Type"] == "Seq Scan" for node in nodes)


async def test_a_postmortem_and_its_summary_are_read_by_key_and_from_one_index(app: FastAPI) -> None:
    skip_unless_postgresql(app)

    nodes = await plan(app, reads._ONE, id=uuid.uuid4(), today=date.today())

    postmortem = [node for node in nodes if node.get("Relation Name") == "postmortem"]
    assert [(node["Node Type"], "(id = " in node.get("Index Cond", "")) for node in postmortem] == [
        ("Index Scan", True)
    ]
    assert _summary_read_from_its_index_alone(nodes)
    assert _no_sequential_scan(nodes)


async def test_a_filtered_page_comes_in_id_order_from_an_index_and_counts_its_own_rows(app: FastAPI) -> None:
    skip_unless_postgresql(app)
    shape, values = PostmortemFilters(service="checkout", severity="P2", status="draft").bound()

    nodes = await plan(
        app, reads._list_statement(shape, after=True), **values, after=uuid.uuid4(), limit=51, today=date.today()
    )

    assert _no_sequential_scan(nodes)
    assert not any(node["Node Type"] == "Sort" for node in nodes)  # the page is read in order, not sorted
    assert _summary_read_from_its_index_alone(nodes)
    # The page's ids are cut (Limit) below the join that counts the summaries: 51 rows are counted, not every match.
    limit = next(node for node in nodes if node["Node Type"] == "Limit")
    assert nodes.index(limit) > 0


async def test_a_page_of_a_service_walks_its_labels_and_the_listing_index_in_list_order(app: FastAPI) -> None:
    skip_unless_postgresql(app)
    shape, values = PostmortemFilters(service="checkout", severity="P2").bound()

    nodes = await plan(app, reads._list_statement(shape, after=False), **values, limit=51, today=date.today())

    indexes = {index for _, index in scanned(nodes)}
    assert "pk_postmortem_label" in indexes  # the service's postmortems, in id order
    # Their severity from an index, not the table's wide rows: at volume the listing index, which keeps id
    # order; on these nearly empty tables the planner may as well take the severity index, as their
    # statistics from earlier tests make it look.
    assert indexes & {"ix_postmortem_listing", "ix_postmortem_severity"}
    assert not any(node["Node Type"] == "Sort" for node in nodes)


async def test_a_search_finds_its_matches_in_the_text_index(app: FastAPI) -> None:
    skip_unless_postgresql(app)
    shape, values = PostmortemFilters(q="timeout").bound()
    values |= search_service.values(search_query.parse("timeout"), "postgresql", None)

    nodes = await plan(app, reads._search_statement(shape, anchored=False), **values, limit=51, today=date.today())

    assert ("Bitmap Index Scan", "ix_postmortem_search_document") in scanned(nodes)
    assert _no_sequential_scan(nodes)
    assert _summary_read_from_its_index_alone(nodes)


async def test_the_label_triggers_derive_one_postmortems_labels_from_its_row_alone(app: FastAPI) -> None:
    """What the triggers on `postmortem` read to rewrite its labels: by key on both databases, never every
    postmortem (SQLite cannot narrow a UNION to the key, and then every write took seconds at volume)."""
    source = sa.table("postmortem_label_source", sa.column("postmortem_id", sa.Uuid), sa.column("label"))
    lookup = Statement(sa.select(source.c.label).where(source.c.postmortem_id == param("id")))

    if app.state.engine.dialect.name == "postgresql":
        nodes = await plan(app, lookup, id=uuid.uuid4())
        postmortem = [node for node in nodes if node.get("Relation Name") == "postmortem"]
        assert [("(id = " in node.get("Index Cond", "")) for node in postmortem] == [True, True]
        assert _no_sequential_scan(nodes)
        return
    database = app.state.database
    sql, arguments = lookup.rendered(database.dialect, id=uuid.uuid4())
    async with database.unit(write=False) as unit:
        steps = [row[3] for row in await (await unit.driver()).fetch("EXPLAIN QUERY PLAN " + sql, arguments)]
    postmortem_reads = [step for step in steps if step.split()[1:2] == ["p"]]
    assert postmortem_reads == ["SEARCH p USING INDEX sqlite_autoindex_postmortem_1 (id=?)"] * 2
