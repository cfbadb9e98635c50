"""RFC 9457 problem details: the one error shape of the API.

Every error answers `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance` and an `errors` list naming each field at fault.
"""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.errors import DomainError, FieldError, Location, Unauthorized

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:postmortems:problem:"
RETRY_AFTER_SECONDS = 5  # what a 503 asks a client to wait while the database is unreachable

logger = logging.getLogger(__name__)


class ProblemFieldError(BaseModel):
    field: str = Field(
        description="Dotted path of the field at fault, e.g. `impact.users_affected`; `body` for the body as a whole."
    )
    location: str = Field(description="Where the field is: body, query, path, header or resource.")
    message: str = Field(description="What is wrong with it, for people.")
    code: str = Field(description="Machine-readable reason, e.g. `missing` or `required`.")
    line: int | None = Field(
        default=None,
        exclude_if=lambda line: line is None,
        description="Line at fault in an imported document (`field` then names its section); else absent.",
    )


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": f"{TYPE_PREFIX}validation-error",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "1 field is invalid",
                    "instance": "/v1/postmortems",
                    "errors": [
                        {
                            "field": "impact.users_affected",
                            "location": "body",
                            "message": "Input should be a valid integer",
                            "code": "int_type",
                        }
                    ],
                }
            ]
        }
    )

    type: str = Field(
        description=f"A URN naming the kind of problem (`{TYPE_PREFIX}<slug>`): what a client branches on.",
        examples=[f"{TYPE_PREFIX}validation-error"],
    )
    title: str = Field(description="A short summary of the kind of problem.", examples=["Invalid request"])
    status: int = Field(description="The HTTP status code of the answer.", examples=[422])
    detail: str = Field(description="What went wrong in this request, for people.", examples=["1 field is invalid"])
    instance: str | None = Field(
        default=None, description="The path of the request that failed.", examples=["/v1/postmortems"]
    )
    errors: list[ProblemFieldError] = Field(
        default_factory=list, description="Each field, parameter or requirement at fault; empty when none."
    )


def field_error_body(error: FieldError) -> dict[str, str | int]:
    body: dict[str, str | int] = {
        "field": error.field,
        "location": error.location,
        "message": error.message,
        "code": error.code,
    }
    if error.line is not None:
        body["line"] = error.line
    return body


def problem_response(
    request_path: str | None,
    status: int,
    *,
    detail: str,
    slug: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body = {
        "type": TYPE_PREFIX + (slug or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": title or phrase,
        "status": status,
        "detail": detail,
        "instance": request_path,
        "errors": [field_error_body(error) for error in errors or []],
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


BODY_FIELD = "body"
"""The `field` of an error about the body as a whole: not JSON, empty, or not an object."""


def _field_error_from_pydantic(error: dict[str, Any]) -> FieldError:
    loc = [str(part) for part in error.get("loc", ())]
    location: Location = "body"
    if loc and loc[0] in ("body", "query", "path", "header"):
        location = loc.pop(0)  # type: ignore[assignment]
    message = str(error.get("msg", "invalid value"))
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    field = ".".join(loc) or (BODY_FIELD if location == "body" else "")
    return FieldError(field=field, message=message, code=str(error.get("type", "invalid")), location=location)


def _request_field_errors(request: Request, exc: RequestValidationError) -> list[FieldError]:
    """Each error of `exc` at its field; an error about the whole body says where, or which fields it lacks."""
    errors: list[FieldError] = []
    for error in map(dict, exc.errors()):
        if error.get("type") == "json_invalid":
            errors.append(_malformed_json(error, exc.body))
        elif tuple(error.get("loc", ())) == ("body",) and error.get("type") == "missing":
            errors += _missing_body(request)
        else:
            errors.append(_field_error_from_pydantic(error))
    return errors


def _malformed_json(error: dict[str, Any], document: Any) -> FieldError:
    """`body`, with the line and column where parsing stopped when the parser says (FastAPI gives the offset)."""
    message = str(error.get("msg", "JSON decode error"))
    loc = error.get("loc", ())
    if isinstance(document, str) and len(loc) == 2 and isinstance(loc[1], int):
        offset = loc[1]
        line = document.count("\n", 0, offset) + 1
        column = offset - (document.rfind("\n", 0, offset) + 1) + 1
        reason = str(error.get("ctx", {}).get("error", "invalid JSON"))
        message = f"malformed JSON at line {line}, column {column}: {reason}"
    return FieldError(field=BODY_FIELD, message=message, code="json_invalid", location="body")


def _missing_body(request: Request) -> list[FieldError]:
    """No body where one is required: each required field of the route's body, or `body` when it has none."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    required = []
    if isinstance(model, type) and issubclass(model, BaseModel):
        required = [field.alias or name for name, field in model.model_fields.items() if field.is_required()]
    if not required:
        return [FieldError(field=BODY_FIELD, message="a JSON body is required", code="missing", location="body")]
    return [FieldError(field=name, message="Field required", code="missing", location="body") for name in required]


def domain_error_response(request_path: str, error: DomainError) -> JSONResponse:
    """The problem document of a domain error; a 401 names the scheme to authenticate with."""
    challenge = error.challenge if isinstance(error, Unauthorized) else None
    return problem_response(
        request_path,
        error.status,
        detail=error.detail,
        slug=error.slug,
        title=error.title,
        errors=error.errors,
        headers={"WWW-Authenticate": challenge} if challenge else None,
    )


def database_unavailable_response(request_path: str) -> JSONResponse:
    """The answer while the database cannot be reached; the client tries again after `Retry-After` seconds."""
    return problem_response(
        request_path,
        503,
        detail="the database is unreachable; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_error_response(request.url.path, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _request_field_errors(request, exc)
    noun = "field is" if len(errors) == 1 else "fields are"
    return problem_response(
        request.url.path,
        422,
        detail=f"{len(errors)} {noun} invalid",
        slug="validation-error",
        title="Invalid request",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError | RecursionError):
        # Malformed JSON answered like any other: JSON is UTF-8 (RFC 8259), and nesting has a limit.
        reason = "the body is not UTF-8" if isinstance(exc.__cause__, UnicodeDecodeError) else "nested too deeply"
        invalid = {"type": "json_invalid", "loc": ("body",), "msg": f"JSON decode error: {reason}"}
        return await _validation_error(request, RequestValidationError([invalid]))
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request.url.path, exc.status_code, detail=detail, headers=headers)


async def _stale_data(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        request.url.path,
        412,
        slug="precondition-failed",
        title="Precondition failed",
        detail="the resource was changed by another request; fetch it again and retry",
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem_response(request.url.path, 500, detail="an unexpected error occurred")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given error statuses, all typed as `Problem`.

    `core.openapi` moves their content to `application/problem+json`.
    """
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}
