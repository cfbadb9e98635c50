import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from service.action_items import service as action_items_service
from service.action_items import slo
from service.action_items.filters import ActionItemFilters
from service.action_items.models import ActionItem, ActionItemCreate, ActionItemRead, ActionItemUpdate
from service.auth.dependencies import ReadAccess, WriteAccess
from service.core.database import UnitOfWork
from service.core.etag import IfMatchHeader
from service.core.http import SettingsDep, json_response, responses, set_etag
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep, UnitDep
from service.postmortems.dependencies import PostmortemDep, PostmortemId
from service.settings import Settings
from service.sync import service as sync_service

router = APIRouter(tags=["action-items"])

ItemId = Annotated[uuid.UUID, Path(description="The action item's id.")]


async def item_or_404(item_id: ItemId, session: SessionDep) -> ActionItem:
    return await action_items_service.get(session, item_id)


async def item_for_update(item_id: ItemId, session: SessionDep) -> ActionItem:
    return await action_items_service.get(session, item_id, for_update=True)


ItemDep = Annotated[ActionItem, Depends(item_or_404)]
LockedItem = Annotated[ActionItem, Depends(item_for_update)]


def _read(item: ActionItem | Mapping[str, Any], settings: Settings) -> ActionItemRead:
    return slo.to_read(item, settings.action_item_slo_days)


async def _page(unit: UnitOfWork, filters: ActionItemFilters, settings: Settings) -> Response:
    rows, next_cursor = await action_items_service.list_page(unit, filters, settings.action_item_slo_days)
    return json_response(Page(items=[_read(row, settings) for row in rows], next_cursor=next_cursor))


@router.post(
    "/postmortems/{postmortem_id}/action-items",
    status_code=201,
    summary="Add an action item",
    response_model=ActionItemRead,
    responses=responses(401, 403, 404, 409, 413, 415, 422, created=True),
)
async def create(
    principal: WriteAccess, item_in: ActionItemCreate, postmortem_id: PostmortemId, unit: UnitDep, settings: SettingsDep
) -> Response:
    """Add an action item to a postmortem."""
    item = await action_items_service.create(
        unit, postmortem_id, item_in, slo_days=settings.action_item_slo_days, actor=principal
    )
    return json_response(item, status_code=201, headers={"Location": f"/v1/action-items/{item.id}"}, etag=True)


@router.get(
    "/postmortems/{postmortem_id}/action-items",
    summary="List a postmortem's action items",
    response_model=Page[ActionItemRead],
    responses=responses(401, 403, 404, 422),
)
async def list_for_postmortem(
    _: ReadAccess,
    page: Annotated[PageParams, Query()],
    postmortem: PostmortemDep,
    unit: UnitDep,
    settings: SettingsDep,
) -> Response:
    """The postmortem's action items in creation order."""
    filters = ActionItemFilters(postmortem_id=postmortem.id, limit=page.limit, cursor=page.cursor)
    return await _page(unit, filters, settings)


@router.get(
    "/action-items",
    name="list",
    summary="List action items",
    response_model=Page[ActionItemRead],
    responses=responses(401, 403, 422),
)
async def list_items(
    _: ReadAccess, filters: Annotated[ActionItemFilters, Query()], unit: UnitDep, settings: SettingsDep
) -> Response:
    """Action items across postmortems, filtered by owner, status, priority, overdue or SLO breach."""
    return await _page(unit, filters, settings)


@router.get(
    "/action-items/{item_id}",
    summary="Get an action item",
    responses=responses(401, 403, 404, 422),
)
async def get(_: ReadAccess, item: ItemDep, settings: SettingsDep, response: Response) -> ActionItemRead:
    """Get one action item."""
    read = _read(item, settings)
    set_etag(response, read)
    return read


@router.patch(
    "/action-items/{item_id}",
    summary="Update an action item",
    responses=responses(401, 403, 404, 409, 412, 413, 415, 422, etag=True),
)
async def update(
    principal: WriteAccess,
    changes: ActionItemUpdate,
    item: LockedItem,
    unit: UnitDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ActionItemRead:
    """Change the fields sent; once the postmortem is complete only `status` may change."""
    read = await action_items_service.update(
        unit, item, changes, if_match=if_match, slo_days=settings.action_item_slo_days, actor=principal
    )
    set_etag(response, read)
    return read


@router.delete(
    "/action-items/{item_id}",
    status_code=204,
    summary="Delete an action item",
    responses=responses(401, 403, 404, 409, 412, 422),
)
async def delete(
    _: WriteAccess, item: LockedItem, session: SessionDep, settings: SettingsDep, if_match: IfMatchHeader = None
) -> None:
    """Delete an action item of a postmortem that is not complete."""
    await action_items_service.delete(session, item, if_match=if_match, slo_days=settings.action_item_slo_days)


@router.post(
    "/action-items/{item_id}/sync",
    status_code=202,
    summary="Sync with the tracker now",
    responses=responses(401, 403, 404, 409, 422),
)
async def sync(_: WriteAccess, item: LockedItem, unit: UnitDep, settings: SettingsDep) -> ActionItemRead:
    """Read the ticket's state from the tracker now, instead of waiting for a webhook or the periodic poll."""
    await sync_service.request_sync(unit, item)
    return _read(item, settings)
