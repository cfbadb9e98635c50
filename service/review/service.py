import uuid
from collections.abc import Collection
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items import service as action_items_service
from service.core.errors import FieldError
from service.core.pagination import fetch_rows
from service.core.types import json_array_contains
from service.postmortems.models import Postmortem
from service.review import rules
from service.review.models import Finding, Level, Rule
from service.timeline.models import TimelineEvent

REPEAT_WINDOW = timedelta(days=90)
REPEAT_LIMIT = 20
"""At most this many unlinked repeats are reported, the most recent first."""


async def review(session: AsyncSession, postmortem: Postmortem, only: Collection[Rule] = tuple(Rule)) -> list[Finding]:
    """The findings of the rules in `only` on a postmortem, its timeline and its action items."""
    events = await session.exec(
        select(TimelineEvent)
        .where(col(TimelineEvent.postmortem_id) == postmortem.id)
        .order_by(col(TimelineEvent.occurred_at), col(TimelineEvent.id))
    )
    document = rules.Document(
        postmortem=postmortem,
        events=list(events.all()),
        items=await action_items_service.list_for_postmortem(session, postmortem.id),
        repeats=await _unlinked_repeats(session, postmortem) if Rule.UNLINKED_REPEAT_INCIDENT in only else [],
    )
    return rules.run(document, frozenset(only))


async def blocking_errors(
    session: AsyncSession, postmortem: Postmortem, blocking_rules: Collection[Rule]
) -> list[FieldError]:
    """The `error` findings of `blocking_rules`, as the unmet requirements of completing."""
    if not blocking_rules:
        return []
    findings = await review(session, postmortem, blocking_rules)
    return [
        FieldError(finding.field, finding.message, finding.rule.value, "resource")
        for finding in findings
        if finding.level is Level.ERROR
    ]


async def _unlinked_repeats(session: AsyncSession, postmortem: Postmortem) -> list[rules.RepeatCandidate]:
    """Postmortems of the same failure mode or a shared service, created within 90 days of this one, not linked."""
    shares: list[sa.ColumnElement[bool]] = [
        json_array_contains(col(Postmortem.services), service) for service in postmortem.services
    ]
    if postmortem.failure_mode:
        shares.append(col(Postmortem.failure_mode) == postmortem.failure_mode)
    if not shares:
        return []
    linked = {postmortem.id, *(uuid.UUID(str(related)) for related in postmortem.related_postmortem_ids)}
    statement = (
        sa.select(
            col(Postmortem.id),
            col(Postmortem.title),
            col(Postmortem.created_at),
            col(Postmortem.failure_mode),
            col(Postmortem.services),
        )
        .where(
            sa.or_(*shares),
            col(Postmortem.id).not_in(linked),
            col(Postmortem.created_at) >= postmortem.created_at - REPEAT_WINDOW,
            col(Postmortem.created_at) <= postmortem.created_at + REPEAT_WINDOW,
        )
        .order_by(col(Postmortem.created_at).desc(), col(Postmortem.id).desc())
        .limit(REPEAT_LIMIT)
    )
    rows = await fetch_rows(session, statement)
    return [
        rules.RepeatCandidate(
            id=row.id, title=row.title, created_at=row.created_at, failure_mode=row.failure_mode, services=row.services
        )
        for row in rows
    ]
