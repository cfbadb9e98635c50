import uuid
from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, Field, StrictBool
from sqlmodel import Field as SQLField

from service.core.base import IdMixin, TimestampMixin
from service.core.schemas import InputModel, OutputModel
from service.core.types import JSONValue, UTCDateTime
from service.events.models import EventType
from service.outbox.models import DeliveryStatus

Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="Where events are POSTed: `https`, or `http` to a loopback address (127.0.0.1, localhost, "
        "[::1]). It must not resolve to a private, link-local or metadata address unless "
        "`POSTMORTEMS_SUBSCRIPTION_ALLOWED_NETWORKS` allows it.",
        examples=["https://hooks.example.com/postmortems"],
    ),
]
EventTypes = Annotated[
    list[EventType],
    Field(
        max_length=len(EventType),
        description="The event types to send; empty (or omitted) means every type, including types added later.",
        examples=[["postmortem.status_changed", "action_item.overdue"]],
    ),
]
Description = Annotated[
    str, Field(max_length=500, description="What the endpoint is for.", examples=["Incident bot in #incidents"])
]


class SubscriptionCreate(InputModel):
    """A new subscription; its signing secret is made by the service and shown once, in the answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/postmortems",
                    "event_types": ["postmortem.status_changed", "action_item.overdue"],
                    "description": "Incident bot in #incidents",
                }
            ]
        }
    )

    url: Url
    event_types: EventTypes = Field(default_factory=list)
    description: Description | None = Field(default=None, description="What the endpoint is for.")
    enabled: StrictBool = Field(default=True, description="Whether events are sent.")


class SubscriptionUpdate(InputModel):
    """Partial update: only the fields sent change. Enabling a subscription clears `disabled_reason`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": True}, {"event_types": []}]})

    non_nullable = frozenset({"url", "event_types", "enabled"})

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = Field(default=None, description="What the endpoint is for.")
    enabled: StrictBool | None = Field(default=None, description="Whether events are sent.")


class SubscriptionRead(OutputModel):
    """A subscription to events; its secret is never shown after creation or rotation."""

    id: uuid.UUID = Field(description="The subscription's id.")
    url: str = Field(description="Where events are POSTed.")
    event_types: list[EventType] = Field(description="The event types sent; empty: every type.")
    description: str | None = Field(description="What the endpoint is for.")
    enabled: bool = Field(description="Whether events are sent.")
    disabled_reason: str | None = Field(
        description="Why the service disabled the subscription (its endpoint kept failing); null otherwise."
    )
    failing_since: datetime | None = Field(
        description="Since when every delivery attempt failed; null while the endpoint answers."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until when deliveries are also signed with the secret before the last rotation."
    )
    created_at: datetime = Field(description="When the subscription was created.")
    updated_at: datetime = Field(description="When the subscription last changed.")


class SubscriptionCreated(SubscriptionRead):
    """The new subscription, with its signing secret: the only time it is shown."""

    secret: str = Field(
        description="The signing secret (`whsec_` and base64): keep it to verify the `webhook-signature` header.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class SecretRotated(OutputModel):
    """A new signing secret: the only time it is shown."""

    secret: str = Field(
        description="The new signing secret; deliveries are signed with it from now on.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
    previous_secret_expires_at: datetime = Field(
        description="Until then each delivery carries a signature with the old secret too."
    )


class AttemptRead(OutputModel):
    """One attempt to deliver an event."""

    started_at: datetime = Field(description="When the attempt started.")
    finished_at: datetime = Field(description="When it ended.")
    outcome: str = Field(description="`done`, `retry` (another attempt follows) or `dead` (no more).")
    response_status: int | None = Field(description="The endpoint's HTTP status; null when none came.")
    error: str | None = Field(description="Why it failed.")


class SubscriptionDeliveryRead(OutputModel):
    """An event's delivery to a subscription, with its attempts."""

    id: uuid.UUID = Field(description="The delivery's id, sent as `webhook-id` with every attempt.")
    event_id: int = Field(description="The event's position in the change feed.")
    event_type: EventType = Field(description="The event's type.")
    status: DeliveryStatus = Field(description="`pending` (to be sent), `done` (2xx) or `dead` (gave up).")
    attempts: int = Field(description="Attempts made so far.")
    response_status: int | None = Field(description="The HTTP status of the last answer; null when none came.")
    last_error: str | None = Field(description="Why the last failed attempt failed.")
    next_attempt_at: datetime = Field(description="When a pending delivery is attempted next.")
    created_at: datetime = Field(description="When the event was recorded for this subscription.")
    completed_at: datetime | None = Field(description="When the delivery succeeded or was given up.")
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")


class Subscription(IdMixin, TimestampMixin, table=True):
    __tablename__ = "subscription"

    url: str = SQLField(max_length=2000)
    event_types: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    description: str | None = SQLField(default=None, max_length=500)
    enabled: bool = SQLField(default=True)
    disabled_reason: str | None = SQLField(default=None, sa_type=sa.Text)
    failing_since: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    secret: str = SQLField(sa_type=sa.Text, description="Sealed signing secret (see integrations.secrets).")
    previous_secret: str | None = SQLField(default=None, sa_type=sa.Text, description="Sealed, until it expires.")
    previous_secret_expires_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
