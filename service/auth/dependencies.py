from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth import service as auth_service
from service.auth.cache import PrincipalCache
from service.auth.models import Principal, Scope
from service.core.errors import Forbidden, Unauthorized
from service.dependencies import UnitDep

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pm_...`")


async def get_principal_cache(request: Request) -> PrincipalCache:
    cache: PrincipalCache = request.app.state.principal_cache
    return cache


PrincipalCacheDep = Annotated[PrincipalCache, Depends(get_principal_cache)]


async def authenticate(
    unit: UnitDep,
    cache: PrincipalCacheDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The calling key.

    `service.api` runs this before any other dependency of a `/v1` route, so a request without a valid
    key gets 401 before anything is looked up (never a 404 that tells what exists).
    """
    if credentials is None:
        raise Unauthorized("send an API key as `Authorization: Bearer <key>`")
    key_hash = auth_service.hash_key(credentials.credentials)
    principal = cache.get(key_hash)
    if principal is None:
        principal = await auth_service.authenticate(unit, key_hash)
        cache.put(key_hash, principal)
    return principal


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def authorize(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.scope.includes(scope):
            raise Forbidden(f"this operation needs the {scope.value!r} scope; the key has {principal.scope.value!r}")
        return principal

    return authorize


ReadAccess = Annotated[Principal, Depends(require(Scope.READ))]
WriteAccess = Annotated[Principal, Depends(require(Scope.WRITE))]
AdminAccess = Annotated[Principal, Depends(require(Scope.ADMIN))]
