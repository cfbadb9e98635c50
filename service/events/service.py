"""Recording events in the caller's transaction, and reading them back as the change feed.

The feed is read by position: a consumer that has seen position N asks for what comes after N, so
no event may appear below a position already read. On SQLite writers take turns, so positions are
given in commit order. On PostgreSQL concurrent transactions would take positions from the sequence
and commit in another order; an event is therefore recorded under a transaction-scoped advisory lock,
taken just before its position, and held to the commit. Events are recorded after the rows they are
about are written and locked, so the lock is held for little more than the commit, and what a
transaction locks after it (an import's new rows) no other transaction can be waiting for.
"""

import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from service.core import clock
from service.core.database import UnitOfWork
from service.core.errors import FieldError, Unprocessable
from service.core.pagination import decode_key, encode_cursor
from service.core.sql import Statement, param
from service.events.models import Event, EventFeed, EventRead, EventType
from service.subscriptions import fanout

ORDER_LOCK = 0x706D5F6576656E74  # "pm_event": the advisory lock that orders the events' positions

_events = Event.__table__  # type: ignore[attr-defined]
_LOCK = Statement(sa.select(sa.func.pg_advisory_xact_lock(ORDER_LOCK)))
_INSERT = Statement(
    sa.insert(_events)
    .values(type=param("type"), resource_id=param("resource_id"), occurred_at=param("now"), data=param("data"))
    .returning(_events.c.id)
)


async def record(unit: UnitOfWork, type_: EventType, *, resource_id: uuid.UUID, data: BaseModel) -> None:
    """Add an event and its deliveries to the subscriptions that want it; call once the change is written."""
    if unit.dialect.name == "postgresql":
        await _LOCK.all(unit)
    row = await _INSERT.one(
        unit, type=type_, resource_id=resource_id, now=clock.utc_now(), data=data.model_dump(mode="json")
    )
    await fanout.enqueue(unit, event_id=row["id"], type_=type_, resource_id=resource_id)


def _feed_statement(*, typed: bool) -> Statement:
    statement = sa.select(_events.c.id, _events.c.type, _events.c.occurred_at, _events.c.data).where(
        _events.c.id > param("after")
    )
    if typed:
        statement = statement.where(_events.c.type == param("type"))
    return Statement(statement.order_by(_events.c.id).limit(param("limit", sa.Integer)))


_FEED = {typed: _feed_statement(typed=typed) for typed in (False, True)}


async def feed(unit: UnitOfWork, *, after: str | None, limit: int, type_: EventType | None) -> EventFeed:
    """Events after the cursor, oldest first; the next cursor is the last one's position, or the same
    cursor when there is nothing new."""
    position = 0 if after is None else _position(after)
    values: dict[str, Any] = {"after": position, "limit": limit}
    if type_ is not None:
        values["type"] = type_
    rows = await _FEED[type_ is not None].all(unit, **values)
    items = [EventRead(id=row["id"], type=row["type"], timestamp=row["occurred_at"], data=row["data"]) for row in rows]
    last = items[-1].id if items else position
    return EventFeed(items=items, next_cursor=encode_cursor([str(last)]))


def _position(cursor: str) -> int:
    try:
        (position,) = decode_key(cursor, [int])
    except Unprocessable as exc:  # it names `cursor`, the parameter of the other lists
        raise Unprocessable(
            exc.detail, [FieldError("after", "not a cursor returned by this API", "malformed_cursor", "query")]
        ) from exc
    return int(position)
