"""Every table model, imported once so that the metadata is complete for Alembic and tests."""

from service.action_items.models import ActionItem
from service.auth.models import ApiKey
from service.core.base import metadata
from service.core.idempotency import IdempotencyRecord
from service.postmortems.models import Postmortem, Transition
from service.timeline.models import TimelineEvent

__all__ = [
    "ActionItem",
    "ApiKey",
    "IdempotencyRecord",
    "Postmortem",
    "TimelineEvent",
    "Transition",
    "metadata",
]
