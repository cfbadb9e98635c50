import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.exceptions import HTTPException

from service.auth.dependencies import ReadAccess, WriteAccess
from service.core.body_guard import is_json_media_type
from service.core.etag import IfMatchHeader
from service.core.http import SettingsDep, responses, set_created, set_etag
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep
from service.postmortems.dependencies import LockedPostmortem, PostmortemDep
from service.timeline import service as timeline_service
from service.timeline.imports import service as imports_service
from service.timeline.imports.models import ImportOptions, ImportSource, TimelineImportResult
from service.timeline.models import TimelineEventCreate, TimelineEventRead, TimelineEventUpdate

router = APIRouter(prefix="/postmortems/{postmortem_id}/timeline", tags=["timeline"])

EventId = Annotated[uuid.UUID, Path(description="The timeline event's id.")]

TIMELINE_IMPORT_PATH = r"/v1/postmortems/[^/]+/timeline/import"  # a pattern: the body guard lets it take CSV
CSV_MEDIA_TYPE = "text/csv"
CSV_EXAMPLE = """\
occurred_at,kind,description,source
2025-01-15T08:50:00Z,signal,Checkout p99 latency started climbing,Grafana
2025-01-15T09:20:00Z,mitigation,Config push rolled back,
"""
IMPORT_DOCUMENT: dict[str, Any] = {
    "title": "TimelineImportDocument",
    "description": "PagerDuty's log entries answer, a Slack channel's messages, or GitHub's deployment statuses.",
    "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
    "examples": [
        {
            "log_entries": [
                {
                    "id": "R2XGXEI3W0FHMRL9ZG6TS8ET7Z",
                    "type": "trigger_log_entry",
                    "created_at": "2025-01-15T09:00:00Z",
                    "summary": "Triggered through the API.",
                    "agent": {"summary": "Checkout error rate"},
                }
            ]
        }
    ],
}
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The source's own export: JSON for `pagerduty`, `slack` and `github-deployments`; "
        "CSV (`occurred_at,kind,description,source`) for `csv`.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TimelineImportDocument"}},
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
        },
    }
}


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


@router.post(
    "/import",
    name="import",
    summary="Import events from another tool",
    responses=responses(401, 403, 404, 409, 413, 415, 422),
    openapi_extra=IMPORT_BODY,
)
async def import_events(
    _: WriteAccess,
    request: Request,
    postmortem: LockedPostmortem,
    session: SessionDep,
    settings: SettingsDep,
    source: Annotated[
        ImportSource,
        Query(description="The export's format: `pagerduty`, `slack`, `github-deployments` or `csv`."),
    ],
    dry_run: Annotated[bool, Query(description="Answer what would be added, and write nothing.")] = False,
    include_notifications: Annotated[
        bool, Query(description="`pagerduty`: add notify entries as `communication` events (left out by default).")
    ] = False,
) -> TimelineImportResult:
    """Add the events of a PagerDuty incident log, a Slack channel export, GitHub deployment statuses or a CSV.

    Entries imported before are not added again; a file with any bad entry is refused whole (422,
    each error naming the entry and field). The answer is 200 whether or not events were added,
    as a re-import adds none. `suggested_times` are postmortem times the timeline now suggests.
    """
    expected = CSV_MEDIA_TYPE if source is ImportSource.CSV else "application/json"
    if not _is_media_type(request.headers.get("content-type", ""), expected):
        raise HTTPException(415, detail=f"source={source.value} takes {expected} bodies", headers={"Accept": expected})
    options = ImportOptions(
        include_notifications=include_notifications, slack_markers=tuple(settings.timeline_slack_markers)
    )
    body = await request.body()
    return await imports_service.import_events(session, postmortem, source, body, options, dry_run=dry_run)


def _is_media_type(content_type: str, expected: str) -> bool:
    if expected == "application/json":
        return is_json_media_type(content_type)
    return content_type.split(";", 1)[0].strip().lower() == expected


def document_timeline_import(schema: dict[str, Any]) -> dict[str, Any]:
    """The import's body is read by hand (four formats, two media types), so its schema is added here."""
    schema.setdefault("components", {}).setdefault("schemas", {})[IMPORT_DOCUMENT["title"]] = IMPORT_DOCUMENT
    return schema
