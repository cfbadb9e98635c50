"""Events: what happened to postmortems and action items, recorded in the transaction of the change.

Every event is kept, in the order the changes were committed, and is both listed by the change
feed (`GET /v1/events`) and sent to the subscriptions that want it (`subscriptions.delivery`).
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from service.action_items.models import ActionItemRead, ItemStatus
from service.auth.models import Principal
from service.core.schemas import OutputModel
from service.core.types import JSONValue, UTCDateTime, enum_type
from service.postmortems.enums import Status
from service.postmortems.models import PostmortemRead

SEQUENCE_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""The feed's position: a BIGSERIAL on PostgreSQL, SQLite's rowid (never reused: AUTOINCREMENT)."""


class EventType(StrEnum):
    """What happened, as `<resource>.<change>`."""

    POSTMORTEM_CREATED = "postmortem.created"
    POSTMORTEM_UPDATED = "postmortem.updated"
    POSTMORTEM_STATUS_CHANGED = "postmortem.status_changed"
    ACTION_ITEM_CREATED = "action_item.created"
    ACTION_ITEM_UPDATED = "action_item.updated"
    ACTION_ITEM_STATUS_CHANGED = "action_item.status_changed"
    ACTION_ITEM_OVERDUE = "action_item.overdue"


class ChangeSource(StrEnum):
    """Where a change came from: the API, or the tracker holding the item's ticket."""

    API = "api"
    JIRA = "jira"
    LINEAR = "linear"
    GITHUB = "github"


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_type_id", "type", "id"),  # the feed filtered by type
        {"sqlite_autoincrement": True},
    )

    id: int | None = SQLField(default=None, sa_column=sa.Column(SEQUENCE_TYPE, primary_key=True, autoincrement=True))
    type: EventType = SQLField(sa_type=enum_type(EventType))
    resource_id: uuid.UUID = SQLField(description="The postmortem or action item the event is about.")
    occurred_at: datetime = SQLField(sa_type=UTCDateTime)
    data: dict[str, Any] = SQLField(sa_type=JSONValue)


class OverdueNotice(SQLModel, table=True):
    """That `action_item.overdue` was recorded for an item and due date, so it is recorded once."""

    __tablename__ = "overdue_notice"

    action_item_id: uuid.UUID = SQLField(foreign_key="action_item.id", ondelete="CASCADE", primary_key=True)
    due_date: date = SQLField(primary_key=True)


class Actor(OutputModel):
    """The API key that made a change, as the service records who did what."""

    key_id: uuid.UUID = Field(description="The API key's id.")
    name: str = Field(description="The API key's name.", examples=["incident-bot"])

    @classmethod
    def of(cls, principal: Principal | None) -> "Actor | None":
        return None if principal is None else cls(key_id=principal.key_id, name=principal.name)


class PostmortemCreated(BaseModel):
    """`data` of `postmortem.created`."""

    postmortem: PostmortemRead = Field(description="The new postmortem, as `GET /v1/postmortems/{id}` shows it.")
    actor: Actor | None = Field(description="Who created it (null: `postmortems import` on the command line).")


class PostmortemUpdated(BaseModel):
    """`data` of `postmortem.updated`."""

    postmortem: PostmortemRead = Field(description="The postmortem after the change.")
    changed: list[str] = Field(description="The fields whose values changed, in alphabetical order.")
    actor: Actor | None = Field(description="Who changed it.")


class PostmortemStatusChanged(BaseModel):
    """`data` of `postmortem.status_changed`."""

    postmortem: PostmortemRead = Field(description="The postmortem after the change.")
    old_status: Status = Field(description="The status before the step.")
    new_status: Status = Field(description="The status after the step.")
    action: str = Field(description="The workflow step taken.", examples=["submit"])
    actor: Actor | None = Field(description="Who took the step.")


class ActionItemCreated(BaseModel):
    """`data` of `action_item.created`."""

    action_item: ActionItemRead = Field(description="The new item, as `GET /v1/action-items/{id}` shows it.")
    actor: Actor | None = Field(description="Who created it (null: `postmortems import` on the command line).")


class ActionItemUpdated(BaseModel):
    """`data` of `action_item.updated`."""

    action_item: ActionItemRead = Field(description="The item after the change.")
    changed: list[str] = Field(description="The fields whose values changed, in alphabetical order.")
    actor: Actor | None = Field(description="Who changed it.")


class ActionItemStatusChanged(BaseModel):
    """`data` of `action_item.status_changed`."""

    action_item: ActionItemRead = Field(description="The item after the change.")
    old_status: ItemStatus = Field(description="The status before the change.")
    new_status: ItemStatus = Field(description="The status after the change.")
    source: ChangeSource = Field(description="`api`, or the tracker whose ticket changed (webhook or polling).")
    actor: Actor | None = Field(description="The API key that changed it; null when the change came from a tracker.")


class ActionItemOverdue(BaseModel):
    """`data` of `action_item.overdue`."""

    action_item: ActionItemRead = Field(description="The item, open or in progress past its due date.")


class EventPayload(BaseModel):
    """An event as it is sent to subscriptions (the body of each webhook)."""

    type: EventType = Field(description="What happened; the event catalogue in the README lists each type.")
    timestamp: datetime = Field(description="When the change was committed (UTC).")
    data: dict[str, Any] = Field(
        description="The resource as the API shows it (`postmortem` or `action_item`), with what the type adds: "
        "`changed` (fields), `old_status` and `new_status`, `actor` (the API key), `source` (`api` or a tracker)."
    )


class EventRead(EventPayload):
    """An event in the change feed."""

    id: int = Field(description="The event's position in the feed; each event's is higher than any before it.")


class EventFeed(BaseModel):
    """A page of the change feed."""

    items: list[EventRead] = Field(description="Events in the order they happened, oldest first.")
    next_cursor: str = Field(
        description="The cursor to pass as `after` to read on; present even when `items` is empty, so a consumer "
        "polls with it."
    )
