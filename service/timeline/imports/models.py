from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from service.core.schemas import OutputModel
from service.timeline.models import (
    SOURCE_ID_MAX_LENGTH,
    EventKind,
    Source,
    SuggestedTimes,
    TimelineEventCreate,
    TimelineEventRead,
)


class ImportSource(StrEnum):
    PAGERDUTY = "pagerduty"
    SLACK = "slack"
    GITHUB_DEPLOYMENTS = "github-deployments"
    CSV = "csv"


class ImportedEvent(TimelineEventCreate):
    """An event read from an export: it always names its source and its id there, the key of deduplication."""

    source: Source
    source_id: str = Field(min_length=1, max_length=SOURCE_ID_MAX_LENGTH)


class TimelineEventPreview(OutputModel):
    """An event a dry run would add; it has no id or timestamps of its own yet."""

    occurred_at: datetime = Field(description="When it happened, in UTC.")
    kind: EventKind = Field(description="The event's kind, mapped from the source's entry type.")
    description: str = Field(description="The entry as text.")
    source: str = Field(description="The tool it came from, or a CSV row's `source`.")
    source_id: str = Field(description="The entry's id in the tool (a CSV row's hash).")


class TimelineImportResult(OutputModel):
    added: list[TimelineEventRead | TimelineEventPreview] = Field(
        description="The events added in `occurred_at` order; on a dry run, those that would be (previews, no ids)."
    )
    skipped_duplicates: int = Field(
        description="Entries already on the timeline (imported before) or repeated in the file: not added again."
    )
    skipped: int = Field(
        description="Entries left out by the source's filter: PagerDuty notifications and other entry types, "
        "Slack messages neither pinned, starred nor marked, or with no text."
    )
    dry_run: bool = Field(description="True when nothing was written.")
    suggested_times: SuggestedTimes = Field(
        description="Postmortem times the timeline suggests (after this import) for fields still empty; "
        "send as-is in one PATCH to accept them."
    )


@dataclass(frozen=True, slots=True)
class ImportOptions:
    include_notifications: bool = False  # PagerDuty: notify entries as `communication` events
    slack_markers: tuple[str, ...] = ()  # Slack: text that makes a message an event, any case


@dataclass(slots=True)
class Parsed:
    """What a source module read: the events it kept, and how many entries its filter left out."""

    events: list[ImportedEvent] = field(default_factory=list)
    skipped: int = 0
