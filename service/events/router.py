from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from service.auth.dependencies import ReadAccess
from service.core.http import responses
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.dependencies import UnitDep
from service.events import service as events_service
from service.events.models import EventFeed, EventType

router = APIRouter(prefix="/events", tags=["events"])


class FeedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page; omitted: from the first event ever recorded.",
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")
    type: EventType | None = Field(default=None, description="Only events of this type.")


@router.get("", name="list", summary="Read the change feed", responses=responses(401, 403, 422))
async def list_events(_: ReadAccess, params: Annotated[FeedParams, Query()], unit: UnitDep) -> EventFeed:
    """Every event recorded, in order, for consumers that poll instead of taking webhooks; continue with
    `after=<next_cursor>`, which survives restarts."""
    return await events_service.feed(unit, after=params.after, limit=params.limit, type_=params.type)
