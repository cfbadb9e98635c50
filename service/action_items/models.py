import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import Field, computed_field
from sqlmodel import Field as SQLField

from service.core.base import IdMixin, TimestampMixin, version_column
from service.core.clock import utc_today
from service.core.schemas import CalendarDate, InputModel, OutputModel
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


Title = Annotated[str, Field(min_length=1, max_length=300, examples=["Validate config pushes in CI"])]
Description = Annotated[str, Field(max_length=20_000)]
Owner = Annotated[str, Field(min_length=1, max_length=100, examples=["@payments-oncall"])]

CONTENT_FIELDS = frozenset({"title", "description", "owner", "priority", "due_date", "kind"})


class ActionItemCreate(InputModel):
    title: Title
    description: Description | None = None
    owner: Owner | None = None
    priority: Priority | None = None
    due_date: CalendarDate | None = Field(default=None, examples=["2025-02-01"])
    status: ItemStatus = ItemStatus.OPEN
    kind: ItemKind = ItemKind.OTHER


class ActionItemUpdate(InputModel):
    """Partial update: only the fields sent change. On a complete postmortem only `status` may change."""

    non_nullable = frozenset({"title", "status", "kind"})

    title: Title | None = None
    description: Description | None = None
    owner: Owner | None = None
    priority: Priority | None = None
    due_date: CalendarDate | None = None
    status: ItemStatus | None = None
    kind: ItemKind | None = None


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
    created_at: datetime
    updated_at: datetime
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        """Open or in progress, with a due date before today (UTC)."""
        return self.status in UNFINISHED and self.due_date is not None and self.due_date < utc_today()


_version = version_column()


class ActionItem(IdMixin, TimestampMixin, table=True):
    __tablename__ = "action_item"
    __mapper_args__ = {"version_id_col": _version}  # noqa: RUF012

    postmortem_id: uuid.UUID = SQLField(foreign_key="postmortem.id", ondelete="CASCADE", index=True)
    title: str = SQLField(max_length=300)
    description: str | None = SQLField(default=None, sa_type=sa.Text)
    owner: str | None = SQLField(default=None, max_length=100, index=True)
    priority: Priority | None = SQLField(default=None, sa_type=enum_type(Priority))
    due_date: date | None = SQLField(default=None, index=True)
    status: ItemStatus = SQLField(sa_type=enum_type(ItemStatus), index=True)
    kind: ItemKind = SQLField(sa_type=enum_type(ItemKind))
    completed_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    version: int = SQLField(sa_column=_version)
