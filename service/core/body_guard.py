"""Admit request bodies: JSON only (415 otherwise) and no larger than the limit (413).

Routes that read another media type (the Markdown import) are listed in `text_bodies`: they take
that type, and JSON. Paths matching a pattern of `also_accepted` (the timeline import, whose
CSV source is text/csv) take that type beside JSON too.
"""

import re
from collections.abc import Mapping, Sequence

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.problems import problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class _BodyTooLarge(HTTPException):
    """An HTTPException, so that a route reading the body answers 413 rather than its generic 400."""

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(413, detail=f"request bodies are limited to {max_body_bytes} bytes")


class BodyGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        raw_body_prefix: str = "/v1/webhooks/",
        text_bodies: Mapping[str, str] | None = None,
        also_accepted: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.raw_body_prefix = raw_body_prefix
        self.text_bodies = dict(text_bodies or {})  # path -> the media type it takes besides JSON
        self.also_accepted = [(re.compile(pattern), media_type) for pattern, media_type in also_accepted]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        declared_length = headers.get("content-length", "")
        if declared_length.isdigit() and int(declared_length) > self.max_body_bytes:
            await self._too_large(path)(scope, receive, send)
            return
        has_body = (declared_length.isdigit() and int(declared_length) > 0) or ("transfer-encoding" in headers)
        signed_raw_body = path.startswith(self.raw_body_prefix)  # verified as bytes before anything is parsed
        content_type = headers.get("content-type", "")
        if (text_type := self.text_bodies.get(path)) is not None:
            expected = f"{text_type} or application/json"
            accepted = content_type.split(";", 1)[0].strip().lower() == text_type or is_json_media_type(content_type)
        else:
            others = [media_type for pattern, media_type in self.also_accepted if pattern.fullmatch(path)]
            expected = ", ".join(["application/json", *others])
            accepted = (
                signed_raw_body
                or is_json_media_type(content_type)
                or content_type.split(";", 1)[0].strip().lower() in others
            )
        if has_body and not accepted:
            response = problem_response(
                path,
                415,
                detail=f"request bodies must be {expected}",
                errors=[],
                headers={"Accept": expected.replace(" or ", ", ")},
            )
            await response(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._too_large(path)(scope, receive, send)

    def _too_large(self, path: str) -> JSONResponse:
        return problem_response(path, 413, detail=f"request bodies are limited to {self.max_body_bytes} bytes")
