"""Inbound webhooks: verify, record once per delivery id, and leave the work to the worker."""

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.clock import utc_now
from service.core.errors import NotFound, SignatureRejected
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


async def receive(
    session: AsyncSession,
    box: SecretBox,
    *,
    kind: TrackerKind,
    integration_id: uuid.UUID,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> bool:
    """Check the signature on the raw body, then record the delivery; True when it is new."""
    integration = await session.get(Integration, integration_id)
    if integration is None or integration.kind is not kind:
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
    return await _record_once(session, integration, event.delivery_id, headers, body)


async def _record_once(
    session: AsyncSession, integration: Integration, delivery_id: str, headers: Mapping[str, str], body: bytes
) -> bool:
    """Insert-if-new under the (integration, delivery id) unique key; a redelivery changes nothing."""
    existing = select(InboundEvent.id).where(
        col(InboundEvent.integration_id) == integration.id, col(InboundEvent.delivery_id) == delivery_id
    )
    if (await session.exec(existing)).first() is not None:
        return False
    event = InboundEvent(
        integration_id=integration.id,
        delivery_id=delivery_id[:300],
        headers={k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
        body=body.decode("utf-8", errors="replace"),
        received_at=utc_now(),
    )
    try:
        async with session.begin_nested():
            session.add(event)
            await session.flush()
    except IntegrityError:  # the same delivery arrived concurrently and won
        return False
    await outbox_service.enqueue(
        session, DeliveryKind.WEBHOOK, integration_id=integration.id, inbound_event_id=event.id
    )
    return True
