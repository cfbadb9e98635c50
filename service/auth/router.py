import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.auth import service as auth_service
from service.auth.cache import PrincipalCache
from service.auth.dependencies import AdminAccess
from service.auth.models import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from service.core.http import responses
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post("", status_code=201, summary="Create an API key", responses=responses(401, 403, 413, 415, 422))
async def create(_: AdminAccess, key_in: ApiKeyCreate, session: SessionDep, response: Response) -> ApiKeyCreated:
    """Create a key; the response is the only time the key itself is shown."""
    api_key, plaintext = await auth_service.create(session, name=key_in.name, scope=key_in.scope)
    response.headers["Location"] = f"/v1/api-keys/{api_key.id}"
    response.headers["Cache-Control"] = "no-store"  # the key is in the body: never cached, never kept for replay
    return ApiKeyCreated.model_validate(ApiKeyRead.model_validate(api_key).model_dump() | {"key": plaintext})


@router.get("", name="list", summary="List API keys", responses=responses(401, 403, 422))
async def list_keys(_: AdminAccess, page: Annotated[PageParams, Query()], session: SessionDep) -> Page[ApiKeyRead]:
    """Every key, including revoked ones; the keys themselves are never shown."""
    keys, next_cursor = await auth_service.list_page(session, page)
    return Page(items=[ApiKeyRead.model_validate(key) for key in keys], next_cursor=next_cursor)


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key", responses=responses(401, 403, 404, 422))
async def revoke(
    _: AdminAccess,
    key_id: Annotated[uuid.UUID, Path(description="The key's id.")],
    session: SessionDep,
    request: Request,
) -> None:
    """Revoke a key; requests made with it are refused from now on."""
    await auth_service.revoke(session, key_id)
    cache: PrincipalCache = request.app.state.principal_cache
    cache.clear()
