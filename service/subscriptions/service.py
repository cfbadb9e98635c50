"""Subscriptions to events: create, change, rotate the secret, and look at and resend deliveries.

The signing secret is made here and returned once; only its sealed form is stored (the same box
as the trackers' secrets). Endpoints are checked when saved (`urls`), and again before each attempt.
"""

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core import clock
from service.core.errors import Conflict, FieldError, NotFound, Unprocessable
from service.core.pagination import PageParams, page_by_id
from service.events.models import Event
from service.integrations.secrets import SecretBox
from service.outbox.models import Delivery, DeliveryAttempt, DeliveryStatus
from service.subscriptions import signing, urls
from service.subscriptions.models import (
    AttemptRead,
    SecretRotated,
    Subscription,
    SubscriptionCreate,
    SubscriptionDeliveryRead,
    SubscriptionUpdate,
)

PREVIOUS_SECRET_VALID_FOR = timedelta(hours=24)
"""After a rotation, deliveries carry a signature with the old secret too for this long, so receivers
can switch to the new one at leisure."""


async def create(
    session: AsyncSession, box: SecretBox, subscription_in: SubscriptionCreate, *, allowed: Sequence[urls.Network]
) -> tuple[Subscription, str]:
    """The new subscription and its secret (in plain text: this is the only time it is known)."""
    await _check_url(subscription_in.url, allowed)
    secret = signing.new_secret()
    subscription = Subscription(
        url=subscription_in.url,
        event_types=[event_type.value for event_type in subscription_in.event_types],
        description=subscription_in.description,
        enabled=subscription_in.enabled,
        secret=box.seal(secret, field="secret"),
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def get(session: AsyncSession, subscription_id: uuid.UUID, *, for_update: bool = False) -> Subscription:
    statement = select(Subscription).where(col(Subscription.id) == subscription_id)
    if for_update:
        statement = statement.with_for_update()
    subscription = (await session.exec(statement)).first()
    if subscription is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    return subscription


async def list_page(session: AsyncSession, page: PageParams) -> tuple[list[Subscription], str | None]:
    return await page_by_id(session, select(Subscription), col(Subscription.id), page)


async def update(
    session: AsyncSession,
    subscription: Subscription,
    changes: SubscriptionUpdate,
    *,
    allowed: Sequence[urls.Network],
) -> Subscription:
    """Change the fields sent; enabling a subscription starts it afresh (no reason, not failing)."""
    values = changes.model_dump(exclude_unset=True)
    if "url" in values:
        await _check_url(values["url"], allowed)
    if "event_types" in values:
        values["event_types"] = [event_type.value for event_type in changes.event_types or []]
    if values.get("enabled") is True and not subscription.enabled:
        subscription.disabled_reason = None
        subscription.failing_since = None
    for name, value in values.items():
        setattr(subscription, name, value)
    subscription.updated_at = clock.utc_now()
    await session.flush()
    return subscription


async def delete(session: AsyncSession, subscription: Subscription) -> None:
    """Delete it with its deliveries: what was not sent yet is not sent."""
    await session.delete(subscription)
    await session.flush()


async def rotate_secret(session: AsyncSession, box: SecretBox, subscription: Subscription) -> SecretRotated:
    """A new secret; the current one stays valid (deliveries are signed with both) for a day.

    A second rotation within the day drops the secret two rotations old, which is no longer current.
    """
    secret = signing.new_secret()
    now = clock.utc_now()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + PREVIOUS_SECRET_VALID_FOR
    subscription.secret = box.seal(secret, field="secret")
    subscription.updated_at = now
    await session.flush()
    return SecretRotated(secret=secret, previous_secret_expires_at=subscription.previous_secret_expires_at)


async def list_deliveries(
    session: AsyncSession, subscription: Subscription, page: PageParams, *, status: DeliveryStatus | None
) -> tuple[list[SubscriptionDeliveryRead], str | None]:
    """Newest first, each with its attempts."""
    statement = (
        select(Delivery, Event.type)
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .where(col(Delivery.subscription_id) == subscription.id)
    )
    if status is not None:
        statement = statement.where(col(Delivery.status) == status)
    rows, next_cursor = await page_by_id(session, statement, col(Delivery.id), page, descending=True)
    attempts = await _attempts_of(session, [delivery.id for delivery, _ in rows])
    reads = [_delivery_read(delivery, event_type, attempts.get(delivery.id, [])) for delivery, event_type in rows]
    return reads, next_cursor


async def get_delivery(session: AsyncSession, subscription: Subscription, delivery_id: uuid.UUID) -> Delivery:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"delivery {delivery_id} of subscription {subscription.id} does not exist")
    return delivery


async def resend(session: AsyncSession, subscription: Subscription, delivery: Delivery) -> SubscriptionDeliveryRead:
    """Send a delivery that is done or dead again, with the same `webhook-id` and a fresh set of attempts."""
    if not subscription.enabled:
        raise Conflict(
            "the subscription is disabled: enable it before resending",
            [FieldError("enabled", "is false", "disabled", "resource")],
        )
    if delivery.status is DeliveryStatus.PENDING:
        raise Conflict(
            "the delivery is pending: it is sent already",
            [FieldError("status", "is pending", "pending", "resource")],
        )
    now = clock.utc_now()
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.locked_until = None
    delivery.completed_at = None
    delivery.updated_at = now
    await session.flush()
    event_type = (await session.exec(select(Event.type).where(col(Event.id) == delivery.event_id))).one()
    attempts = await _attempts_of(session, [delivery.id])
    return _delivery_read(delivery, event_type, attempts.get(delivery.id, []))


async def _check_url(url: str, allowed: Sequence[urls.Network]) -> None:
    try:
        await urls.check(url, allowed)
    except urls.UnsafeUrl as exc:
        raise Unprocessable(f"the url is refused: {exc}", [FieldError("url", str(exc), "unsafe_url")]) from exc


async def _attempts_of(session: AsyncSession, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AttemptRead]]:
    if not delivery_ids:
        return {}
    statement = (
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(DeliveryAttempt.id))
    )
    attempts: dict[uuid.UUID, list[AttemptRead]] = {}
    for attempt in (await session.exec(statement)).all():
        attempts.setdefault(attempt.delivery_id, []).append(AttemptRead.model_validate(attempt))
    return attempts


def _delivery_read(delivery: Delivery, event_type: str, attempts: list[AttemptRead]) -> SubscriptionDeliveryRead:
    return SubscriptionDeliveryRead.model_validate(
        delivery.model_dump() | {"event_type": event_type, "attempt_log": attempts}
    )
