"""Keeping action items and their tickets in step, on the database side.

Changes enqueue deliveries in the transaction that makes them (a new item in `action_items.service`,
`on_item_changed`, `on_postmortem_completed`); the worker runs them (`sync.handlers`) and writes back what the
tracker said (`save_link`, `apply_remote`). A status that came from the tracker is not pushed back.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items.models import ActionItem, SyncStatus, stamp_completion
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import Conflict, FieldError
from service.core.sql import Statement, param
from service.core.types import UuidList, in_list
from service.integrations.models import Integration, PushPolicy
from service.outbox import service as outbox_service
from service.outbox.models import Delivery, DeliveryKind
from service.postmortems.enums import Severity, Status
from service.postmortems.models import Postmortem
from service.trackers.base import IssueDraft, RemoteIssue

PUSHED_FIELDS = frozenset({"title", "description", "owner", "priority", "due_date", "status"})

_integrations = Integration.__table__  # type: ignore[attr-defined]
_items = ActionItem.__table__  # type: ignore[attr-defined]


def marker(item: ActionItem) -> str:
    return f"postmortems-{item.id}"


@dataclass(frozen=True, slots=True)
class PostmortemRef:
    """What a ticket says of the item's postmortem."""

    id: uuid.UUID
    title: str
    severity: Severity


def draft(item: ActionItem, postmortem: PostmortemRef, public_url: str) -> IssueDraft:
    """The ticket's content: the item, a link back to its postmortem, severity, priority and deadline."""
    lines = [item.description or "", ""] if item.description else []
    lines += [
        f"Action item from postmortem [{postmortem.title}]({public_url}/v1/postmortems/{postmortem.id}) "
        f"(severity {postmortem.severity.value}).",
        f"Priority: {item.priority.value if item.priority else 'unset'}. "
        f"Due: {item.due_date.isoformat() if item.due_date else 'unset'}. "
        f"Owner: {item.owner or 'unassigned'}.",
        "",
        f"postmortems-marker: {marker(item)}",
    ]
    # `family:value`, so that adapters replace an earlier value of the family (a changed priority)
    labels = ["postmortem", f"severity:{postmortem.severity.value}"]
    if item.priority is not None:
        labels.append(f"priority:{item.priority.value}")
    return IssueDraft(
        marker=marker(item),
        title=item.title,
        body="\n".join(lines),
        labels=tuple(labels),
        priority=item.priority,
        due_date=item.due_date,
        status=item.status,
    )


def ticket_integration(item_integration_id: Any, postmortem_integration_id: Any) -> Any:
    """Where an item's ticket lives, in SQL: its own integration, its postmortem's, or the default one."""
    default = sa.select(_integrations.c.id).where(_integrations.c.is_default.is_(True)).limit(1).scalar_subquery()
    return sa.func.coalesce(item_integration_id, postmortem_integration_id, default)


def pushes_when_created(push_policy: PushPolicy | None, postmortem_status: Status) -> bool:
    """A new item gets its ticket at once, or (policy on_complete) once its postmortem is complete."""
    return push_policy is PushPolicy.ON_CREATE or (push_policy is not None and postmortem_status is Status.COMPLETE)


async def on_item_changed(unit: UnitOfWork, item: ActionItem, changed: set[str]) -> None:
    """Push content and local status changes of an item that has, or is due to get, a ticket."""
    if not changed & PUSHED_FIELDS or item.integration_id is None:
        return
    if item.external_id is not None or item.sync_status in (SyncStatus.PENDING, SyncStatus.FAILED):
        await _enqueue_push(unit, item)


async def on_postmortem_completed(unit: UnitOfWork, postmortem: Postmortem) -> None:
    """Items waiting for completion (push policy on_complete) get their tickets now."""
    session = await unit.session()
    integration_id = ticket_integration(col(ActionItem.integration_id), postmortem.integration_id)
    statement = select(ActionItem, integration_id).where(
        col(ActionItem.postmortem_id) == postmortem.id, col(ActionItem.external_id).is_(None)
    )
    for item, target in (await session.exec(statement)).all():
        if item.integration_id != target:
            item.integration_id = target
        if item.integration_id is not None:
            await _enqueue_push(unit, item)


async def request_sync(unit: UnitOfWork, item: ActionItem) -> None:
    """Read the ticket's state now (the reconcile of one item)."""
    if item.external_id is None or item.integration_id is None:
        raise Conflict(
            "the action item has no ticket to sync with yet",
            [FieldError("external", "the item is not linked to a ticket", "not_linked", "resource")],
        )
    await outbox_service.enqueue(unit, DeliveryKind.SYNC, action_item_id=item.id, integration_id=item.integration_id)


async def on_delivery_retried(session: AsyncSession, delivery: Delivery) -> None:
    if delivery.kind is DeliveryKind.PUSH and delivery.action_item_id is not None:
        item = await session.get(ActionItem, delivery.action_item_id)
        if item is not None:
            item.sync_status = SyncStatus.PENDING
            item.updated_at = utc_now()


def save_link(item: ActionItem, kind: str, remote: RemoteIssue) -> None:
    item.external_tracker = kind
    item.external_id = remote.id
    item.external_key = remote.key
    item.external_url = remote.url
    item.external_state = remote.state
    item.external_status = remote.status
    item.external_synced_at = utc_now()
    item.sync_status = SyncStatus.SYNCED
    item.last_sync_error = None
    item.updated_at = utc_now()


def apply_remote(item: ActionItem, remote: RemoteIssue | None) -> bool:
    """Take a change of the ticket's state: its status when it maps to one, else count it as unmapped.

    Only a status that differs from the one last seen on the ticket is taken, so an echo of our own
    push (or a tracker that cannot express a status exactly) never overrides a newer local change.
    False when the ticket says nothing new: then only its confirmation time is due (see `confirm`),
    which is bookkeeping, not an edit, so the item keeps its version (its ETag moves with the
    `synced_at` it shows).
    """
    if remote is None and item.external_state == "deleted":
        return False
    if remote is not None and remote.status is not None:
        seen = (item.external_state, item.external_key, item.external_url, item.external_status)
        if (remote.state, remote.key, remote.url, remote.status) == seen:
            return False
    now = utc_now()
    item.external_synced_at = now
    item.updated_at = now
    if remote is None:
        item.external_state = "deleted"
        return True
    item.external_state = remote.state
    item.external_key, item.external_url = remote.key, remote.url
    if remote.status is None:
        item.external_unmapped += 1
        return True
    if remote.status is not item.external_status and remote.status is not item.status:
        item.status = remote.status
        stamp_completion(item)
    item.external_status = remote.status
    return True


_CONFIRM = Statement(
    lambda dialect: (
        sa.update(_items)
        .where(in_list(_items.c.id, param("ids", UuidList()), dialect))
        .values(external_synced_at=param("now"))
    )
)


async def confirm(unit: UnitOfWork, item_ids: Sequence[uuid.UUID]) -> None:
    """Record that the tracker confirmed these links now, without a new version of the items."""
    if item_ids:
        await _CONFIRM.all(unit, ids=list(item_ids), now=utc_now())


def mark_failed(item: ActionItem, error: str) -> None:
    item.sync_status = SyncStatus.FAILED
    item.last_sync_error = error[:2000]
    item.updated_at = utc_now()


async def _enqueue_push(unit: UnitOfWork, item: ActionItem) -> None:
    if item.sync_status is not SyncStatus.PENDING:
        item.sync_status = SyncStatus.PENDING
    await outbox_service.enqueue(unit, DeliveryKind.PUSH, action_item_id=item.id, integration_id=item.integration_id)
