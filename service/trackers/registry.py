"""The trackers this service speaks to, by integration kind."""

import importlib
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel

from service.integrations.models import TrackerKind
from service.trackers.base import TrackerAdapter, WebhookCodec


@dataclass(frozen=True)
class Tracker:
    adapter: type[TrackerAdapter]
    webhooks: WebhookCodec
    settings_model: type[BaseModel]
    default_base_url: str | None


_CLASS_PREFIX = {TrackerKind.JIRA: "Jira", TrackerKind.LINEAR: "Linear", TrackerKind.GITHUB: "GitHub"}


@cache
def tracker_for(kind: TrackerKind) -> Tracker:
    """The adapter module `service.trackers.<kind>`, which names its parts `<Prefix>Adapter` etc."""
    module = importlib.import_module(f"service.trackers.{kind.value}")
    prefix = _CLASS_PREFIX[kind]
    return Tracker(
        adapter=getattr(module, f"{prefix}Adapter"),
        webhooks=getattr(module, f"{prefix}Webhooks")(),
        settings_model=getattr(module, f"{prefix}Settings"),
        default_base_url=module.DEFAULT_BASE_URL,
    )
