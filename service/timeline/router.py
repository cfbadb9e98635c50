import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from service.auth.dependencies import ReadAccess, WriteAccess
from service.core.etag import IfMatchHeader
from service.core.http import responses, set_created, set_etag
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep
from service.postmortems.dependencies import LockedPostmortem, PostmortemDep
from service.timeline import service as timeline_service
from service.timeline.models import TimelineEventCreate, TimelineEventRead, TimelineEventUpdate

router = APIRouter(prefix="/postmortems/{postmortem_id}/timeline", tags=["timeline"])

EventId = Annotated[uuid.UUID, Path(description="The timeline event's id.")]


@router.post(
    "",
    status_code=201,
    summary="Add a timeline event",
    responses=responses(401, 403, 404, 409, 413, 415, 422, created=True),
)
async def create(
    _: WriteAccess, event_in: TimelineEventCreate, postmortem: LockedPostmortem, session: SessionDep, response: Response
) -> TimelineEventRead:
    """Add an event to the postmortem's timeline."""
    event = TimelineEventRead.model_validate(await timeline_service.add(session, postmortem, event_in))
    set_created(response, f"/v1/postmortems/{postmortem.id}/timeline/{event.id}", event)
    return event


@router.get("", name="list", summary="List the timeline", responses=responses(401, 403, 404, 422))
async def list_events(
    _: ReadAccess, page: Annotated[PageParams, Query()], postmortem: PostmortemDep, session: SessionDep
) -> Page[TimelineEventRead]:
    """The timeline in `occurred_at` order."""
    events, next_cursor = await timeline_service.list_page(session, postmortem, page)
    return Page(items=[TimelineEventRead.model_validate(e) for e in events], next_cursor=next_cursor)


@router.get(
    "/{event_id}",
    summary="Get a timeline event",
    responses=responses(401, 403, 404, 422),
)
async def get(
    _: ReadAccess, event_id: EventId, postmortem: PostmortemDep, session: SessionDep, response: Response
) -> TimelineEventRead:
    """Get one timeline event."""
    event = TimelineEventRead.model_validate(await timeline_service.get(session, postmortem, event_id))
    set_etag(response, event)
    return event


@router.patch(
    "/{event_id}",
    summary="Update a timeline event",
    responses=responses(401, 403, 404, 409, 412, 413, 415, 422, etag=True),
)
async def update(
    _: WriteAccess,
    event_id: EventId,
    changes: TimelineEventUpdate,
    postmortem: LockedPostmortem,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TimelineEventRead:
    """Change the fields sent."""
    event = await timeline_service.get(session, postmortem, event_id)
    changed = TimelineEventRead.model_validate(
        await timeline_service.update(session, postmortem, event, changes, if_match=if_match)
    )
    set_etag(response, changed)
    return changed


@router.delete(
    "/{event_id}",
    status_code=204,
    summary="Delete a timeline event",
    responses=responses(401, 403, 404, 409, 412, 422),
)
async def delete(
    _: WriteAccess, event_id: EventId, postmortem: LockedPostmortem, session: SessionDep, if_match: IfMatchHeader = None
) -> None:
    """Remove an event from the timeline."""
    event = await timeline_service.get(session, postmortem, event_id)
    await timeline_service.delete(session, postmortem, event, if_match=if_match)
