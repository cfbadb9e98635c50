"""The durable outbox: enqueue in the caller's transaction, claim, and record outcomes.

Claiming takes a lease (`locked_until`) so a worker that dies mid-delivery only delays the
work: the lease expires and another worker takes it. On PostgreSQL the claim skips rows other
workers are claiming (`FOR UPDATE SKIP LOCKED`), so any number of workers share the queue
without doing a delivery twice; on SQLite writers are serialised by the database itself.
"""

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.base import new_id
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import Conflict, FieldError, NotFound
from service.core.pagination import PageParams, page_by_id
from service.core.sql import Statement, param
from service.core.types import UuidList, in_list
from service.outbox.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus

_deliveries = Delivery.__table__  # type: ignore[attr-defined]
_next_attempt_at = _deliveries.c.next_attempt_at
_JOIN_WAITING = Statement(
    sa.update(_deliveries)
    .where(
        _deliveries.c.kind == param("kind"),
        _deliveries.c.action_item_id == param("action_item_id"),
        _deliveries.c.status == DeliveryStatus.PENDING,
        _deliveries.c.locked_until.is_(None),
    )
    .values(next_attempt_at=sa.case((_next_attempt_at > param("now"), param("now")), else_=_next_attempt_at))
    .returning(_deliveries.c.id)
)
_INSERT = Statement(
    sa.insert(_deliveries).values(
        id=param("id"),
        kind=param("kind"),
        status=DeliveryStatus.PENDING,
        action_item_id=param("action_item_id"),
        integration_id=param("integration_id"),
        inbound_event_id=param("inbound_event_id"),
        subscription_id=param("subscription_id"),
        event_id=param("event_id"),
        resource_id=param("resource_id"),
        attempts=0,
        next_attempt_at=param("now"),
        created_at=param("now"),
        updated_at=param("now"),
    )
)


async def enqueue(
    unit: UnitOfWork,
    kind: DeliveryKind,
    *,
    action_item_id: uuid.UUID | None = None,
    integration_id: uuid.UUID | None = None,
    inbound_event_id: uuid.UUID | None = None,
    subscription_id: uuid.UUID | None = None,
    event_id: int | None = None,
    resource_id: uuid.UUID | None = None,
    new_item: bool = False,
) -> None:
    """Add work in the unit's transaction; joins a waiting delivery of the same kind for the same item.

    Handlers act on the item's state when they run, so one waiting push covers any number of
    changes; a delivery already claimed by a worker is not joined, as it may have read older state.
    An item created in this transaction (`new_item`) has no delivery to join yet.
    """
    now = utc_now()
    joinable = action_item_id is not None and not new_item
    if joinable and await _JOIN_WAITING.all(unit, kind=kind, action_item_id=action_item_id, now=now):
        return
    await _INSERT.all(
        unit,
        id=new_id(),
        kind=kind,
        action_item_id=action_item_id,
        integration_id=integration_id,
        inbound_event_id=inbound_event_id,
        subscription_id=subscription_id,
        event_id=event_id,
        resource_id=resource_id,
        now=now,
    )


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


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to a worker, as the claim read it (its attempt already counted)."""

    id: uuid.UUID
    kind: DeliveryKind
    action_item_id: uuid.UUID | None
    integration_id: uuid.UUID | None
    inbound_event_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    event_id: int | None
    resource_id: uuid.UUID | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Answered:
    """What a handler whose work was one HTTP request returns: what to save, and the answer's status,
    which the attempt's record keeps."""

    save: Callable[[UnitOfWork], Awaitable[None]]
    response_status: int


_CLAIMED = tuple(field.name for field in fields(Claimed))
CLAIM_WINDOW = 5  # due deliveries looked at per delivery claimed

_DUE = Statement(
    sa.select(*(_deliveries.c[name] for name in _CLAIMED))
    .where(
        _deliveries.c.status == DeliveryStatus.PENDING,
        _deliveries.c.next_attempt_at <= param("now"),
        sa.or_(_deliveries.c.locked_until.is_(None), _deliveries.c.locked_until < param("now")),
    )
    .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
    .limit(param("window", sa.Integer))
    .with_for_update(skip_locked=True)
)
_PENDING_OF_ITEMS = Statement(
    lambda dialect: sa.select(_deliveries.c.action_item_id, _deliveries.c.id).where(
        _deliveries.c.status == DeliveryStatus.PENDING,
        in_list(_deliveries.c.action_item_id, param("items", UuidList()), dialect),
    )
)
_FIRST_PENDING_WEBHOOK = Statement(
    sa.select(_deliveries.c.id)
    .where(
        _deliveries.c.status == DeliveryStatus.PENDING,
        _deliveries.c.kind == DeliveryKind.WEBHOOK,
        _deliveries.c.integration_id == param("integration_id"),
    )
    .order_by(_deliveries.c.id)
    .limit(1)
)
_PENDING_EVENTS_OF_RESOURCES = Statement(
    lambda dialect: sa.select(_deliveries.c.subscription_id, _deliveries.c.resource_id, _deliveries.c.event_id).where(
        _deliveries.c.status == DeliveryStatus.PENDING,
        _deliveries.c.kind == DeliveryKind.EVENT,
        in_list(_deliveries.c.resource_id, param("resources", UuidList()), dialect),
    )
)
_LEASE = Statement(
    lambda dialect: (
        sa.update(_deliveries)
        .where(in_list(_deliveries.c.id, param("ids", UuidList()), dialect))
        .values(locked_until=param("locked_until"), attempts=_deliveries.c.attempts + 1, updated_at=param("now"))
    )
)


async def claim(unit: UnitOfWork, *, limit: int, lease: timedelta) -> list[Claimed]:
    """Lease up to `limit` due deliveries, oldest due first, that nothing earlier holds back; count the attempt.

    An action item's deliveries run one at a time, in order (two pushes at once would both create a
    ticket), an integration's webhooks in the order they arrived (each may move the same ticket), and
    a subscription's events about one resource in the order they happened (a receiver must not see a
    postmortem complete before it saw it submitted).
    The first due deliveries are locked (others' claims skip them), and each is checked against the
    earlier pending deliveries of its item or integration by index lookups. (As one statement with
    NOT EXISTS, the check depended on statistics: after a burst of new deliveries the planner thought
    few were pending and compared every due delivery with every pending one, a second per claim.)
    """
    now = utc_now()
    due = [Claimed(**row) for row in await _DUE.all(unit, now=now, window=CLAIM_WINDOW * limit)]
    items = list({delivery.action_item_id for delivery in due if delivery.action_item_id is not None})
    first_of_item: dict[uuid.UUID, uuid.UUID] = {}
    for row in await _PENDING_OF_ITEMS.all(unit, items=items) if items else []:
        first = first_of_item.get(row["action_item_id"])
        first_of_item[row["action_item_id"]] = row["id"] if first is None else min(first, row["id"])
    first_webhook: dict[uuid.UUID, uuid.UUID] = {}
    for integration_id in {d.integration_id for d in due if d.kind is DeliveryKind.WEBHOOK and d.integration_id}:
        first_webhook[integration_id] = (await _FIRST_PENDING_WEBHOOK.one(unit, integration_id=integration_id))["id"]

    first_event = await _first_events(unit, due)

    def first_in_line(delivery: Claimed) -> bool:
        if delivery.action_item_id is not None and first_of_item[delivery.action_item_id] != delivery.id:
            return False
        if delivery.kind is DeliveryKind.EVENT:
            return first_event.get((delivery.subscription_id, delivery.resource_id)) == delivery.event_id
        return delivery.kind is not DeliveryKind.WEBHOOK or (
            delivery.integration_id is not None and first_webhook[delivery.integration_id] == delivery.id
        )

    claimed = [delivery for delivery in due if first_in_line(delivery)][:limit]
    if claimed:
        await _LEASE.all(unit, ids=[d.id for d in claimed], locked_until=now + lease, now=now)
    return [replace(delivery, attempts=delivery.attempts + 1) for delivery in claimed]


async def _first_events(
    unit: UnitOfWork, due: list[Claimed]
) -> dict[tuple[uuid.UUID | None, uuid.UUID | None], int | None]:
    """For each subscription and resource among the due event deliveries, the earliest pending event."""
    resources = list({d.resource_id for d in due if d.kind is DeliveryKind.EVENT and d.resource_id is not None})
    first: dict[tuple[uuid.UUID | None, uuid.UUID | None], int | None] = {}
    for row in await _PENDING_EVENTS_OF_RESOURCES.all(unit, resources=resources) if resources else []:
        key = (row["subscription_id"], row["resource_id"])
        earliest = first.get(key)
        first[key] = row["event_id"] if earliest is None else min(earliest, row["event_id"])
    return first


_RELEASE = Statement(
    lambda dialect: (
        sa.update(_deliveries)
        .where(in_list(_deliveries.c.id, param("ids", UuidList()), dialect), _deliveries.c.locked_until > param("now"))
        .values(locked_until=None, updated_at=param("now"))
    )
)


async def release(unit: UnitOfWork, delivery_ids: list[uuid.UUID]) -> None:
    """Give back the leases of deliveries claimed but not settled (the worker is stopping): they are due
    again at once. The attempt still counts: it may have reached the tracker, and the next attempt
    looks for what it made. A lease that ran out is left alone, as another worker may hold it now."""
    await _RELEASE.all(unit, ids=delivery_ids, now=utc_now())


def backoff(attempts: int, *, first: float, maximum: float, retry_after: float | None) -> float:
    """Seconds until the next attempt: doubling from `first` with full jitter in its upper half, capped;
    never sooner than the tracker asked for."""
    exponential = min(maximum, first * 2 ** max(0, attempts - 1))
    delay = random.uniform(exponential / 2, exponential)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


def _settle(**values: Any) -> Statement:
    """Release the lease, keeping the last error unless there is a new one, and set `values`."""
    values |= {
        "locked_until": None,
        "updated_at": param("now"),
        "last_error": sa.func.coalesce(param("error", sa.Text), _deliveries.c.last_error),
        "response_status": param("response_status", sa.Integer),
    }
    return Statement(sa.update(_deliveries).where(_deliveries.c.id == param("id")).values(values))


_RETRY_LATER = _settle(next_attempt_at=param("next_attempt_at"))
_DEFER = _settle(next_attempt_at=param("next_attempt_at"), attempts=_deliveries.c.attempts - 1)
_FINISH = _settle(status=param("status"), completed_at=param("now"))
_ATTEMPT = Statement(
    sa.insert(DeliveryAttempt.__table__).values(  # type: ignore[attr-defined]
        id=param("id"),
        delivery_id=param("delivery_id"),
        started_at=param("started_at"),
        finished_at=param("now"),
        outcome=param("outcome"),
        response_status=param("response_status"),
        error=param("error"),
    )
)


async def record(
    unit: UnitOfWork,
    delivery_id: uuid.UUID,
    *,
    started_at: datetime,
    outcome: DeliveryStatus | None,
    error: str | None = None,
    retry_in: float = 0.0,
    deferred: bool = False,
    response_status: int | None = None,
) -> None:
    """Settle an attempt in the unit's transaction: done, dead, or (outcome None) pending again after `retry_in` s.

    `response_status` is the HTTP status the attempt's answer had, when its handler reports it.

    A `deferred` attempt chose to wait rather than fail: it is not counted among the delivery's
    attempts, and its `error` (why it waits) is kept on the attempt only, not as the last error.
    """
    now = utc_now()
    error = error[:2000] if error else None
    next_attempt_at = now + timedelta(seconds=retry_in)
    answer = {"response_status": response_status}
    if deferred:
        await _DEFER.all(unit, id=delivery_id, now=now, error=None, next_attempt_at=next_attempt_at, **answer)
    elif outcome is None:
        await _RETRY_LATER.all(unit, id=delivery_id, now=now, error=error, next_attempt_at=next_attempt_at, **answer)
    else:
        await _FINISH.all(unit, id=delivery_id, now=now, error=error, status=outcome, **answer)
    label = "deferred" if deferred else "retry" if outcome is None else outcome.value
    await _ATTEMPT.all(
        unit,
        id=new_id(),
        delivery_id=delivery_id,
        started_at=started_at,
        now=now,
        outcome=label,
        error=error,
        **answer,
    )


@dataclass(frozen=True, slots=True)
class LastCreate:
    """The latest create a push sent for an action item, as far as its answer told."""

    sent_at: datetime
    issue_id: str | None  # the ticket it made, when a step after it failed; None: not known


_NOTE_CREATE = Statement(
    sa.update(_deliveries)
    .where(_deliveries.c.id == param("id"))
    .values(create_sent_at=param("sent_at"), created_issue_id=param("issue_id"))
)
_LAST_CREATE = Statement(
    sa.select(_deliveries.c.create_sent_at, _deliveries.c.created_issue_id)
    .where(
        _deliveries.c.action_item_id == param("action_item_id"),
        _deliveries.c.integration_id == param("integration_id"),
        _deliveries.c.kind == DeliveryKind.PUSH,
        _deliveries.c.create_sent_at.is_not(None),
    )
    .order_by(_deliveries.c.create_sent_at.desc())
    .limit(1)
)


async def note_create(
    unit: UnitOfWork, delivery_id: uuid.UUID, *, sent_at: datetime | None, issue_id: str | None = None
) -> None:
    """Record the latest create of a push: sent at `sent_at` (None: it was refused, so it made nothing),
    and the ticket it made if known."""
    await _NOTE_CREATE.all(unit, id=delivery_id, sent_at=sent_at, issue_id=issue_id)


async def last_create(
    unit: UnitOfWork, *, action_item_id: uuid.UUID, integration_id: uuid.UUID | None
) -> LastCreate | None:
    """The latest create noted by any push of the item to the integration (a dead one's too)."""
    row = await _LAST_CREATE.one_or_none(unit, action_item_id=action_item_id, integration_id=integration_id)
    return None if row is None else LastCreate(row["create_sent_at"], row["created_issue_id"])
