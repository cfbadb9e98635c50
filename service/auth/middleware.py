"""Who is calling: every `/v1` request but the trackers' signed webhooks needs an API key.

Checked before routing, so a request without a valid key gets 401 before anything is looked up
(never a 404 that tells what exists), and routes only check the key's scope (`dependencies`).
Every answer to a key is marked `Cache-Control: private, no-cache`: it is for that key's holder
only, so no shared cache may keep it, and a client's own cache asks again before each reuse
(with `If-None-Match`, which costs a 304 when nothing changed).
"""

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import service as auth_service
from service.auth.cache import PrincipalCache
from service.auth.models import Principal
from service.core.database import UnitOfWork
from service.core.errors import Unauthorized
from service.core.problems import domain_error_response
from service.core.unit_of_work import UNIT_STATE_KEY

PRINCIPAL_STATE_KEY = "principal"
API_PREFIX = "/v1/"
WEBHOOKS_PREFIX = "/v1/webhooks/"  # signed by the tracker instead (`webhooks.router`)
SECURITY_SCHEME = "HTTPBearer"
CACHE_CONTROL = b"cache-control"
PRIVATE = (CACHE_CONTROL, b"private, no-cache")


def needs_api_key(path: str, method: str) -> bool:
    """OPTIONS asks what a resource allows; it reads nothing, and CORS preflights carry no key."""
    return path.startswith(API_PREFIX) and not path.startswith(WEBHOOKS_PREFIX) and method != "OPTIONS"


def document_api_key(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI side of this middleware: the bearer scheme, required by every operation that needs a key."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer pm_...`",
    }
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            if needs_api_key(path, method.upper()):
                operation["security"] = [{SECURITY_SCHEME: []}]
    return schema


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, *, cache: PrincipalCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_api_key(scope["path"], scope["method"]):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(scope)
        except Unauthorized as error:
            await domain_error_response(scope["path"], error)(scope, receive, send)
            return
        scope["state"][PRINCIPAL_STATE_KEY] = principal
        await self.app(scope, receive, _private(send))

    async def _principal(self, scope: Scope) -> Principal:
        key = _bearer_token(scope)
        if key is None:
            raise Unauthorized("send an API key as `Authorization: Bearer <key>`")
        key_hash = auth_service.hash_key(key)
        principal = self.cache.get(key_hash)
        if principal is None:
            unit: UnitOfWork = scope["state"][UNIT_STATE_KEY]
            principal = await auth_service.authenticate(unit, key_hash)
            self.cache.put(key_hash, principal)
        return principal


def _private(send: Send) -> Send:
    """`send`, marking the answer private unless it says how to cache it already (a new key's `no-store`)."""

    async def send_private(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            if not any(name.lower() == CACHE_CONTROL for name, _ in headers):
                message = {**message, "headers": [*headers, PRIVATE]}
        await send(message)

    return send_private


def _bearer_token(scope: Scope) -> str | None:
    """The credentials of `Authorization: Bearer <credentials>` (the scheme in any case), else None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            credentials = credentials.strip()
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None
