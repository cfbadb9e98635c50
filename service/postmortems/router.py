from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.auth.dependencies import AdminAccess, ReadAccess, WriteAccess
from service.auth.models import Principal
from service.core.database import UnitOfWork
from service.core.etag import IfMatchHeader
from service.core.http import SettingsDep, json_response, responses, set_etag
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep, UnitDep
from service.postmortems import reads, workflow
from service.postmortems import service as postmortems_service
from service.postmortems.dependencies import LockedPostmortem, PostmortemDep, PostmortemId
from service.postmortems.filters import PostmortemFilters
from service.postmortems.models import (
    ChangeRequest,
    Postmortem,
    PostmortemCreate,
    PostmortemRead,
    PostmortemUpdate,
    Readiness,
    TransitionRead,
)
from service.settings import Settings

router = APIRouter(prefix="/postmortems", tags=["postmortems"])

AUTH_ERRORS = (401, 403)


@router.post(
    "",
    status_code=201,
    summary="Create a postmortem",
    response_model=PostmortemRead,
    responses=responses(*AUTH_ERRORS, 409, 413, 415, 422, created=True),
)
async def create(principal: WriteAccess, postmortem_in: PostmortemCreate, unit: UnitDep) -> Response:
    """Create a draft postmortem."""
    postmortem = await postmortems_service.create(unit, postmortem_in, actor=principal)
    return json_response(
        postmortem, status_code=201, headers={"Location": f"/v1/postmortems/{postmortem.id}"}, etag=True
    )


@router.get(
    "",
    name="list",
    summary="List postmortems",
    response_model=Page[PostmortemRead],
    responses=responses(*AUTH_ERRORS, 422),
)
async def list_postmortems(_: ReadAccess, filters: Annotated[PostmortemFilters, Query()], unit: UnitDep) -> Response:
    """List postmortems, newest first (best match first with `q`), filtered and paginated by cursor."""
    postmortems, next_cursor = await reads.list_page(unit, filters)
    return json_response(Page(items=postmortems, next_cursor=next_cursor))


@router.get(
    "/{postmortem_id}",
    summary="Get a postmortem",
    response_model=PostmortemRead,
    responses=responses(*AUTH_ERRORS, 404, 422),
)
async def get(_: ReadAccess, postmortem_id: PostmortemId, unit: UnitDep) -> Response:
    """Get a postmortem with its approvals and action-item summary."""
    return json_response(await reads.read(unit, postmortem_id), etag=True)


@router.patch(
    "/{postmortem_id}",
    summary="Update a postmortem",
    response_model=PostmortemRead,
    responses=responses(*AUTH_ERRORS, 404, 409, 412, 413, 415, 422, etag=True),
)
async def update(
    principal: WriteAccess,
    changes: PostmortemUpdate,
    postmortem_id: PostmortemId,
    unit: UnitDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Change the fields sent; a complete postmortem is frozen (409)."""
    postmortem = await postmortems_service.update(unit, postmortem_id, changes, if_match=if_match, actor=principal)
    return json_response(postmortem, etag=True)


@router.delete(
    "/{postmortem_id}",
    status_code=204,
    summary="Delete a draft postmortem",
    responses=responses(*AUTH_ERRORS, 404, 409, 412, 422),
)
async def delete(_: WriteAccess, postmortem: LockedPostmortem, unit: UnitDep, if_match: IfMatchHeader = None) -> None:
    """Delete a postmortem with its timeline and action items; only drafts can be deleted."""
    await postmortems_service.delete(unit, postmortem, if_match=if_match)


TRANSITION_RESPONSES = responses(*AUTH_ERRORS, 404, 409, 422, etag=True)


async def _transition(
    unit: UnitOfWork,
    postmortem: Postmortem,
    action: workflow.Action,
    principal: Principal,
    settings: Settings,
    response: Response,
    comment: str | None = None,
) -> PostmortemRead:
    postmortem = await workflow.apply(
        unit,
        postmortem,
        action,
        principal,
        required_approvals=settings.required_approvals,
        blocking_rules=settings.review_blocking_rules,
        comment=comment,
    )
    changed = await reads.read_changed(unit, postmortem)
    set_etag(response, changed)
    return changed


@router.post("/{postmortem_id}/submit", summary="Submit for review", responses=TRANSITION_RESPONSES)
async def submit(
    principal: WriteAccess, postmortem: LockedPostmortem, unit: UnitDep, settings: SettingsDep, response: Response
) -> PostmortemRead:
    """Move a draft to review; refused (409) with every unmet requirement listed."""
    return await _transition(unit, postmortem, workflow.Action.SUBMIT, principal, settings, response)


@router.post(
    "/{postmortem_id}/request-changes",
    summary="Send back to draft",
    responses=responses(*AUTH_ERRORS, 404, 409, 413, 415, 422, etag=True),
)
async def request_changes(
    principal: WriteAccess,
    change_request: ChangeRequest,
    postmortem: LockedPostmortem,
    unit: UnitDep,
    settings: SettingsDep,
    response: Response,
) -> PostmortemRead:
    """Return a postmortem in review to its authors with a comment; approvals are cleared."""
    return await _transition(
        unit, postmortem, workflow.Action.REQUEST_CHANGES, principal, settings, response, change_request.comment
    )


@router.post("/{postmortem_id}/approve", summary="Approve", responses=TRANSITION_RESPONSES)
async def approve(
    principal: WriteAccess, postmortem: LockedPostmortem, unit: UnitDep, settings: SettingsDep, response: Response
) -> PostmortemRead:
    """Record the calling key's approval of a postmortem in review (once per name)."""
    return await _transition(unit, postmortem, workflow.Action.APPROVE, principal, settings, response)


@router.post("/{postmortem_id}/complete", summary="Complete", responses=TRANSITION_RESPONSES)
async def complete(
    principal: WriteAccess, postmortem: LockedPostmortem, unit: UnitDep, settings: SettingsDep, response: Response
) -> PostmortemRead:
    """Complete a reviewed postmortem; it is frozen afterwards."""
    return await _transition(unit, postmortem, workflow.Action.COMPLETE, principal, settings, response)


@router.post("/{postmortem_id}/reopen", summary="Reopen", responses=TRANSITION_RESPONSES)
async def reopen(
    principal: AdminAccess, postmortem: LockedPostmortem, unit: UnitDep, settings: SettingsDep, response: Response
) -> PostmortemRead:
    """Move a complete postmortem back to review (admin)."""
    return await _transition(unit, postmortem, workflow.Action.REOPEN, principal, settings, response)


@router.get("/{postmortem_id}/readiness", summary="Check readiness", responses=responses(*AUTH_ERRORS, 404, 422))
async def readiness(_: ReadAccess, postmortem: PostmortemDep, session: SessionDep, settings: SettingsDep) -> Readiness:
    """What the next workflow step still needs, without taking it."""
    return await workflow.readiness(session, postmortem, settings.required_approvals, settings.review_blocking_rules)


@router.get("/{postmortem_id}/history", summary="Workflow history", responses=responses(*AUTH_ERRORS, 404, 422))
async def history(
    _: ReadAccess, page: Annotated[PageParams, Query()], postmortem: PostmortemDep, session: SessionDep
) -> Page[TransitionRead]:
    """Every workflow step taken, oldest first, with who took it and when."""
    transitions, next_cursor = await workflow.history(session, postmortem, page)
    return Page(items=[TransitionRead.model_validate(t) for t in transitions], next_cursor=next_cursor)
