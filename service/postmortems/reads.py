"""Postmortems as the API shows them, read with prebuilt statements: the path every portal polls.

One statement reads a postmortem with its action-item summary. A list is a statement per
combination of filters given (not of their values), built on first use and kept.
"""

import functools
import uuid
from typing import Any

import sqlalchemy as sa

from service.action_items import service as action_items_service
from service.core.clock import utc_today
from service.core.database import UnitOfWork
from service.core.errors import NotFound
from service.core.pagination import cut_by_id, decode_key
from service.core.sql import Statement, param
from service.postmortems.filters import PostmortemFilters, where_clauses
from service.postmortems.models import UNKNOWN, Postmortem, PostmortemRead
from service.search import query as search_query
from service.search import service as search_service

SUMMARY_KEYS = ("total", "open", "done", "overdue")

_postmortems = Postmortem.__table__  # type: ignore[attr-defined]
_summary = action_items_service.summary_columns(_postmortems.c.id, param("today"))
READ = sa.select(*_postmortems.c, *_summary)
"""A postmortem's columns and its action-item summary (`today` decides what is overdue)."""

_ONE = Statement(READ.where(_postmortems.c.id == param("id")))
_SUMMARY_OF = Statement(sa.select(*action_items_service.summary_columns(param("id", sa.Uuid), param("today"))))


async def read(unit: UnitOfWork, postmortem_id: uuid.UUID) -> PostmortemRead:
    row = await _ONE.one_or_none(unit, id=postmortem_id, today=utc_today())
    if row is None:
        raise NotFound(f"postmortem {postmortem_id} does not exist")
    return from_row(row)


async def read_changed(unit: UnitOfWork, postmortem: Postmortem) -> PostmortemRead:
    """The read model of a postmortem this unit has just changed (the session's object is current)."""
    summary = await _SUMMARY_OF.one(unit, id=postmortem.id, today=utc_today())
    columns = {name: getattr(postmortem, name) for name in Postmortem.model_fields}
    return from_row(columns | summary)


async def list_page(unit: UnitOfWork, filters: PostmortemFilters) -> tuple[list[PostmortemRead], str | None]:
    """Newest first (ids are UUIDv7, so id order is creation order); with `q`, best match first."""
    shape, values = filters.bound()
    values |= {"today": utc_today(), "limit": filters.limit + 1}
    if filters.q is not None:
        search = search_query.parse(filters.q)
        values |= search_service.values(search, unit.dialect.name, filters.cursor)
        rows = await _search_statement(shape, anchored=filters.cursor is not None).all(unit, **values)
        page, next_cursor = search_service.cut(rows, filters.limit, search)
    else:
        if filters.cursor is not None:
            (values["after"],) = decode_key(filters.cursor, [uuid.UUID])
        rows = await _list_statement(shape, after=filters.cursor is not None).all(unit, **values)
        page, next_cursor = cut_by_id(rows, filters.limit)
    return [from_row(row) for row in page], next_cursor


def from_row(row: dict[str, Any]) -> PostmortemRead:
    """A row of the postmortem's columns and its summary counts (others, such as a search rank, are ignored)."""
    row["action_items_summary"] = {key: row[key] for key in SUMMARY_KEYS}
    if row["customer_data_affected"] is None:
        row["customer_data_affected"] = UNKNOWN
    return PostmortemRead.model_validate(row)


@functools.cache
def _list_statement(shape: frozenset[str], *, after: bool) -> Statement:
    """The page's ids first, in a subquery, so that the summaries are counted for the page's rows only
    (a sort under the LIMIT would otherwise count them for every postmortem that matches)."""
    ids = sa.select(_postmortems.c.id).where(*where_clauses(shape))
    if after:
        ids = ids.where(_postmortems.c.id < param("after"))
    page = ids.order_by(_postmortems.c.id.desc()).limit(param("limit", sa.Integer)).subquery("page")
    statement = READ.join(page, page.c.id == _postmortems.c.id).order_by(_postmortems.c.id.desc())
    return Statement(statement)


@functools.cache
def _search_statement(shape: frozenset[str], *, anchored: bool) -> Statement:
    return Statement(lambda dialect: search_service.ranked(READ, where_clauses(shape), dialect.name, anchored=anchored))
