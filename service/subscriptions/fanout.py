"""An event's deliveries: one outbox delivery per enabled subscription that wants its type."""

import uuid

import sqlalchemy as sa

from service.core.database import UnitOfWork
from service.core.sql import Statement
from service.events.models import EventType
from service.outbox import service as outbox_service
from service.outbox.models import DeliveryKind
from service.subscriptions.models import Subscription

_subscriptions = Subscription.__table__  # type: ignore[attr-defined]
# Few subscriptions exist, so their type lists are matched here rather than in each dialect's JSON SQL.
_ENABLED = Statement(
    sa.select(_subscriptions.c.id, _subscriptions.c.event_types).where(_subscriptions.c.enabled.is_(True))
)


async def enqueue(unit: UnitOfWork, *, event_id: int, type_: EventType, resource_id: uuid.UUID) -> None:
    for row in await _ENABLED.all(unit):
        if not row["event_types"] or type_.value in row["event_types"]:
            await outbox_service.enqueue(
                unit, DeliveryKind.EVENT, subscription_id=row["id"], event_id=event_id, resource_id=resource_id
            )
