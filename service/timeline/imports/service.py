"""Run an import: read the file, drop what the timeline already has, add the rest at once.

Deduplication is on (source, source id) per postmortem, so importing an export again, or a
later export that overlaps an earlier one, adds only what is new. The unique index on those
columns backs it; the postmortem row is locked for the import, so two imports do not race to it.
"""

from collections.abc import Callable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.postmortems.freeze import ensure_editable
from service.postmortems.models import Postmortem
from service.timeline import service as timeline_service
from service.timeline import suggestions
from service.timeline.imports import csv_rows, github, pagerduty, slack
from service.timeline.imports.models import (
    ImportedEvent,
    ImportOptions,
    ImportSource,
    Parsed,
    TimelineEventPreview,
    TimelineImportResult,
)
from service.timeline.models import TimelineEvent, TimelineEventRead

READERS: dict[ImportSource, Callable[[bytes, ImportOptions], Parsed]] = {
    ImportSource.PAGERDUTY: pagerduty.read,
    ImportSource.SLACK: slack.read,
    ImportSource.GITHUB_DEPLOYMENTS: github.read,
    ImportSource.CSV: csv_rows.read,
}


async def import_events(
    session: AsyncSession,
    postmortem: Postmortem,
    source: ImportSource,
    body: bytes,
    options: ImportOptions,
    *,
    dry_run: bool,
) -> TimelineImportResult:
    """Every entry is read and validated before anything is written; a dry run writes nothing."""
    ensure_editable(postmortem.status, "its timeline")
    parsed = READERS[source](body, options)
    new, duplicates = await _new_events(session, postmortem, parsed.events)
    firsts = suggestions.with_events(
        await suggestions.first_by_kind(session, postmortem.id), ((event.kind, event.occurred_at) for event in new)
    )
    added: list[TimelineEventRead | TimelineEventPreview]
    if dry_run:
        added = [TimelineEventPreview.model_validate(event.model_dump()) for event in new]
    else:
        added = [TimelineEventRead.model_validate(e) for e in await timeline_service.add_all(session, postmortem, new)]
    return TimelineImportResult(
        added=added,
        skipped_duplicates=duplicates,
        skipped=parsed.skipped,
        dry_run=dry_run,
        suggested_times=suggestions.suggest(postmortem, firsts),
    )


async def _new_events(
    session: AsyncSession, postmortem: Postmortem, events: list[ImportedEvent]
) -> tuple[list[ImportedEvent], int]:
    """The events not on the timeline yet, each once, in `occurred_at` order; and how many were not."""
    statement = select(TimelineEvent.source, TimelineEvent.source_id).where(
        col(TimelineEvent.postmortem_id) == postmortem.id, col(TimelineEvent.source_id).is_not(None)
    )
    seen = set((await session.exec(statement)).all())
    new = []
    for event in sorted(events, key=lambda event: event.occurred_at):
        key = (event.source, event.source_id)
        if key not in seen:
            seen.add(key)
            new.append(event)
    return new, len(events) - len(new)
