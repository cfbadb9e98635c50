"""Ranked search of postmortems: the statement that finds and ranks a page, and its cursor.

The statement is built once per backend and kind of page (`ranked`) and run with the values of a
search (`values`): the query, written out for the backend, and where the previous page ended.
"""

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service.core.errors import FieldError, Unprocessable
from service.core.pagination import decode_search_cursor, encode_search_cursor, malformed_cursor
from service.core.sql import param
from service.postmortems.models import Postmortem
from service.search import query as search_query
from service.search.models import DOCUMENT_COLUMN, FTS_TABLE, PostmortemSearch

# Column weights, the same on both backends: PostgreSQL's defaults for A, B, C in ts_rank_cd.
TITLE_WEIGHT, BODY_WEIGHT, DETAILS_WEIGHT = 1.0, 0.4, 0.2

_postmortems = Postmortem.__table__  # type: ignore[attr-defined]
_search = PostmortemSearch.metadata.tables["postmortem_search"]
_document = sa.literal_column(f"{PostmortemSearch.__tablename__}.{DOCUMENT_COLUMN}", postgresql.TSVECTOR)
_fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer))
_fts_name: sa.ColumnClause[Any] = sa.literal_column(FTS_TABLE)


def ranked(base: sa.Select[Any], where: Sequence[Any], dialect_name: str, *, anchored: bool) -> sa.Select[Any]:
    """`base` (a select of postmortem columns) for the matches of a search and `where`, best match first.

    Equal matches come newest first. Matches are ranked and cut to the page on their ids alone;
    `base` (its correlated subqueries, say) runs for the rows of the page only. Placeholders:
    `search` (the query for the backend, see `values`), `limit`, and when `anchored` the end of the
    previous page: `anchor_rank`, `anchor_last_id`, `anchor_next_id`.

    PostgreSQL's ts_rank_cd depends on the document alone, so the next page starts exactly after
    the previous page's last rank and id. SQLite's bm25 also depends on statistics of the whole
    index, which every write shifts, so a stored bm25 score no longer marks a place. There the next
    page starts after the last row as the same statement ranks it now; when that row no longer
    matches (deleted, changed), at the row that came next; when neither matches, after the stored
    score. Writes to other postmortems cannot move the boundary; a change to the last row that
    keeps it matching continues from its new place.
    """
    postmortem_id = _postmortems.c.id
    found_id = _search.c.postmortem_id.label("id")
    if dialect_name == "postgresql":
        tsquery = sa.func.websearch_to_tsquery(sa.literal_column("'english'::regconfig"), param("search", sa.Text))
        weights: Any = sa.literal_column(f"'{{0.1, {DETAILS_WEIGHT}, {BODY_WEIGHT}, {TITLE_WEIGHT}}}'::float4[]")
        rank = sa.cast(sa.func.ts_rank_cd(weights, _document, tsquery), sa.Double).label("rank")
        matches = sa.select(found_id, rank).where(_document.op("@@")(tsquery))
    else:
        # The FTS5 query first, on its own: a filter's index must not make SQLite run it once per postmortem.
        hits = sa.select(_fts.c.rowid, (-_bm25()).label("rank")).where(_fts_name.op("MATCH")(param("search", sa.Text)))
        hit = hits.offset(0).subquery("hit")
        matches = sa.select(found_id, hit.c.rank).select_from(hit).join(_search, _search.c.id == hit.c.rowid)
    if where:  # the postmortems themselves only when a filter needs their columns
        matches = matches.join(_postmortems, _search.c.postmortem_id == postmortem_id).where(*where)
    # OFFSET 0 keeps the planners from merging this into the page query and ranking each row more than once.
    scored = matches.offset(0).subquery("scored")
    found = sa.select(scored.c.id, scored.c.rank)
    if anchored:
        after = _after if dialect_name == "postgresql" else _after_as_ranked_now
        found = found.where(after(scored.c.rank, scored.c.id))
    found = found.order_by(scored.c.rank.desc(), scored.c.id.desc()).limit(param("limit", sa.Integer))
    page = found.subquery("found")
    statement = base.join(page, page.c.id == postmortem_id).add_columns(page.c.rank)
    return statement.order_by(page.c.rank.desc(), postmortem_id.desc())


def values(search: search_query.SearchQuery, dialect_name: str, cursor: str | None) -> dict[str, Any]:
    """The placeholders of `ranked` for this search, continuing after `cursor` when given."""
    found = {"search": search.websearch() if dialect_name == "postgresql" else search.fts5()}
    if cursor is None:
        return found
    anchor = _Anchor.decode(cursor, search)
    return found | {"anchor_rank": anchor.rank, "anchor_last_id": anchor.last_id, "anchor_next_id": anchor.next_id}


def cut(
    rows: list[dict[str, Any]], limit: int, search: search_query.SearchQuery
) -> tuple[list[dict[str, Any]], str | None]:
    """The page of rows `ranked` found (asked for `limit` + 1), and the cursor to the next one."""
    if len(rows) <= limit:
        return rows, None
    last, following = rows[limit - 1], rows[limit]
    return rows[:limit], _Anchor(float(last["rank"]), last["id"], following["id"]).encode(search)


def _bm25() -> Any:
    return sa.func.bm25(_fts_name, TITLE_WEIGHT, BODY_WEIGHT, DETAILS_WEIGHT)


def _after(rank: Any, postmortem_id: Any) -> Any:
    """Rows ranked after the last one: (rank, id) below the stored (rank, id)."""
    stored_rank, last_id = param("anchor_rank", sa.Double), param("anchor_last_id", sa.Uuid)
    return sa.or_(rank < stored_rank, sa.and_(rank == stored_rank, postmortem_id < last_id))


def _after_as_ranked_now(rank: Any, postmortem_id: Any) -> Any:
    """After the last row as ranked now; else from the next row on; else after the stored rank (SQLite)."""
    last_id, next_id = param("anchor_last_id", sa.Uuid), param("anchor_next_id", sa.Uuid)
    last, following = _current_rank(last_id, "last"), _current_rank(next_id, "next")
    from_next = last.is_(None) & following.is_not(None)
    bound = sa.func.coalesce(last, following, param("anchor_rank", sa.Double))
    bound_id = sa.case((from_next, next_id), else_=last_id)
    beyond = sa.or_(postmortem_id < bound_id, sa.and_(from_next, postmortem_id == bound_id))
    return sa.or_(rank < bound, sa.and_(rank == bound, beyond))


def _current_rank(postmortem_id: Any, name: str) -> Any:
    """The postmortem's bm25 rank now, in the same statement (so on the same statistics); NULL if it does not match."""
    fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer))  # its own FROM: `MATCH` and bm25 refer to this one
    anchor = _search.alias(f"anchor_{name}")
    row = sa.select(anchor.c.id).where(anchor.c.postmortem_id == postmortem_id).scalar_subquery()
    return (
        sa.select(-_bm25())
        .select_from(fts)
        .where(_fts_name.op("MATCH")(param("search", sa.Text)), fts.c.rowid == row)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where a page ended: the last row's rank and id, and the id of the row after it."""

    rank: float
    last_id: uuid.UUID
    next_id: uuid.UUID

    def encode(self, search: search_query.SearchQuery) -> str:
        return encode_search_cursor([repr(self.rank), str(self.last_id), str(self.next_id), search.fingerprint()])

    @classmethod
    def decode(cls, cursor: str, search: search_query.SearchQuery) -> "_Anchor":
        rank, last_id, next_id, fingerprint = decode_search_cursor(cursor, 4)
        try:
            anchor = cls(float(rank), uuid.UUID(last_id), uuid.UUID(next_id))
        except ValueError as exc:
            raise malformed_cursor() from exc
        if not math.isfinite(anchor.rank):
            raise malformed_cursor()
        if fingerprint != search.fingerprint():
            message = "was returned for a different q; start again without a cursor"
            raise Unprocessable(
                "the cursor belongs to a different search", [FieldError("cursor", message, "q_changed", "query")]
            )
        return anchor
