"""Per request: its id (`X-Request-ID`), its metrics, and a log line when asked for or when it failed."""

import logging
import re
import time
import uuid
from collections.abc import Mapping

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.observability import logs
from service.observability.metrics import Metrics

HEADER = b"x-request-id"
_ACCEPTED_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
"""The route label of a request answered before routing (no key: 401) or that matched no route (404)."""

logger = logging.getLogger("postmortems.requests")


def _request_id(scope: Scope) -> str:
    """The caller's id when it is a sane token (it ends up in logs), else a new one."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if _ACCEPTED_ID.fullmatch(value):
                given: bytes = value
                return given.decode("ascii")
            break
    return uuid.uuid4().hex


class RequestObservabilityMiddleware:
    """Outermost: it times the whole response and sees every status, the other middlewares' included.

    `templates` maps the id of each route to its path template with the prefix it was mounted under
    (a route knows only its own path); metrics are labelled by template, never by the raw path.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics, templates: Mapping[int, str], access_log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates
        self.access_log = access_log
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        header = (HEADER, request_id.encode("ascii"))
        token = logs.request_id.set(request_id)
        status = 500  # what the server answers when the app fails before it starts a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            logs.request_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = self.templates.get(id(route), UNMATCHED) if route is not None else UNMATCHED
        method = scope["method"] if scope["method"] in METHODS else "other"  # clients may send any token
        labels = (template, method, status)
        if (children := self._children.get(labels)) is None:  # a few hundred at most: label values are bounded
            named = (template, method, str(status))
            children = self._children[labels] = (
                self.metrics.http_requests.labels(*named),
                self.metrics.http_latency.labels(*named),
            )
        requests, latency = children
        requests.inc()
        latency.observe(seconds)
        if self.access_log or status >= 500:
            logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %d",
                method,
                template,
                status,
                extra={"method": method, "route": template, "status": status, "duration_ms": round(seconds * 1000, 2)},
            )
