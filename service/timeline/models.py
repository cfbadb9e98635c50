import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, Field
from sqlmodel import Field as SQLField

from service.core.base import IdMixin, TimestampMixin, version_column
from service.core.schemas import InputModel, OutputModel, UTCTimestamp, describe_fields
from service.core.types import UTCDateTime, enum_type


class EventKind(StrEnum):
    SIGNAL = "signal"
    ALERT = "alert"
    DETECTION = "detection"
    ACTION = "action"
    DECISION = "decision"
    MITIGATION = "mitigation"
    RESOLUTION = "resolution"
    COMMUNICATION = "communication"
    OTHER = "other"


Description = Annotated[str, Field(min_length=1, max_length=5_000, examples=["Error rate alert fired"])]
Source = Annotated[str, Field(max_length=200, examples=["PagerDuty"])]
SOURCE_ID_MAX_LENGTH = 255


class TimelineEventCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "occurred_at": "2025-01-15T09:00:00Z",
                    "kind": "alert",
                    "description": "Checkout error-rate alert fired: 5xx above 5% for 5 minutes",
                    "source": "PagerDuty",
                }
            ]
        }
    )

    occurred_at: UTCTimestamp
    kind: EventKind = EventKind.OTHER
    description: Description
    source: Source | None = None


class TimelineEventUpdate(InputModel):
    """Partial update: only the fields sent change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "occurred_at": "2025-01-15T09:02:00Z",
                    "kind": "detection",
                    "description": "On-call acknowledged the checkout error-rate page",
                }
            ]
        }
    )

    non_nullable = frozenset({"occurred_at", "kind", "description"})

    occurred_at: UTCTimestamp | None = None
    kind: EventKind | None = None
    description: Description | None = None
    source: Source | None = None


class TimelineEventRead(OutputModel):
    id: uuid.UUID
    postmortem_id: uuid.UUID
    occurred_at: datetime
    kind: EventKind
    description: str
    source: str | None
    source_id: str | None = Field(
        default=None,
        description="The event's id in the tool it was imported from (a CSV row's hash); null if added by hand.",
    )
    created_at: datetime
    updated_at: datetime
    version: int


FIELD_DESCRIPTIONS = {
    "id": "The event's id.",
    "postmortem_id": "The postmortem whose timeline holds the event.",
    "occurred_at": "When it happened (RFC 3339 with an offset; returned in UTC); the timeline is in this order.",
    "kind": "What sort of moment it was: a signal, alert, detection, action, decision, mitigation, resolution, "
    "communication or other.",
    "description": "What happened, precisely: times in UTC, figures rather than `a few`.",
    "source": "Where the event is recorded (a tool, a channel); null when unknown.",
    "created_at": "When the event was recorded (UTC).",
    "updated_at": "When the event last changed (UTC).",
    "version": "How many times the event has been written; starts at 1.",
}
"""What the fields of this module's models mean, by name (`service.core.schemas.describe_fields`)."""

describe_fields(FIELD_DESCRIPTIONS, TimelineEventCreate, TimelineEventUpdate, TimelineEventRead)

_version = version_column()


class TimelineEvent(IdMixin, TimestampMixin, table=True):
    __tablename__ = "timeline_event"
    __table_args__ = (
        sa.Index("ix_timeline_event_postmortem_occurred", "postmortem_id", "occurred_at", "id"),
        # An import adds each entry of its source once; events added by hand have no source_id (NULLs differ).
        sa.Index("ix_timeline_event_source_id", "postmortem_id", "source", "source_id", unique=True),
    )
    __mapper_args__ = {"version_id_col": _version}  # noqa: RUF012

    postmortem_id: uuid.UUID = SQLField(foreign_key="postmortem.id", ondelete="CASCADE")
    occurred_at: datetime = SQLField(sa_type=UTCDateTime)
    kind: EventKind = SQLField(sa_type=enum_type(EventKind))
    description: str = SQLField(sa_type=sa.Text)
    source: str | None = SQLField(default=None, max_length=200)
    source_id: str | None = SQLField(default=None, max_length=SOURCE_ID_MAX_LENGTH)
    version: int = SQLField(sa_column=_version)


def _is_none(value: object) -> bool:
    return value is None


class SuggestedTimes(OutputModel):
    """Incident times read off the timeline, for the postmortem fields still empty.

    Only empty fields are suggested (a time someone set is theirs to change), and only values that
    keep started <= detected <= mitigated <= resolved with the times already set, so the object can
    be sent as-is in one PATCH. Fields with nothing to suggest are left out rather than sent as null,
    which a PATCH would read as "clear".
    """

    started_at: datetime | None = Field(
        default=None, exclude_if=_is_none, description="The first event of any kind: the first signal."
    )
    detected_at: datetime | None = Field(
        default=None, exclude_if=_is_none, description="The first `alert` or `detection` event."
    )
    mitigated_at: datetime | None = Field(
        default=None, exclude_if=_is_none, description="The first `mitigation` event."
    )
    resolved_at: datetime | None = Field(default=None, exclude_if=_is_none, description="The first `resolution` event.")
