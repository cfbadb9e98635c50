"""Conditional GET: every successful GET under /v1 carries an ETag, and `If-None-Match` naming it answers 304.

A single resource's route sets its ETag (the tag `If-Match` is checked against, see `core.etag`);
any other answer (a list page, readiness, a report) gets the tag of its body, so a page's tag
moves when any item on it or its next cursor does. A 304 has the answer's headers but no body:
a portal polling something that has not changed gets a few hundred bytes back.

The answer is still made in full before it is compared: its tag is computed from what it shows,
and what it shows can change with the clock as well as with writes.
"""

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.etag import ETAG_HEADER, etag_of, matches

PATH_PREFIX = "/v1/"
_ETAG = b"etag"
_IF_NONE_MATCH = b"if-none-match"
_DROPPED_FROM_304 = frozenset({b"content-length", b"content-type"})
"""A 304 describes the 200 it stands for, but it has no body of its own (RFC 9110 15.4.5)."""

IF_NONE_MATCH_PARAMETER: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": (
        "ETags of representations the client has, or `*`. When one of them is still current the answer "
        'is 304 with no body (tags compared weakly: `W/"x"` matches `"x"`).'
    ),
    "schema": {"type": "string"},
    "example": '"9c1185a5c5e9fc54612808977ee8f548"',
}
REQUIRED_ETAG_HEADER = {"ETag": ETAG_HEADER["ETag"] | {"required": True}}
NOT_MODIFIED_RESPONSE: dict[str, Any] = {
    "description": "Not Modified: the representation named in `If-None-Match` is still current; no body.",
    "headers": REQUIRED_ETAG_HEADER,
}


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Conditional(send, _if_none_match(scope)))


def _if_none_match(scope: Scope) -> str | None:
    """Every `If-None-Match` field of the request as one list (RFC 9110 5.3), or None without one."""
    values = [value.decode("latin-1") for name, value in scope["headers"] if name == _IF_NONE_MATCH]
    return ", ".join(values) if values else None


class _Conditional:
    """The answer, passed on as it comes unless it is a 200 without an ETag (held until its body is tagged)
    or a 200 whose ETag `If-None-Match` names (sent as a 304, its body dropped)."""

    def __init__(self, send: Send, if_none_match: str | None) -> None:
        self.send = send
        self.if_none_match = if_none_match
        self.held: Message | None = None  # the start of an untagged 200, until its body is read
        self.body = bytearray()
        self.not_modified = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._start(message)
        elif self.held is not None:
            await self._hold(self.held, message)
        elif not self.not_modified:
            await self.send(message)
        elif not message.get("more_body", False):
            await self.send({"type": "http.response.body", "body": b""})

    async def _start(self, start: Message) -> None:
        if start["status"] != 200:
            await self.send(start)
            return
        etag = next((value for name, value in start.get("headers", ()) if name.lower() == _ETAG), None)
        if etag is None:
            self.held = start
        else:
            await self._send_start(start, etag.decode("latin-1"))

    async def _hold(self, start: Message, message: Message) -> None:
        self.body.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        self.held = None
        etag = etag_of(bytes(self.body))
        await self._send_start({**start, "headers": [*start.get("headers", ()), (_ETAG, etag.encode("latin-1"))]}, etag)
        await self.send({"type": "http.response.body", "body": b"" if self.not_modified else bytes(self.body)})

    async def _send_start(self, start: Message, etag: str) -> None:
        if self.if_none_match is not None and matches(self.if_none_match, etag):
            self.not_modified = True
            headers = [(name, value) for name, value in start["headers"] if name.lower() not in _DROPPED_FROM_304]
            start = {**start, "status": 304, "headers": headers}
        await self.send(start)


def document_conditional_get(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI side of this middleware: `If-None-Match` on every GET under /v1, its 304, and the ETag."""
    for path, path_item in schema.get("paths", {}).items():
        operation = path_item.get("get")
        if operation is None or not path.startswith(PATH_PREFIX):
            continue
        operation.setdefault("parameters", []).append(IF_NONE_MATCH_PARAMETER)
        responses = operation.setdefault("responses", {})
        ok = responses.setdefault("200", {})
        ok["headers"] = ok.get("headers", {}) | REQUIRED_ETAG_HEADER
        responses["304"] = NOT_MODIFIED_RESPONSE
    return schema
