"""Postmortem times suggested by its timeline: what `readiness` and a timeline import offer to fill in.

A timeline imported from the paging, chat and deploy tools already says when things happened;
these suggestions spare people copying the first alert's time into `detected_at` by hand.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.postmortems.models import TIMESTAMP_FIELDS, Postmortem
from service.timeline.models import EventKind, SuggestedTimes, TimelineEvent

# The kinds whose first event marks each time; None: any kind (the first signal starts the incident).
MARKING_KINDS: dict[str, frozenset[EventKind] | None] = {
    "started_at": None,
    "detected_at": frozenset({EventKind.ALERT, EventKind.DETECTION}),
    "mitigated_at": frozenset({EventKind.MITIGATION}),
    "resolved_at": frozenset({EventKind.RESOLUTION}),
}


async def first_by_kind(session: AsyncSession, postmortem_id: uuid.UUID) -> dict[EventKind, datetime]:
    """The earliest event of each kind on the postmortem's timeline."""
    statement = (
        select(TimelineEvent.kind, func.min(TimelineEvent.occurred_at))
        .where(col(TimelineEvent.postmortem_id) == postmortem_id)
        .group_by(col(TimelineEvent.kind))
    )
    return {EventKind(kind): first for kind, first in (await session.exec(statement)).all()}


def with_events(
    firsts: Mapping[EventKind, datetime], events: Iterable[tuple[EventKind, datetime]]
) -> dict[EventKind, datetime]:
    """`firsts` as they would be once `events` are added (a dry run adds nothing but still suggests)."""
    merged = dict(firsts)
    for kind, occurred_at in events:
        merged[kind] = min(occurred_at, merged.get(kind, occurred_at))
    return merged


def suggest(postmortem: Postmortem, firsts: Mapping[EventKind, datetime]) -> SuggestedTimes:
    """Times for the fields still empty, each kept only if it stays in order with those already chosen."""
    chosen: dict[str, datetime] = {}
    suggested: dict[str, datetime] = {}
    for name in TIMESTAMP_FIELDS:
        current = getattr(postmortem, name)
        if current is not None:
            chosen[name] = current
            continue
        kinds = MARKING_KINDS[name]
        candidates = [first for kind, first in firsts.items() if kinds is None or kind in kinds]
        if candidates and _in_order(postmortem, chosen, name, min(candidates)):
            chosen[name] = suggested[name] = min(candidates)
    return SuggestedTimes(**suggested)


def _in_order(postmortem: Postmortem, chosen: Mapping[str, datetime], name: str, value: datetime) -> bool:
    """Not before any earlier field chosen so far, nor after any later field already set."""
    position = TIMESTAMP_FIELDS.index(name)
    earlier = [chosen[other] for other in TIMESTAMP_FIELDS[:position] if other in chosen]
    later = [getattr(postmortem, other) for other in TIMESTAMP_FIELDS[position + 1 :]]
    return all(value >= time for time in earlier) and all(value <= time for time in later if time is not None)


async def for_postmortem(session: AsyncSession, postmortem: Postmortem) -> SuggestedTimes:
    return suggest(postmortem, await first_by_kind(session, postmortem.id))
