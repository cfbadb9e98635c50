import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.clock import utc_now
from service.core.errors import Conflict, FieldError, NotFound
from service.core.etag import check_if_match
from service.core.pagination import PageParams, keyset_page
from service.postmortems.freeze import ensure_editable
from service.postmortems.models import Postmortem
from service.timeline.models import TimelineEvent, TimelineEventCreate, TimelineEventRead, TimelineEventUpdate


async def add(session: AsyncSession, postmortem: Postmortem, event_in: TimelineEventCreate) -> TimelineEvent:
    (event,) = await add_all(session, postmortem, [event_in])
    return event


async def add_all(
    session: AsyncSession, postmortem: Postmortem, events_in: Sequence[TimelineEventCreate]
) -> list[TimelineEvent]:
    """Add events in one flush (one INSERT, so the postmortem's search document is rewritten once)."""
    ensure_editable(postmortem.status, "its timeline")
    if not events_in:
        return []
    events = [TimelineEvent(**event_in.model_dump(), postmortem_id=postmortem.id) for event_in in events_in]
    session.add_all(events)
    await session.flush()
    return events


async def get(session: AsyncSession, postmortem: Postmortem, event_id: uuid.UUID) -> TimelineEvent:
    statement = select(TimelineEvent).where(
        col(TimelineEvent.id) == event_id, col(TimelineEvent.postmortem_id) == postmortem.id
    )
    event = (await session.exec(statement)).first()
    if event is None:
        raise NotFound(f"timeline event {event_id} does not exist in postmortem {postmortem.id}")
    return event


async def list_page(
    session: AsyncSession, postmortem: Postmortem, page: PageParams
) -> tuple[list[TimelineEvent], str | None]:
    """Sorted by occurred_at; events at the same instant keep their creation order."""
    statement = select(TimelineEvent).where(col(TimelineEvent.postmortem_id) == postmortem.id)
    return await keyset_page(
        session,
        statement,
        order_by=[col(TimelineEvent.occurred_at), col(TimelineEvent.id)],
        parsers=[_parse_timestamp, uuid.UUID],
        limit=page.limit,
        cursor=page.cursor,
    )


async def count(session: AsyncSession, postmortem_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(TimelineEvent).where(col(TimelineEvent.postmortem_id) == postmortem_id)
    return (await session.exec(statement)).one()


async def update(
    session: AsyncSession,
    postmortem: Postmortem,
    event: TimelineEvent,
    changes: TimelineEventUpdate,
    *,
    if_match: str | None,
) -> TimelineEvent:
    await check_if_match(if_match, lambda: TimelineEventRead.model_validate(event))
    ensure_editable(postmortem.status, "its timeline")
    if changes.source != event.source and "source" in changes.model_fields_set:
        await _ensure_source_id_free(session, event, changes.source)
    for name, value in changes.model_dump(exclude_unset=True).items():
        setattr(event, name, value)
    event.updated_at = utc_now()
    await session.flush()
    return event


async def delete(session: AsyncSession, postmortem: Postmortem, event: TimelineEvent, *, if_match: str | None) -> None:
    await check_if_match(if_match, lambda: TimelineEventRead.model_validate(event))
    ensure_editable(postmortem.status, "its timeline")
    await session.delete(event)
    await session.flush()


async def _ensure_source_id_free(session: AsyncSession, event: TimelineEvent, source: str | None) -> None:
    """An imported event moved to another source must not take the id an event imported from there has."""
    if event.source_id is None:
        return
    statement = select(TimelineEvent.id).where(
        col(TimelineEvent.postmortem_id) == event.postmortem_id,
        col(TimelineEvent.source) == source,
        col(TimelineEvent.source_id) == event.source_id,
    )
    if (await session.exec(statement)).first() is not None:
        raise Conflict(
            f"another event was imported from {source} with the id {event.source_id}",
            [FieldError("source", "already holds an event with this event's source_id", "duplicate", "body")],
        )


def _parse_timestamp(raw: str) -> datetime:
    return datetime.fromisoformat(raw)
