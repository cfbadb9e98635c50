"""What the worker does for each kind of delivery: talk to the tracker, then save what it said.

Each handler reads what it needs in one short transaction, calls the tracker with no transaction
open, and saves the answer in another. Tracker errors propagate to the worker, which retries
or gives up (`outbox.worker`).
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items.models import ActionItem
from service.core.database import Database
from service.integrations import service as integrations_service
from service.integrations.models import Integration
from service.integrations.secrets import SecretBox
from service.outbox.models import Delivery, DeliveryKind
from service.postmortems.models import Postmortem
from service.settings import Settings
from service.sync import service as sync_service
from service.trackers.base import PermanentTrackerError, RemoteIssue, TrackerAdapter
from service.trackers.registry import tracker_for
from service.webhooks.models import InboundEvent


@dataclass(frozen=True)
class Context:
    database: Database
    client: httpx.AsyncClient
    settings: Settings
    box: SecretBox


Handler = Callable[[Context, Delivery], Awaitable[None]]


async def push(context: Context, delivery: Delivery) -> None:
    """Create the item's ticket (found again by its marker after a crash) or bring it up to date."""
    async with context.database.unit(write=False) as unit:
        session = await unit.session()
        item, postmortem, integration = await _load(session, delivery)
        adapter = _adapter(context, integration)
        draft = sync_service.draft(item, postmortem, context.settings.public_url)
        known_id = item.external_id if item.external_tracker == integration.kind.value else None
        # The local status is pushed only when it changed since the ticket was last seen, so a push
        # of other fields never undoes a status someone set in the tracker meanwhile.
        status_changed_here = known_id is None or item.status is not item.external_status
    if known_id is None:
        remote = await adapter.find_issue(draft.marker) or await adapter.create_issue(draft)
    else:
        remote = await adapter.update_issue(known_id, draft)
    if status_changed_here and remote.status is not draft.status:
        remote = await adapter.set_status(remote.id, draft.status)
    async with context.database.unit(write=True) as unit:
        item = await _item(await unit.session(), delivery)
        if not status_changed_here:
            sync_service.apply_remote(item, remote)  # the ticket's status changed in the tracker meanwhile
        sync_service.save_link(item, integration.kind.value, remote)
        await unit.commit()


async def sync(context: Context, delivery: Delivery) -> None:
    """Read the ticket and take its state."""
    async with context.database.unit(write=False) as unit:
        item, _, integration = await _load(await unit.session(), delivery)
        adapter = _adapter(context, integration)
        external_id = item.external_id
    if external_id is None:
        return
    remote = await adapter.fetch_issue(external_id)
    await _apply(context, delivery.action_item_id, remote)


async def apply_webhook(context: Context, delivery: Delivery) -> None:
    """Apply a received webhook to the item whose ticket it is about; others are acknowledged and ignored."""
    async with context.database.unit(write=False) as unit:
        session = await unit.session()
        event_row = await session.get(InboundEvent, delivery.inbound_event_id)
        integration = await session.get(Integration, delivery.integration_id)
        if event_row is None or integration is None:
            return
        config = integrations_service.tracker_config(context.box, integration)
        codec = tracker_for(integration.kind).webhooks
        event = codec.parse_webhook(event_row.headers, event_row.body.encode(), config)
        if event.issue_id is None:
            return
        statement = select(ActionItem.id).where(
            col(ActionItem.integration_id) == integration.id, col(ActionItem.external_id) == event.issue_id
        )
        item_id = (await session.exec(statement)).first()
    if item_id is not None and (event.deleted or event.issue is not None):
        await _apply(context, item_id, None if event.deleted else event.issue)


HANDLERS: dict[DeliveryKind, Handler] = {
    DeliveryKind.PUSH: push,
    DeliveryKind.SYNC: sync,
    DeliveryKind.WEBHOOK: apply_webhook,
}


async def _apply(context: Context, item_id: uuid.UUID | None, remote: RemoteIssue | None) -> None:
    """Take the ticket's state; `remote` None means the ticket was deleted or moved away."""
    async with context.database.unit(write=True) as unit:
        session = await unit.session()
        item = await session.get(ActionItem, item_id, with_for_update=True) if item_id else None
        if item is not None:
            if not sync_service.apply_remote(item, remote):
                await sync_service.confirm(session, [item.id])
            await unit.commit()


async def _load(session: AsyncSession, delivery: Delivery) -> tuple[ActionItem, Postmortem, Integration]:
    item = await _item(session, delivery)
    postmortem = await session.get(Postmortem, item.postmortem_id)
    integration = await session.get(Integration, item.integration_id) if item.integration_id else None
    if postmortem is None or integration is None:
        raise PermanentTrackerError("the action item has no integration to sync with")
    return item, postmortem, integration


async def _item(session: AsyncSession, delivery: Delivery) -> ActionItem:
    item = await session.get(ActionItem, delivery.action_item_id) if delivery.action_item_id else None
    if item is None:
        raise PermanentTrackerError("the action item no longer exists")
    return item


def _adapter(context: Context, integration: Integration) -> TrackerAdapter:
    config = integrations_service.tracker_config(context.box, integration)
    return tracker_for(integration.kind).adapter(config, context.client)
