"""Inbound webhooks: verify, record once per delivery id, and leave the work to the worker."""

import uuid
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite

from service.core.base import new_id
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import NotFound, SignatureRejected
from service.core.sql import Statement, param
from service.integrations import service as integrations_service
from service.integrations.models import Integration, TrackerKind
from service.integrations.secrets import SecretBox
from service.outbox import service as outbox_service
from service.outbox.models import DeliveryKind
from service.trackers.base import InvalidSignature
from service.trackers.registry import tracker_for
from service.webhooks.models import InboundEvent

KEPT_HEADERS = frozenset(
    {
        "content-type",
        "x-github-event",
        "x-github-delivery",
        "linear-delivery",
        "linear-event",
        "x-atlassian-webhook-identifier",
    }
)


_integrations = Integration.__table__  # type: ignore[attr-defined]
_events = InboundEvent.__table__  # type: ignore[attr-defined]
_INTEGRATION = Statement(sa.select(_integrations).where(_integrations.c.id == param("id")))


def _insert_unless_received(dialect: Dialect) -> sa.Executable:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement = insert(_events).values({column.key: param(column.key) for column in _events.c})
    return statement.on_conflict_do_nothing(index_elements=["integration_id", "delivery_id"]).returning(_events.c.id)


_RECORD = Statement(_insert_unless_received)


async def receive(
    unit: UnitOfWork,
    box: SecretBox,
    *,
    kind: TrackerKind,
    integration_id: uuid.UUID,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> bool:
    """Check the signature on the raw body, then record the delivery; True when it is new."""
    integration = await _INTEGRATION.one_or_none(unit, id=integration_id)
    if integration is None or integration["kind"] is not kind:
        raise NotFound(f"no {kind.value} integration {integration_id}")
    config = integrations_service.tracker_config(box, integration)
    codec = tracker_for(kind).webhooks
    if not config.webhook_secret:
        raise SignatureRejected("this integration has no webhook secret, so no delivery can be verified")
    try:
        codec.verify_webhook(headers, body, config.webhook_secret, now)
    except InvalidSignature as exc:
        raise SignatureRejected(f"the webhook signature is invalid: {exc}") from exc
    event = codec.parse_webhook(headers, body, config)
    return await _record_once(unit, integration_id, event.delivery_id, headers, body)


async def _record_once(
    unit: UnitOfWork, integration_id: uuid.UUID, delivery_id: str, headers: Mapping[str, str], body: bytes
) -> bool:
    """Insert-if-new under the (integration, delivery id) unique key; a redelivery changes nothing.

    A concurrent delivery of the same id waits on the key and then inserts nothing.
    """
    recorded = await _RECORD.all(
        unit,
        id=new_id(),
        integration_id=integration_id,
        delivery_id=delivery_id[:300],
        headers={k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
        body=body.decode("utf-8", errors="replace"),
        received_at=utc_now(),
    )
    if not recorded:
        return False
    await outbox_service.enqueue(
        unit, DeliveryKind.WEBHOOK, integration_id=integration_id, inbound_event_id=recorded[0]["id"]
    )
    return True
