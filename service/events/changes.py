"""The events of each kind of change, built from the read models the API answers with."""

from collections.abc import Collection

from service.action_items.models import ActionItemRead, ItemStatus
from service.auth.models import Principal
from service.core.database import UnitOfWork
from service.events import service as events_service
from service.events.models import (
    ActionItemCreated,
    ActionItemOverdue,
    ActionItemStatusChanged,
    ActionItemUpdated,
    Actor,
    ChangeSource,
    EventType,
    PostmortemCreated,
    PostmortemStatusChanged,
    PostmortemUpdated,
)
from service.postmortems.enums import Status
from service.postmortems.models import PostmortemRead


async def postmortem_created(unit: UnitOfWork, postmortem: PostmortemRead, *, actor: Principal | None) -> None:
    data = PostmortemCreated(postmortem=postmortem, actor=Actor.of(actor))
    await events_service.record(unit, EventType.POSTMORTEM_CREATED, resource_id=postmortem.id, data=data)


async def postmortem_updated(
    unit: UnitOfWork, postmortem: PostmortemRead, changed: Collection[str], *, actor: Principal | None
) -> None:
    """Nothing is recorded when no value changed (a PATCH that sent the values it had)."""
    if changed:
        data = PostmortemUpdated(postmortem=postmortem, changed=sorted(changed), actor=Actor.of(actor))
        await events_service.record(unit, EventType.POSTMORTEM_UPDATED, resource_id=postmortem.id, data=data)


async def postmortem_status_changed(
    unit: UnitOfWork, postmortem: PostmortemRead, old_status: Status, *, action: str, actor: Principal | None
) -> None:
    data = PostmortemStatusChanged(
        postmortem=postmortem, old_status=old_status, new_status=postmortem.status, action=action, actor=Actor.of(actor)
    )
    await events_service.record(unit, EventType.POSTMORTEM_STATUS_CHANGED, resource_id=postmortem.id, data=data)


async def action_item_created(unit: UnitOfWork, item: ActionItemRead, *, actor: Principal | None) -> None:
    data = ActionItemCreated(action_item=item, actor=Actor.of(actor))
    await events_service.record(unit, EventType.ACTION_ITEM_CREATED, resource_id=item.id, data=data)


async def action_item_updated(
    unit: UnitOfWork, item: ActionItemRead, changed: Collection[str], old_status: ItemStatus, *, actor: Principal | None
) -> None:
    """`action_item.updated` for any change made through the API, then `status_changed` if the status moved."""
    if not changed:
        return
    data = ActionItemUpdated(action_item=item, changed=sorted(changed), actor=Actor.of(actor))
    await events_service.record(unit, EventType.ACTION_ITEM_UPDATED, resource_id=item.id, data=data)
    if item.status is not old_status:
        await action_item_status_changed(unit, item, old_status, source=ChangeSource.API, actor=actor)


async def action_item_status_changed(
    unit: UnitOfWork, item: ActionItemRead, old_status: ItemStatus, *, source: ChangeSource, actor: Principal | None
) -> None:
    data = ActionItemStatusChanged(
        action_item=item,
        old_status=old_status,
        new_status=item.status,
        source=source,
        actor=Actor.of(actor),
    )
    await events_service.record(unit, EventType.ACTION_ITEM_STATUS_CHANGED, resource_id=item.id, data=data)


async def action_item_overdue(unit: UnitOfWork, item: ActionItemRead) -> None:
    await events_service.record(
        unit, EventType.ACTION_ITEM_OVERDUE, resource_id=item.id, data=ActionItemOverdue(action_item=item)
    )
