"""The durable outbox: enqueue in the caller's transaction, claim, and record outcomes.

Claiming takes a lease (`locked_until`) so a worker that dies mid-delivery only delays the
work: the lease expires and another worker takes it. On PostgreSQL the claim skips rows other
workers are claiming (`FOR UPDATE SKIP LOCKED`), so any number of workers share the queue
without doing a delivery twice; on SQLite writers are serialised by the database itself.
"""

import random
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.clock import utc_now
from service.core.errors import Conflict, FieldError, NotFound
from service.core.pagination import PageParams, page_by_id
from service.outbox.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus


async def enqueue(
    session: AsyncSession,
    kind: DeliveryKind,
    *,
    action_item_id: uuid.UUID | None = None,
    integration_id: uuid.UUID | None = None,
    inbound_event_id: uuid.UUID | None = None,
) -> Delivery:
    """Add work in the caller's transaction; joins a waiting delivery of the same kind for the same item.

    Handlers act on the item's state when they run, so one waiting push covers any number of
    changes; a delivery already claimed by a worker is not joined, as it may have read older state.
    """
    now = utc_now()
    if action_item_id is not None:
        waiting = select(Delivery).where(
            col(Delivery.kind) == kind,
            col(Delivery.action_item_id) == action_item_id,
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.locked_until).is_(None),
        )
        existing = (await session.exec(waiting)).first()
        if existing is not None:
            existing.next_attempt_at = min(existing.next_attempt_at, now)
            return existing
    delivery = Delivery(
        kind=kind,
        status=DeliveryStatus.PENDING,
        action_item_id=action_item_id,
        integration_id=integration_id,
        inbound_event_id=inbound_event_id,
        next_attempt_at=now,
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def get(session: AsyncSession, delivery_id: uuid.UUID) -> Delivery:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    return delivery


async def list_page(
    session: AsyncSession, page: PageParams, *, status: DeliveryStatus | None, action_item_id: uuid.UUID | None
) -> tuple[list[Delivery], str | None]:
    statement = select(Delivery)
    if status is not None:
        statement = statement.where(col(Delivery.status) == status)
    if action_item_id is not None:
        statement = statement.where(col(Delivery.action_item_id) == action_item_id)
    return await page_by_id(session, statement, col(Delivery.id), page)


async def retry(session: AsyncSession, delivery: Delivery) -> Delivery:
    """Give a dead delivery a fresh set of attempts, starting now."""
    if delivery.status is not DeliveryStatus.DEAD:
        raise Conflict(
            f"only dead deliveries can be retried; this one is {delivery.status.value}",
            [FieldError("status", f"is {delivery.status.value}", "not_dead", "resource")],
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utc_now()
    delivery.locked_until = None
    delivery.updated_at = utc_now()
    await session.flush()
    return delivery


async def claim(session: AsyncSession, *, limit: int, lease: timedelta) -> list[uuid.UUID]:
    """Lease up to `limit` due deliveries to the caller and count the attempt."""
    now = utc_now()
    earlier = aliased(Delivery)
    due = (
        select(Delivery.id)
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.next_attempt_at) <= now,
            sa.or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now),
            # one delivery of an action item at a time, in order: two pushes at once would both create a ticket
            ~sa.exists().where(
                col(earlier.action_item_id) == col(Delivery.action_item_id),
                col(earlier.status) == DeliveryStatus.PENDING,
                col(earlier.id) < col(Delivery.id),
            ),
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        sa.update(Delivery)
        .where(col(Delivery.id).in_(due.scalar_subquery()))
        .values(locked_until=now + lease, attempts=col(Delivery.attempts) + 1, updated_at=now)
        .returning(col(Delivery.id), col(Delivery.next_attempt_at))
    )
    result = await session.exec(statement)
    # RETURNING lists rows in no particular order; work through them oldest due first, as selected
    return [row[0] for row in sorted(result.all(), key=lambda row: (row[1], row[0]))]


def backoff(attempts: int, *, first: float, maximum: float, retry_after: float | None) -> float:
    """Seconds until the next attempt: doubling from `first` with full jitter in its upper half, capped;
    never sooner than the tracker asked for."""
    exponential = min(maximum, first * 2 ** max(0, attempts - 1))
    delay = random.uniform(exponential / 2, exponential)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


async def record(
    session: AsyncSession,
    delivery: Delivery,
    *,
    started_at: datetime,
    outcome: DeliveryStatus | None,
    error: str | None = None,
    retry_in: float = 0.0,
) -> None:
    """Settle an attempt: done, dead, or (outcome None) pending again after `retry_in` seconds."""
    now = utc_now()
    delivery.locked_until = None
    delivery.updated_at = now
    delivery.last_error = error[:2000] if error else delivery.last_error
    if outcome is None:
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    else:
        delivery.status = outcome
        delivery.completed_at = now
    label = "retry" if outcome is None else ("done" if outcome is DeliveryStatus.DONE else "dead")
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            started_at=started_at,
            finished_at=now,
            outcome=label,
            error=error[:2000] if error else None,
        )
    )
    await session.flush()
