"""Small helpers for routers: settings, ETag headers and response declarations."""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel

from service.core.etag import ETAG_HEADER, etag_for, etag_of
from service.core.problems import problem_responses
from service.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None, etag: bool = False
) -> Response:
    """The model serialized once, as the answer: FastAPI would validate it against the route's model first.

    For hot routes; their `response_model` still documents the answer. With `etag`, the answer
    carries the tag of these very bytes (a single resource: see `core.etag`).
    """
    body = model.__pydantic_serializer__.to_json(model)
    headers = {**(headers or {}), "ETag": etag_of(body)} if etag else headers
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def set_etag(response: Response, representation: BaseModel) -> None:
    response.headers["ETag"] = etag_for(representation)


def set_created(
    response: Response, location: str, representation: BaseModel, shown_as: type[BaseModel] | None = None
) -> None:
    response.headers.update({"Location": location, "ETag": etag_for(representation, shown_as)})


CREATED_HEADERS = ETAG_HEADER | {
    "Location": {"description": "URL path of the new resource.", "schema": {"type": "string"}}
}


def responses(*error_statuses: int, created: bool = False, etag: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: its success headers and its problem responses."""
    declared: dict[int | str, dict[str, Any]] = {}
    if created:
        declared[201] = {"headers": CREATED_HEADERS}
    elif etag:
        declared[200] = {"headers": ETAG_HEADER}
    return declared | problem_responses(*error_statuses)
