"""Every table model, imported once so that the metadata is complete for Alembic and tests."""

from service.action_items.models import ActionItem
from service.auth.models import ApiKey
from service.core.base import metadata
from service.core.idempotency import IdempotencyRecord
from service.events.models import Event, OverdueNotice
from service.integrations.models import Integration
from service.outbox.models import Delivery, DeliveryAttempt
from service.postmortems.labels import PostmortemLabel
from service.postmortems.models import Postmortem, Transition
from service.search.models import PostmortemSearch
from service.stats import indexes as stats_indexes
from service.subscriptions.models import Subscription
from service.timeline.models import TimelineEvent
from service.webhooks.models import InboundEvent

__all__ = [
    "ActionItem",
    "ApiKey",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "IdempotencyRecord",
    "InboundEvent",
    "Integration",
    "OverdueNotice",
    "Postmortem",
    "PostmortemLabel",
    "PostmortemSearch",
    "Subscription",
    "TimelineEvent",
    "Transition",
    "metadata",
    "stats_indexes",
]
