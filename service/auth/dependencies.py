"""The scope each route needs, checked against the key `AuthenticationMiddleware` found."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from service.auth.middleware import PRINCIPAL_STATE_KEY
from service.auth.models import Principal, Scope
from service.core.errors import Forbidden


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def authorize(request: Request) -> Principal:
        principal: Principal = getattr(request.state, PRINCIPAL_STATE_KEY)
        if not principal.scope.includes(scope):
            raise Forbidden(f"this operation needs the {scope.value!r} scope; the key has {principal.scope.value!r}")
        return principal

    return authorize


ReadAccess = Annotated[Principal, Depends(require(Scope.READ))]
WriteAccess = Annotated[Principal, Depends(require(Scope.WRITE))]
AdminAccess = Annotated[Principal, Depends(require(Scope.ADMIN))]
