import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict

from service.auth.dependencies import ReadAccess, WriteAccess
from service.core.http import responses
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep
from service.outbox import service as outbox_service
from service.outbox.models import DeliveryRead, DeliveryStatus
from service.sync import service as sync_service

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


class DeliveryFilters(PageParams):
    model_config = ConfigDict(extra="forbid")

    status: DeliveryStatus | None = None
    action_item_id: uuid.UUID | None = None


@router.get("", name="list", summary="List tracker deliveries", responses=responses(401, 403, 422))
async def list_deliveries(
    _: ReadAccess, filters: Annotated[DeliveryFilters, Query()], session: SessionDep
) -> Page[DeliveryRead]:
    """Work sent to the trackers; `status=dead` lists what gave up, with attempts and the last error."""
    deliveries, next_cursor = await outbox_service.list_page(
        session, filters, status=filters.status, action_item_id=filters.action_item_id
    )
    return Page(items=[DeliveryRead.model_validate(d) for d in deliveries], next_cursor=next_cursor)


@router.post("/{delivery_id}/retry", summary="Retry a dead delivery", responses=responses(401, 403, 404, 409, 422))
async def retry(
    _: WriteAccess,
    delivery_id: Annotated[uuid.UUID, Path(description="The delivery's id.")],
    session: SessionDep,
) -> DeliveryRead:
    """Start a dead delivery again with a fresh set of attempts."""
    delivery = await outbox_service.retry(session, await outbox_service.get(session, delivery_id))
    await sync_service.on_delivery_retried(session, delivery)
    return DeliveryRead.model_validate(delivery)
