"""Cursor pagination: an opaque cursor holds the sort key of the last item returned."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeAlias, TypeVar, Unpack, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Row, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Mapped
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.errors import FieldError, Unprocessable
from service.core.schemas import reject_nul

T = TypeVar("T")
AnySelect: TypeAlias = Select[Unpack[tuple[Any, ...]]]  # noqa: UP044 - ruff's `*` spelling confuses mypy here

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list, in a stable order; follow `next_cursor` for the next."""

    items: list[T] = Field(description="The page's items, at most `limit` of them.")
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class PageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped filter is an error, not an unfiltered page

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")
    cursor: str | None = Field(default=None, max_length=500, description="`next_cursor` of the previous page.")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        """Query parameters reach SQL as text, which PostgreSQL refuses when it holds NUL."""
        return reject_nul(value)


SEARCH_CURSOR_PREFIX = "q."  # not in the base64url alphabet, so no plain cursor starts with it


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_search_cursor(key: list[Any]) -> str:
    """A cursor of a search (`q`): marked, so that a list without `q` can say where it came from."""
    return SEARCH_CURSOR_PREFIX + encode_cursor(key)


def decode_search_cursor(cursor: str, arity: int) -> list[Any]:
    """The key inside a cursor `encode_search_cursor` made; a plain list's cursor is a 422 saying so."""
    if not cursor.startswith(SEARCH_CURSOR_PREFIX):
        raise Unprocessable(
            "the cursor belongs to a list without q",
            [
                FieldError(
                    "cursor",
                    "was returned without q; send it without q, or search again without a cursor",
                    "cursor_without_q",
                    "query",
                )
            ],
        )
    return decode_cursor(cursor.removeprefix(SEARCH_CURSOR_PREFIX), arity)


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort key inside `cursor`; anything malformed is a 422 on the `cursor` parameter."""
    if cursor.startswith(SEARCH_CURSOR_PREFIX):
        raise Unprocessable(
            "the cursor belongs to a search",
            [FieldError("cursor", "was returned for a search; send it with the same q", "cursor_needs_q", "query")],
        )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise malformed_cursor() from exc
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(v, str) for v in key):
        raise malformed_cursor()
    return key


def decode_key(cursor: str, parsers: Sequence[Callable[[str], Any]]) -> list[Any]:
    """The sort key inside `cursor`, each part read by its parser; anything malformed is a 422 on `cursor`."""
    try:
        return [parse(raw) for parse, raw in zip(parsers, decode_cursor(cursor, len(parsers)), strict=True)]
    except ValueError as exc:
        raise malformed_cursor() from exc


def cut_by_id(rows: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A page of rows asked for `limit` + 1 in id order, and the cursor to the next page (None on the last)."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor([str(rows[limit - 1]["id"])])


def malformed_cursor() -> Unprocessable:
    return Unprocessable(
        "the cursor is malformed",
        [FieldError("cursor", "not a cursor returned by this API", "malformed_cursor", "query")],
    )


async def keyset_page(
    session: AsyncSession,
    statement: AnySelect,
    *,
    order_by: Sequence[Mapped[Any]],
    parsers: Sequence[Callable[[str], Any]],
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of `statement` in `order_by` order, strictly after the cursor's sort key.

    `order_by` must end in a unique column so that the order is total and no row is skipped
    or repeated between pages, even while rows are inserted. The statement selects an entity,
    optionally followed by more columns (then the page holds rows whose first item is the entity).
    """
    if cursor is not None:
        statement = statement.where(_after(order_by, decode_key(cursor, parsers), descending))
    ordering = [column.desc() if descending else column.asc() for column in order_by]
    rows = list(await fetch_rows(session, statement.order_by(*ordering).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    entity = last[0] if isinstance(last, Row) else last
    next_key = [_cursor_value(getattr(entity, cast("InstrumentedAttribute[Any]", column).key)) for column in order_by]
    return rows[:limit], encode_cursor(next_key)


async def fetch_rows(session: AsyncSession, statement: AnySelect) -> Sequence[Any]:
    """Rows of a select of any width; sqlmodel's typed `exec` overloads stop at four columns."""
    result = await session.exec(statement)  # type: ignore[call-overload]
    return cast("Sequence[Any]", result.all())


def _after(order_by: Sequence[Mapped[Any]], key: list[Any], descending: bool) -> Any:
    """(a, b, c) > (x, y, z) spelled out, so each comparison binds with its column's type."""
    alternatives = []
    for position, column in enumerate(order_by):
        equal_prefix = [order_by[i] == key[i] for i in range(position)]
        beyond = column < key[position] if descending else column > key[position]
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives)


def _cursor_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


async def page_by_id(
    session: AsyncSession, statement: AnySelect, id_column: Mapped[Any], page: PageParams, *, descending: bool = False
) -> tuple[list[Any], str | None]:
    """A page in id order: ids are UUIDv7, so this is creation order."""
    return await keyset_page(
        session,
        statement,
        order_by=[id_column],
        parsers=[uuid.UUID],
        limit=page.limit,
        cursor=page.cursor,
        descending=descending,
    )
