from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from service.auth.dependencies import ReadAccess, WriteAccess
from service.core.body_guard import is_json_media_type
from service.core.errors import FieldError, Unprocessable
from service.core.http import SettingsDep, responses, set_created
from service.dependencies import UnitDep
from service.documents import service as documents_service
from service.documents.models import MARKDOWN_MEDIA_TYPE, Audience, ExportFormat, MarkdownImport, PostmortemDocument
from service.documents.public import render_public
from service.documents.render import render
from service.postmortems.dependencies import PostmortemId
from service.postmortems.models import PostmortemRead

router = APIRouter(prefix="/postmortems", tags=["postmortems"])

IMPORT_PATH = "/v1/postmortems/import"
MARKDOWN_CONTENT_TYPE = f"{MARKDOWN_MEDIA_TYPE}; charset=utf-8"
MARKDOWN_EXAMPLE = """\
# Checkout outage after config push

- **Severity:** P2
- **Template:** standard
- **Status:** draft
- **Incident:** INC-4711
- **Authors:** alice, bob
- **Services:** checkout, payments
- **Started:** 2025-01-15T08:50:00Z
- **Detected:** 2025-01-15T09:00:00Z
- **Resolved:** 2025-01-15T09:35:00Z
- **Duration:** 45 min
- **Failure mode:** config-push
- **Customer data affected:** no

## Summary

Checkout failed for 45 minutes after a config push set the payment timeout to 0.

## Impact

- **Users affected:** 12000
- **Revenue impact:** \\~\\$4k in failed orders
- **SLA impact:** 99.9% monthly SLA breached

Every card payment at checkout failed with a 500.

## Timeline

| Time (UTC) | Kind | Description | Source |
| --- | --- | --- | --- |
| 2025-01-15T09:00:00Z | alert | Checkout error-rate alert fired | PagerDuty |
| 2025-01-15T09:20:00Z | mitigation | Config push rolled back | — |

## Root Cause

A config push set the payment client's timeout to 0, so every call failed at once.

### Five Whys

1. **Why did checkout fail?** The payment client timed out.
2. **Why was a timeout of 0 accepted?** Config pushes are not validated.

## Contributing Factors

- No canary stage for config pushes

## What Went Well

- The rollback took two minutes once started

## What Went Poorly

- The error-rate alert fired ten minutes after errors began

## Action Items

| Title | Owner | Priority | Due | Status | Kind | Ticket |
| --- | --- | --- | --- | --- | --- | --- |
| Validate config pushes in CI | @payments-oncall | P1 | 2025-02-01 | open | prevent | — |

## Lessons Learned

Config is code: it needs the same review and canary as a deploy.
"""
EXPORT_CONTENT: dict[str, Any] = {
    MARKDOWN_MEDIA_TYPE: {"schema": {"type": "string"}, "example": MARKDOWN_EXAMPLE},
    "application/json": {"schema": {"$ref": "#/components/schemas/PostmortemDocument"}},
}
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A postmortem in the standard or quick Markdown template, UTF-8: the document itself "
        "(`text/markdown`), or the document as the `markdown` field of a JSON object (`application/json`).",
        "content": {
            MARKDOWN_MEDIA_TYPE: {"schema": {"type": "string"}, "example": MARKDOWN_EXAMPLE},
            "application/json": {
                "schema": {"$ref": "#/components/schemas/MarkdownImport"},
                "example": {"markdown": MARKDOWN_EXAMPLE},
            },
        },
    }
}
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii"})


@router.get(
    "/{postmortem_id}/export",
    summary="Export as a document",
    response_model=PostmortemDocument,
    response_class=Response,
    responses=responses(401, 403, 404, 422) | {200: {"content": EXPORT_CONTENT}},
)
async def export(
    _: ReadAccess,
    postmortem_id: PostmortemId,
    unit: UnitDep,
    settings: SettingsDep,
    format: Annotated[ExportFormat, Query(description="`markdown` (default) or `json`.")] = ExportFormat.MARKDOWN,
    audience: Annotated[
        Audience,
        Query(description="`internal` (default), or `public`: a customer-facing incident report (Markdown only)."),
    ] = Audience.INTERNAL,
) -> Response:
    """The postmortem as Markdown in its template or as JSON, or (`audience=public`) a customer-facing report."""
    if audience is Audience.PUBLIC and format is not ExportFormat.MARKDOWN:
        raise Unprocessable(
            "the public incident report is only available as Markdown",
            [FieldError("audience", "`public` needs format=markdown", "unsupported_combination", "query")],
        )
    document = await documents_service.document(unit, postmortem_id, slo_days=settings.action_item_slo_days)
    if format is ExportFormat.JSON:
        return JSONResponse(document.model_dump(mode="json"))
    if audience is Audience.PUBLIC:
        return Response(render_public(document, settings.public_redact_terms), media_type=MARKDOWN_CONTENT_TYPE)
    return Response(render(document), media_type=MARKDOWN_CONTENT_TYPE)


@router.post(
    "/import",
    name="import",
    status_code=201,
    summary="Import a Markdown document",
    responses=responses(401, 403, 413, 415, 422, created=True),
    openapi_extra=IMPORT_BODY,
)
async def import_document(
    principal: WriteAccess, request: Request, unit: UnitDep, settings: SettingsDep, response: Response
) -> PostmortemDocument:
    """Create a draft from a Markdown document; a malformed one is refused whole, each error naming section and line."""
    content_type = request.headers.get("content-type", "")
    markdown = await (_json_markdown(request) if is_json_media_type(content_type) else _markdown(request))
    document = await documents_service.import_markdown(
        unit, markdown, slo_days=settings.action_item_slo_days, actor=principal
    )
    set_created(response, f"/v1/postmortems/{document.id}", document, shown_as=PostmortemRead)
    return document


def document_markdown_import(schema: dict[str, Any]) -> dict[str, Any]:
    """The import's JSON body is read by hand (the route takes Markdown too), so its schema is added here."""
    definition = MarkdownImport.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.setdefault("components", {}).setdefault("schemas", {})[MarkdownImport.__name__] = definition
    return schema


async def _json_markdown(request: Request) -> str:
    try:
        return MarkdownImport.model_validate_json(await request.body()).markdown
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]) from exc


async def _markdown(request: Request) -> str:
    charset = _charset(request.headers.get("content-type", ""))
    if charset is not None and charset not in UTF8_CHARSETS:
        raise Unprocessable(
            "documents are read as UTF-8",
            [FieldError("Content-Type", f"charset {charset} is not supported; send UTF-8", "charset", "header")],
        )
    try:
        markdown = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unprocessable(
            "the document is not UTF-8",
            [FieldError("body", f"byte {exc.start} is not UTF-8", "encoding")],
        ) from exc
    return markdown


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None
