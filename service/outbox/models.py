import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Field as SQLField

from service.core.base import IdMixin, TimestampMixin
from service.core.schemas import OutputModel
from service.core.types import UTCDateTime, enum_type


class DeliveryKind(StrEnum):
    PUSH = "tracker.push"  # create or update the ticket of an action item
    SYNC = "tracker.sync"  # read the ticket's state back (reconcile)
    WEBHOOK = "webhook.apply"  # apply a received webhook
    EVENT = "event.deliver"  # send an event to a subscription's endpoint


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class Delivery(IdMixin, TimestampMixin, table=True):
    """One unit of outbound work, written in the transaction of the change that caused it."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.Index("ix_delivery_due", "status", "next_attempt_at"),
        # What a claim checks for each due delivery: an earlier pending one of the same item, or (for a
        # webhook) of the same integration. Only pending deliveries: the done ones pile up and never matter.
        sa.Index(
            "ix_delivery_pending_item",
            "action_item_id",
            "id",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_delivery_pending_webhook",
            "integration_id",
            "id",
            postgresql_where=sa.text("status = 'pending' AND kind = 'webhook.apply'"),
            sqlite_where=sa.text("status = 'pending' AND kind = 'webhook.apply'"),
        ),
        # An event's delivery waits for the earlier pending ones about the same resource (see `claim`).
        sa.Index(
            "ix_delivery_pending_event",
            "resource_id",
            "event_id",
            postgresql_where=sa.text("status = 'pending' AND kind = 'event.deliver'"),
            sqlite_where=sa.text("status = 'pending' AND kind = 'event.deliver'"),
        ),
    )

    kind: DeliveryKind = SQLField(sa_type=enum_type(DeliveryKind))
    status: DeliveryStatus = SQLField(sa_type=enum_type(DeliveryStatus))
    action_item_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="action_item.id", ondelete="CASCADE", index=True
    )
    integration_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="integration.id", ondelete="CASCADE", index=True
    )
    inbound_event_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="inbound_event.id", ondelete="CASCADE", index=True
    )
    subscription_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="subscription.id", ondelete="CASCADE", index=True
    )
    event_id: int | None = SQLField(
        default=None,
        foreign_key="event.id",
        ondelete="CASCADE",
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    resource_id: uuid.UUID | None = SQLField(default=None, description="The event's postmortem or action item.")
    response_status: int | None = SQLField(default=None, description="The HTTP status of the last answer.")
    attempts: int = SQLField(default=0)
    next_attempt_at: datetime = SQLField(sa_type=UTCDateTime)
    locked_until: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    last_error: str | None = SQLField(default=None, sa_type=sa.Text)
    completed_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    # A push to a tracker whose search lags (Jira) notes each create before it is sent, and the
    # ticket it made when a later step failed; see `sync.creates`. Never shown in the API.
    create_sent_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    created_issue_id: str | None = SQLField(default=None, max_length=255)


class DeliveryAttempt(IdMixin, table=True):
    __tablename__ = "delivery_attempt"

    delivery_id: uuid.UUID = SQLField(foreign_key="delivery.id", ondelete="CASCADE", index=True)
    started_at: datetime = SQLField(sa_type=UTCDateTime)
    finished_at: datetime = SQLField(sa_type=UTCDateTime)
    outcome: str = SQLField(max_length=10)  # done | retry | dead
    response_status: int | None = SQLField(default=None)
    error: str | None = SQLField(default=None, sa_type=sa.Text)


class DeliveryRead(OutputModel):
    id: uuid.UUID = Field(description="The delivery's id.")
    kind: DeliveryKind = Field(
        description="`tracker.push` (create or update a ticket), `tracker.sync` (read its state back) "
        "or `webhook.apply` (apply a received webhook)."
    )
    status: DeliveryStatus = Field(description="`pending` (to be tried), `done`, or `dead` (out of attempts).")
    action_item_id: uuid.UUID | None = Field(description="The action item it is about; null when none.")
    integration_id: uuid.UUID | None = Field(description="The tracker integration it goes to; null when none.")
    attempts: int = Field(description="How many times it has been tried.")
    next_attempt_at: datetime = Field(description="When it is tried next (UTC), while pending.")
    last_error: str | None = Field(description="Why the last attempt failed; null when none did.")
    created_at: datetime = Field(description="When the delivery was written (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
    completed_at: datetime | None = Field(description="When it was done or given up (UTC); null while pending.")
