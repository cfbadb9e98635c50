import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.errors import FieldError, Unprocessable
from service.core.pagination import AnySelect, PageParams, decode_cursor, encode_cursor, fetch_rows
from service.postmortems.models import Postmortem
from service.search import query as search_query
from service.search.models import DOCUMENT_COLUMN, FTS_TABLE, PostmortemSearch
from service.timeline.models import TimelineEvent

# Column weights, the same on both backends: PostgreSQL's defaults for A, B, C in ts_rank_cd.
TITLE_WEIGHT, BODY_WEIGHT, DETAILS_WEIGHT = 1.0, 0.4, 0.2

_search = PostmortemSearch.metadata.tables["postmortem_search"]
_document = sa.literal_column(f"{PostmortemSearch.__tablename__}.{DOCUMENT_COLUMN}", postgresql.TSVECTOR)
_fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer))
_fts_name: sa.ColumnClause[Any] = sa.literal_column(FTS_TABLE)


async def ranked_page(
    session: AsyncSession, statement: AnySelect, where: Sequence[Any], q: str, page: PageParams
) -> tuple[list[Any], str | None]:
    """One page of `statement` (a select of postmortems) for those matching `q` and `where`, best match first.

    Equal matches come newest first. Matches are ranked and cut to the page on their ids alone;
    `statement` (its correlated subqueries, say) runs for the rows of the page only.

    The cursor holds the rank and id of the page's last row, the id of the row that comes next, and
    the search's fingerprint. PostgreSQL's ts_rank_cd depends on the document alone, so the next
    page starts exactly after that rank and id. SQLite's bm25 also depends on statistics of the
    whole index, which every write shifts, so a stored bm25 score no longer marks a place. There
    the next page starts after the last row as the same statement ranks it now; when that row no
    longer matches (deleted, changed), at the row that came next; when neither matches, after
    the stored score. Writes to other postmortems cannot move the boundary; a change to the last
    row that keeps it matching continues from its new place.
    """
    search = search_query.parse(q)
    postgres = session.get_bind().dialect.name == "postgresql"
    postmortem_id = col(Postmortem.id)
    if postgres:
        tsquery = sa.func.websearch_to_tsquery(sa.literal_column("'english'::regconfig"), search.websearch())
        weights: Any = sa.literal_column(f"'{{0.1, {DETAILS_WEIGHT}, {BODY_WEIGHT}, {TITLE_WEIGHT}}}'::float4[]")
        rank = sa.cast(sa.func.ts_rank_cd(weights, _document, tsquery), sa.Double).label("rank")
        matches = sa.select(postmortem_id, rank).join(_search, _search.c.postmortem_id == postmortem_id)
        matches = matches.where(_document.op("@@")(tsquery), *where)
    else:
        # The FTS5 query first, on its own: a filter's index must not make SQLite run it once per postmortem.
        hits = sa.select(_fts.c.rowid, (-_bm25()).label("rank")).where(_fts_name.op("MATCH")(search.fts5()))
        hit = hits.offset(0).subquery("hit")
        matches = sa.select(postmortem_id, hit.c.rank).select_from(hit).join(_search, _search.c.id == hit.c.rowid)
        matches = matches.join(Postmortem, _search.c.postmortem_id == postmortem_id).where(*where)
    # OFFSET 0 keeps the planners from merging this into the page query and ranking each row more than once.
    scored = matches.offset(0).subquery("scored")
    found = sa.select(scored.c.id, scored.c.rank)
    if page.cursor is not None:
        anchor = _Anchor.decode(page.cursor, search)
        if postgres:
            found = found.where(anchor.after(scored.c.rank, scored.c.id))
        else:
            found = found.where(anchor.after_as_ranked_now(scored.c.rank, scored.c.id, search))
    found = found.order_by(scored.c.rank.desc(), scored.c.id.desc()).limit(page.limit + 1)
    found_rows = found.subquery("found")
    statement = statement.join(found_rows, found_rows.c.id == postmortem_id).add_columns(found_rows.c.rank)
    rows = list(await fetch_rows(session, statement.order_by(found_rows.c.rank.desc(), postmortem_id.desc())))
    if len(rows) <= page.limit:
        return rows, None
    last, following = rows[page.limit - 1], rows[page.limit]
    return rows[: page.limit], _Anchor(float(last.rank), last[0].id, following[0].id).encode(search)


def _bm25() -> Any:
    return sa.func.bm25(_fts_name, TITLE_WEIGHT, BODY_WEIGHT, DETAILS_WEIGHT)


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where a page ended: the last row's rank and id, and the id of the row after it."""

    rank: float
    last_id: uuid.UUID
    next_id: uuid.UUID

    def encode(self, search: search_query.SearchQuery) -> str:
        return encode_cursor([repr(self.rank), str(self.last_id), str(self.next_id), search.fingerprint()])

    @classmethod
    def decode(cls, cursor: str, search: search_query.SearchQuery) -> "_Anchor":
        rank, last_id, next_id, fingerprint = decode_cursor(cursor, 4)
        try:
            anchor = cls(float(rank), uuid.UUID(last_id), uuid.UUID(next_id))
        except ValueError as exc:
            raise _malformed() from exc
        if not math.isfinite(anchor.rank):
            raise _malformed()
        if fingerprint != search.fingerprint():
            message = "was returned for a different q; start again without a cursor"
            raise Unprocessable(
                "the cursor belongs to a different search", [FieldError("cursor", message, "q_changed", "query")]
            )
        return anchor

    def after(self, rank: Any, postmortem_id: Any) -> Any:
        """Rows ranked after the last one: (rank, id) below the stored (rank, id)."""
        return sa.or_(rank < self.rank, sa.and_(rank == self.rank, postmortem_id < self.last_id))

    def after_as_ranked_now(self, rank: Any, postmortem_id: Any, search: search_query.SearchQuery) -> Any:
        """After the last row as ranked now; else from the next row on; else after the stored rank (SQLite)."""
        last, following = _current_rank(search, self.last_id), _current_rank(search, self.next_id)
        from_next = last.is_(None) & following.is_not(None)
        bound = sa.func.coalesce(last, following, self.rank)
        bound_id = sa.case((from_next, sa.literal(self.next_id, sa.Uuid())), else_=sa.literal(self.last_id, sa.Uuid()))
        beyond = sa.or_(postmortem_id < bound_id, sa.and_(from_next, postmortem_id == bound_id))
        return sa.or_(rank < bound, sa.and_(rank == bound, beyond))


def _current_rank(search: search_query.SearchQuery, postmortem_id: uuid.UUID) -> Any:
    """The postmortem's bm25 rank now, in the same statement (so on the same statistics); NULL if it does not match."""
    fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer))  # its own FROM: `MATCH` and bm25 refer to this one
    anchor = _search.alias("anchor")
    row = sa.select(anchor.c.id).where(anchor.c.postmortem_id == postmortem_id).scalar_subquery()
    return (
        sa.select(-_bm25())
        .select_from(fts)
        .where(_fts_name.op("MATCH")(search.fts5()), fts.c.rowid == row)
        .scalar_subquery()
    )


def _malformed() -> Unprocessable:
    return Unprocessable(
        "the cursor is malformed",
        [FieldError("cursor", "not a cursor returned by this API", "malformed_cursor", "query")],
    )
