"""What the worker does for each kind of delivery: talk to the tracker, then say what to save.

Each handler reads what it needs in one short read, calls the tracker with no transaction open,
and returns what to save (`Save`, or None when there is nothing); the worker saves it in the
transaction that settles the attempt, so a ticket's link and the delivery's outcome are committed
together. Tracker errors propagate to the worker, which retries or gives up (`outbox.worker`).
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import col, select

from service.action_items import slo
from service.action_items.models import ActionItem
from service.core.database import Database, UnitOfWork
from service.events import changes
from service.events.models import ChangeSource
from service.integrations import service as integrations_service
from service.integrations.models import Integration
from service.integrations.secrets import SecretBox
from service.outbox.clients import TrackerClients
from service.outbox.models import DeliveryKind
from service.outbox.service import Answered, Claimed
from service.settings import Settings
from service.subscriptions import delivery as subscriptions_delivery
from service.sync import creates, rows
from service.sync import service as sync_service
from service.trackers.base import PermanentTrackerError, RemoteIssue, TrackerAdapter
from service.trackers.registry import tracker_for
from service.webhooks.models import InboundEvent


@dataclass(frozen=True)
class Context:
    database: Database
    clients: TrackerClients
    settings: Settings
    box: SecretBox


Save = Callable[[UnitOfWork], Awaitable[None]]
Handler = Callable[[Context, Claimed], Awaitable[Save | Answered | None]]


async def push(context: Context, delivery: Claimed) -> Save:
    """Create the item's ticket or bring it up to date.

    A ticket may exist without its link being saved only if an earlier push attempt reached the
    tracker and then crashed or failed: such a ticket is found again by its marker (`creates`). On
    the first attempt of the first push there can be none, so the lookup is skipped.
    """
    async with context.database.unit(write=False) as unit:
        found = await _with_context(unit, delivery)
    item, integration = found.item, _integration_of(found)
    adapter = _adapter(context, integration)
    draft = sync_service.draft(item, found.postmortem, context.settings.public_url)
    known_id = item.external_id if item.external_tracker == integration.kind.value else None
    # The local status is pushed only when it changed since the ticket was last seen, so a push
    # of other fields never undoes a status someone set in the tracker meanwhile.
    status_changed_here = known_id is None or item.status is not item.external_status
    if known_id is not None:
        remote = await adapter.update_issue(known_id, draft)
    else:
        look_first = delivery.attempts > 1 or found.pushed_before
        remote = await creates.find_or_create(
            context.database, context.settings, delivery, adapter, draft, look_first=look_first
        )
    if status_changed_here and remote.status is not draft.status:
        remote = await adapter.set_status(remote.id, draft.status)

    async def save(unit: UnitOfWork) -> None:
        loaded = await _locked(unit, delivery)
        if not status_changed_here:
            sync_service.apply_remote(loaded.item, remote)  # the ticket's status changed in the tracker meanwhile
        sync_service.save_link(loaded.item, integration.kind.value, remote)
        await rows.save(unit, loaded)
        await _record_status_change(context, unit, loaded, integration.kind.value)

    return save


async def sync(context: Context, delivery: Claimed) -> Save | None:
    """Read the ticket and take its state."""
    async with context.database.unit(write=False) as unit:
        found = await _with_context(unit, delivery)
    adapter = _adapter(context, _integration_of(found))
    if found.item.external_id is None:
        return None
    remote = await adapter.fetch_issue(found.item.external_id)
    return _taking(context, delivery.action_item_id, remote, _integration_of(found).kind.value)


async def apply_webhook(context: Context, delivery: Claimed) -> Save | None:
    """Apply a received webhook to the item whose ticket it is about; others are acknowledged and ignored."""
    async with context.database.unit(write=False) as unit:
        session = await unit.session()
        event_row = await session.get(InboundEvent, delivery.inbound_event_id)
        integration = await session.get(Integration, delivery.integration_id)
        if event_row is None or integration is None:
            return None
        config = integrations_service.tracker_config(context.box, integration)
        codec = tracker_for(integration.kind).webhooks
        event = codec.parse_webhook(event_row.headers, event_row.body.encode(), config)
        if event.issue_id is None:
            return None
        statement = select(ActionItem.id).where(
            col(ActionItem.integration_id) == integration.id, col(ActionItem.external_id) == event.issue_id
        )
        item_id = (await session.exec(statement)).first()
    if item_id is None or not (event.deleted or event.issue is not None):
        return None
    return _taking(context, item_id, None if event.deleted else event.issue, integration.kind.value)


HANDLERS: dict[DeliveryKind, Handler] = {
    DeliveryKind.PUSH: push,
    DeliveryKind.SYNC: sync,
    DeliveryKind.WEBHOOK: apply_webhook,
    DeliveryKind.EVENT: subscriptions_delivery.deliver,
}


def _taking(context: Context, item_id: uuid.UUID | None, remote: RemoteIssue | None, tracker: str) -> Save:
    """Take the ticket's state; `remote` None means the ticket was deleted or moved away."""

    async def save(unit: UnitOfWork) -> None:
        loaded = await rows.locked(unit, item_id) if item_id else None
        if loaded is None:
            return
        if sync_service.apply_remote(loaded.item, remote):
            await rows.save(unit, loaded)
            await _record_status_change(context, unit, loaded, tracker)
        else:
            await sync_service.confirm(unit, [loaded.item.id])

    return save


async def _record_status_change(context: Context, unit: UnitOfWork, loaded: rows.Loaded, tracker: str) -> None:
    """`action_item.status_changed` when the tracker moved the item's status (called after `rows.save`)."""
    old_status = loaded.columns["status"]
    if loaded.item.status != old_status:
        item = slo.to_read(loaded.item, context.settings.action_item_slo_days)
        await changes.action_item_status_changed(unit, item, old_status, source=ChangeSource(tracker), actor=None)


async def _with_context(unit: UnitOfWork, delivery: Claimed) -> rows.ItemInContext:
    found = await rows.with_context(unit, delivery.action_item_id) if delivery.action_item_id else None
    if found is None:
        raise PermanentTrackerError("the action item no longer exists")
    return found


async def _locked(unit: UnitOfWork, delivery: Claimed) -> rows.Loaded:
    loaded = await rows.locked(unit, delivery.action_item_id) if delivery.action_item_id else None
    if loaded is None:
        raise PermanentTrackerError("the action item no longer exists")
    return loaded


def _integration_of(found: rows.ItemInContext) -> Integration:
    if found.integration is None:
        raise PermanentTrackerError("the action item has no integration to sync with")
    return found.integration


def _adapter(context: Context, integration: Integration) -> TrackerAdapter:
    config = integrations_service.tracker_config(context.box, integration)
    return tracker_for(integration.kind).adapter(config, context.clients.next())
