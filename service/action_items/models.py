import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, Field, computed_field
from sqlmodel import Field as SQLField

from service.core.base import IdMixin, TimestampMixin, version_column
from service.core.clock import utc_now, utc_today
from service.core.schemas import CalendarDate, InputModel, OutputModel, describe_fields
from service.core.types import UTCDateTime, enum_type


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"


class ItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WONT_DO = "wont_do"


UNFINISHED = (ItemStatus.OPEN, ItemStatus.IN_PROGRESS)


class ItemKind(StrEnum):
    PREVENT = "prevent"
    DETECT = "detect"
    MITIGATE = "mitigate"
    PROCESS = "process"
    OTHER = "other"


class SyncStatus(StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"


Title = Annotated[str, Field(min_length=1, max_length=300, examples=["Validate config pushes in CI"])]
Description = Annotated[str, Field(max_length=20_000)]
Owner = Annotated[str, Field(min_length=1, max_length=100, examples=["@payments-oncall"])]

CONTENT_FIELDS = frozenset({"title", "description", "owner", "priority", "due_date", "kind"})


class ActionItemCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Validate config pushes in CI",
                    "description": "Reject payment-client timeouts below 100 ms before a push is applied.",
                    "owner": "@payments-oncall",
                    "priority": "P1",
                    "due_date": "2025-02-01",
                    "status": "open",
                    "kind": "prevent",
                }
            ]
        }
    )

    title: Title
    description: Description | None = None
    owner: Owner | None = None
    priority: Priority | None = None
    due_date: CalendarDate | None = Field(default=None, examples=["2025-02-01"])
    status: ItemStatus = ItemStatus.OPEN
    kind: ItemKind = ItemKind.OTHER
    integration_id: uuid.UUID | None = Field(
        default=None, description="Tracker for this item's ticket; default: the postmortem's, else the default one."
    )


class ActionItemUpdate(InputModel):
    """Partial update: only the fields sent change. On a complete postmortem only `status` may change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "in_progress", "owner": "@payments-platform", "due_date": "2025-02-15"}]
        }
    )

    non_nullable = frozenset({"title", "status", "kind"})

    integration_id: uuid.UUID | None = None

    title: Title | None = None
    description: Description | None = None
    owner: Owner | None = None
    priority: Priority | None = None
    due_date: CalendarDate | None = None
    status: ItemStatus | None = None
    kind: ItemKind | None = None


class ExternalLink(OutputModel):
    """The item's ticket in its tracker."""

    tracker: str = Field(description="`jira`, `linear` or `github`.", examples=["jira"])
    id: str = Field(description="The tracker's id of the ticket.")
    key: str | None = Field(
        description="The ticket's human-readable key, when the tracker has one.", examples=["OPS-42"]
    )
    url: str | None = Field(description="Where the ticket is shown in the tracker.")
    state: str | None = Field(description="The ticket's state in the tracker; `deleted` once it is gone.")
    synced_at: datetime | None = Field(description="When the tracker last confirmed the state.")
    unmapped: int = Field(description="Tracker states seen that map to no action item status.")


class ActionItemRead(OutputModel):
    id: uuid.UUID
    postmortem_id: uuid.UUID
    title: str
    description: str | None
    owner: str | None
    priority: Priority | None
    due_date: date | None
    status: ItemStatus
    kind: ItemKind
    completed_at: datetime | None
    integration_id: uuid.UUID | None
    external: ExternalLink | None
    sync_status: SyncStatus | None = Field(description="pending, synced or failed; null when not synced.")
    last_sync_error: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    slo_due_date: date | None = Field(
        description="When the item is due by its priority's SLO: the UTC date of created_at plus the days set for "
        'its priority in `POSTMORTEMS_ACTION_ITEM_SLO_DAYS` (default {"P0": 7, "P1": 14, "P2": 90}); '
        "null without a priority."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        """Open or in progress, with a due date before today (UTC)."""
        return self.status in UNFINISHED and self.due_date is not None and self.due_date < utc_today()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suggested_due_date(self) -> date | None:
        """slo_due_date when the item has no due_date, else null: a due date to set."""
        return self.slo_due_date if self.due_date is None else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def slo_breached(self) -> bool:
        """Open or in progress, with a priority, and today (UTC) is after slo_due_date.
        `GET /v1/action-items?slo_breached=true` lists these."""
        return self.status in UNFINISHED and self.slo_due_date is not None and utc_today() > self.slo_due_date


FIELD_DESCRIPTIONS = {
    "id": "The action item's id (a UUIDv7, so ids sort in creation order).",
    "postmortem_id": "The postmortem the item came out of.",
    "title": "What is to be done, specific enough to act on.",
    "description": "Details: what done looks like, links, context.",
    "owner": "Who is responsible: a person or a team handle, not a collective like `the team`.",
    "priority": "How urgent the item is, P0 the most; its SLO sets the suggested due date.",
    "due_date": "The date the item is due (YYYY-MM-DD); overdue after it.",
    "status": "`open`, `in_progress`, `done` or `wont_do`; also set by the tracker's webhooks.",
    "kind": "What the item does: prevent, detect or mitigate a recurrence, change a process, or other.",
    "integration_id": "The tracker integration this item's ticket is in; null for the default.",
    "completed_at": "When the item became done (UTC); null unless done.",
    "external": "The item's ticket in its tracker; null until it is pushed.",
    "last_sync_error": "Why the last push to the tracker failed; null when it did not.",
    "created_at": "When the item was created (UTC).",
    "updated_at": "When the item last changed (UTC).",
    "version": "How many times the item has been written; starts at 1.",
}
"""What the fields of this module's models mean, by name (`service.core.schemas.describe_fields`)."""

describe_fields(FIELD_DESCRIPTIONS, ExternalLink, ActionItemCreate, ActionItemUpdate, ActionItemRead)

_version = version_column()


class ActionItem(IdMixin, TimestampMixin, table=True):
    __tablename__ = "action_item"
    __mapper_args__ = {"version_id_col": _version}  # noqa: RUF012
    __table_args__ = (
        # Cover what /v1/stats counts (items due in a window, done by their date; overdue items), so that
        # the counts read these indexes alone; their leading columns also serve the `status` and `due_date`
        # filters of the lists.
        sa.Index("ix_action_item_due_date_status", "due_date", "status", "completed_at", "postmortem_id"),
        sa.Index("ix_action_item_status_due_date", "status", "due_date", "postmortem_id"),
        # A postmortem's items with what its summary counts (status, due date): the four counts of every
        # postmortem read read this index alone.
        sa.Index("ix_action_item_postmortem_id_status", "postmortem_id", "status", "due_date"),
        # An owner's items in list order: a page of `?owner=` is the first matches of one index range,
        # where an index on the owner alone left the table's rows to sort (or walked them all in id order).
        sa.Index("ix_action_item_owner_id", "owner", "id"),
    )

    postmortem_id: uuid.UUID = SQLField(foreign_key="postmortem.id", ondelete="CASCADE")
    title: str = SQLField(max_length=300)
    description: str | None = SQLField(default=None, sa_type=sa.Text)
    owner: str | None = SQLField(default=None, max_length=100)
    priority: Priority | None = SQLField(default=None, sa_type=enum_type(Priority))
    due_date: date | None = SQLField(default=None)
    status: ItemStatus = SQLField(sa_type=enum_type(ItemStatus))
    kind: ItemKind = SQLField(sa_type=enum_type(ItemKind))
    completed_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    integration_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="integration.id", ondelete="SET NULL", index=True
    )
    external_tracker: str | None = SQLField(default=None, max_length=20)
    external_id: str | None = SQLField(default=None, max_length=200, index=True)
    external_key: str | None = SQLField(default=None, max_length=200)
    external_url: str | None = SQLField(default=None, max_length=2000)
    external_state: str | None = SQLField(default=None, max_length=200)
    external_status: ItemStatus | None = SQLField(
        default=None, sa_type=enum_type(ItemStatus), description="`external_state` mapped, when last seen."
    )
    external_synced_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    external_unmapped: int = SQLField(default=0)
    sync_status: SyncStatus | None = SQLField(default=None, sa_type=enum_type(SyncStatus))
    last_sync_error: str | None = SQLField(default=None, sa_type=sa.Text)
    version: int = SQLField(sa_column=_version)


def stamp_completion(item: ActionItem) -> None:
    """`completed_at` is set when an item becomes done and cleared when it leaves done."""
    if item.status is ItemStatus.DONE and item.completed_at is None:
        item.completed_at = utc_now()
    elif item.status is not ItemStatus.DONE:
        item.completed_at = None
