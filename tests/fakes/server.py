"""A fake tracker served over real HTTP on 127.0.0.1, with faults that can be injected.

Each tracker's fake subclasses `FakeTracker`, declares its routes, and checks every request
against the tracker's published contract; a request that breaks it is answered like the real
tracker would (400) and recorded in `violations`, which tests assert to be empty.
"""

import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send


@dataclass
class Fault:
    """What the next matching request gets instead of a normal answer."""

    status: int | None = None  # answer this status
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # wait this long before answering (a client timeout shorter than this sees a timeout)
    drop: bool = False  # start the response, then drop the connection
    after: bool = False  # do the real work first, then fail (the tracker acted but the caller never heard)
    hold: threading.Event | None = None  # do the real work at once, answer once this is set (the caller may be gone)
    path_contains: str = ""  # only for requests whose path contains this
    method: str = ""  # only for requests with this method


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


class _Dropped(Exception):
    pass


class FakeTracker:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0  # the most requests it was answering at once
        self.violations: list[str] = []
        self.faults: deque[Fault] = deque()
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- to implement -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------------------------
    def violation(self, message: str, status: int = 400) -> JSONResponse:
        self.violations.append(message)
        return JSONResponse({"message": message}, status_code=status)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "FakeTracker":
        app = Starlette(routes=self.routes())
        config = uvicorn.Config(
            self._with_faults(app), host="127.0.0.1", port=self.port, log_level="error", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=asyncio.run, args=(self._server.serve(),), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake tracker did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> "FakeTracker":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- fault injection -------------------------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in list(self.faults):
            if fault.path_contains in path and fault.method in ("", method):
                self.faults.remove(fault)
                return fault
        return None

    def _with_faults(self, app: Starlette) -> Any:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            request = Request(scope)
            self.requests.append(
                RecordedRequest(scope["method"], scope["path"], dict(request.headers), body, _json_or_none(body))
            )

            async def replay() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                await self._answer_or_fail(app, scope, replay, send)
            finally:
                self.in_flight -= 1

        return asgi

    async def _answer_or_fail(self, app: Starlette, scope: Scope, replay: Receive, send: Send) -> None:
        """The app's answer, or what the next matching fault says instead."""
        fault = self._take_fault(scope["method"], scope["path"])
        if fault is None:
            await app(scope, replay, send)
            return
        if fault.hold is not None:
            answer: list[Message] = []

            async def keep(message: Message) -> None:
                answer.append(message)

            await app(scope, replay, keep)
            await asyncio.to_thread(fault.hold.wait, 60)
            for message in answer:
                await send(message)
            return
        if fault.after:
            await app(scope, replay, _discard)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
            raise _Dropped("connection dropped by fault injection")
        if fault.status is not None:
            response = Response(
                b'{"message": "injected fault"}',
                status_code=fault.status,
                headers=fault.headers,
                media_type="application/json",
            )
            await response(scope, replay, send)
            return
        if not fault.after:
            await app(scope, replay, send)


async def _discard(_: Any) -> None:
    return None


def _json_or_none(body: bytes) -> Any:
    import json

    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
