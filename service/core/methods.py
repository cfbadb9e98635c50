"""The methods each resource supports: `OPTIONS` lists them, `HEAD` is a `GET` without its body, and any
other method answers 405 naming them all.

Routing alone cannot say this: it matches a path and a method together, one route per method, so a
method a resource lacks ends in whichever route has the path (its `Allow` names that route's method
only) or, where a template also fits, in the wrong route (`PATCH /v1/postmortems/import` would read
"import" as a postmortem id). Paths are matched as OpenAPI matches them: a concrete path before a
templated one. Paths no resource has go on to routing, which answers 404.
"""

import re
from collections.abc import Iterable, Mapping

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.problems import problem_response

_PARAMETER = re.compile(r"\{[^}/]+\}")


class Resources:
    """Path templates and their methods, matched by one compiled alternation, concrete templates first."""

    def __init__(self, methods_by_template: Mapping[str, Iterable[str]]) -> None:
        templates = sorted(methods_by_template, key=lambda template: len(_PARAMETER.findall(template)))
        self._methods = [_with_implicit(methods_by_template[template]) for template in templates]
        self._allow = [", ".join(sorted(methods)) for methods in self._methods]
        alternatives = (f"(?P<r{index}>{_pattern(template)})" for index, template in enumerate(templates))
        self._matcher = re.compile("|".join(alternatives))

    def find(self, path: str) -> int | None:
        """The index of the resource at `path`, or None when there is none."""
        match = self._matcher.fullmatch(path)
        if match is None or match.lastgroup is None:
            return None
        return int(match.lastgroup[1:])

    def supports(self, resource: int, method: str) -> bool:
        return method in self._methods[resource]

    def allow(self, resource: int) -> str:
        return self._allow[resource]


def _with_implicit(methods: Iterable[str]) -> frozenset[str]:
    explicit = frozenset(methods)
    return explicit | {"OPTIONS"} | ({"HEAD"} if "GET" in explicit else set())


def _pattern(template: str) -> str:
    parts = _PARAMETER.split(template)
    return "[^/]+".join(re.escape(part) for part in parts)


class AllowedMethodsMiddleware:
    def __init__(self, app: ASGIApp, *, resources: Resources) -> None:
        self.app = app
        self.resources = resources

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        resource = self.resources.find(scope["path"])
        method = scope["method"]
        if resource is None or (method not in _IMPLICIT and self.resources.supports(resource, method)):
            await self.app(scope, receive, send)
            return
        allow = self.resources.allow(resource)
        if method == "HEAD" and self.resources.supports(resource, method):
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        elif method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
        else:
            await problem_response(
                scope["path"],
                405,
                detail=f"{method} is not a method of this resource; it supports {allow}",
                headers={"Allow": allow},
            )(scope, receive, send)


_IMPLICIT = frozenset({"HEAD", "OPTIONS"})
"""Methods every resource has (HEAD where it has GET) that no route declares."""


def _without_body(send: Send) -> Send:
    """The answer to a HEAD: a GET's status and headers (its Content-Length included), with an empty body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
        await send(message)

    return send_head
