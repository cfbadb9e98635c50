"""One unit of work per API request; a write's transaction is committed before the response leaves.

A write's response is held back until its transaction commits: a client never sees a success
for work that was not saved, and never a half-written record after an error (any response
with status >= 400 rolls back). POSTs with an Idempotency-Key are recorded in the same
transaction, so the work and its replayable answer are committed together. Reads have nothing
to commit, so their responses go out as they are made.

While the database cannot be reached, every request answers 503 with `Retry-After`; the
connection to the client stays open for its next request.
"""

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core import idempotency
from service.core.database import Database, UnitOfWork
from service.core.errors import DomainError
from service.core.problems import database_unavailable_response, domain_error_response
from service.db import DatabaseUnavailable

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNIT_STATE_KEY = "unit"


class _BufferedResponse:
    """Collects the response the app sends, to send it once the transaction is settled."""

    def __init__(self) -> None:
        self.status_code = 500
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status_code = message["status"]
            self.raw_headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))

    def forbids_storing(self) -> bool:
        """`Cache-Control: no-store` marks an answer holding a secret (a new API key): never kept for replay."""
        return any(
            name.lower() == b"cache-control" and b"no-store" in value.lower() for name, value in self.raw_headers
        )

    def stored(self) -> idempotency.StoredResponse:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.raw_headers}
        return idempotency.StoredResponse(self.status_code, headers, bytes(self.body))

    async def send_to(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": bytes(self.body)})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _send_stored(response: idempotency.StoredResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"idempotent-replayed", b"true"))
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, *, database: Database, path_prefix: str = "/v1/") -> None:
        self.app = app
        self.database = database
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        write = scope["method"] not in READ_METHODS
        try:
            async with self.database.unit(write=write) as unit:
                scope.setdefault("state", {})[UNIT_STATE_KEY] = unit
                if write:
                    await self._write(unit, scope, receive, send)
                else:
                    await self.app(scope, receive, send)
        except DatabaseUnavailable:
            # Nothing was sent: an answer goes out after the statements it answers, and closing a unit never fails.
            await database_unavailable_response(scope["path"])(scope, receive, send)

    async def _write(self, unit: UnitOfWork, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        # Keys are scoped to the caller's credential; requests without one (signed webhooks) take none.
        authenticated = "authorization" in headers
        key = headers.get(idempotency.HEADER) if scope["method"] == "POST" and authenticated else None
        if key is None:
            await self._run(unit, scope, receive, send)
            return
        try:
            idempotency.validate_key(key)
        except DomainError as error:
            await self._send_problem(scope, receive, send, error)
            return
        body = await _read_body(receive)
        request = idempotency.Request(
            credential=idempotency.credential_hash(headers.get("authorization", "")),
            key=key,
            fingerprint=idempotency.fingerprint(scope["method"], scope["path"], scope["query_string"], body),
        )
        await self._run(unit, scope, _replay_receive(body), send, request)

    async def _run(
        self,
        unit: UnitOfWork,
        scope: Scope,
        receive: Receive,
        send: Send,
        idempotent_request: idempotency.Request | None = None,
    ) -> None:
        if idempotent_request is not None:
            try:
                stored = await idempotency.find(unit, idempotent_request)
            except DomainError as error:
                await self._send_problem(scope, receive, send, error)
                return
            if stored is not None:
                await _send_stored(stored, send)
                return
        response = _BufferedResponse()
        await self.app(scope, receive, response)
        if response.status_code >= 400:
            await unit.rollback()
            await response.send_to(send)
            return
        remembered = (
            idempotent_request is None
            or response.forbids_storing()
            or await idempotency.remember(unit, idempotent_request, response.stored())
        )
        if not remembered:  # a concurrent request with the same key committed first: answer what it answered
            assert idempotent_request is not None
            await unit.rollback()
            await self._replay_winner(unit, scope, receive, send, idempotent_request)
            return
        await unit.commit()
        await response.send_to(send)

    async def _replay_winner(
        self, unit: UnitOfWork, scope: Scope, receive: Receive, send: Send, request: idempotency.Request
    ) -> None:
        try:
            stored = await idempotency.find(unit, request)
        except DomainError as error:  # it committed a different request under the same key
            await self._send_problem(scope, receive, send, error)
            return
        if stored is None:
            raise RuntimeError("an idempotency record conflicted with one that cannot be found")
        await _send_stored(stored, send)

    @staticmethod
    async def _send_problem(scope: Scope, receive: Receive, send: Send, error: DomainError) -> None:
        await domain_error_response(scope["path"], error)(scope, receive, send)
