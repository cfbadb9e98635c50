"""A stateful fake of GitHub's REST API for issues, and GitHub's way of signing webhook deliveries.

Every request is checked against the published contract in tests/contracts/github: the headers
GitHub requires (`Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`, a
Bearer token, a User-Agent), the path and method, and request bodies validated against the
operation's schema from `github-issues-operations.extract.json` (OpenAPI 3.0, converted to JSON
Schema). The two read operations that extract does not carry, `issues/list-for-repo` and
`search/issues-and-pull-requests`, are checked against their query parameters as published in the
same description (`api.github.com.2022-11-28.json`). Answers are issues shaped like the `issue`
schema, and webhook payloads are built from the octokit examples and validated against their schemas.

Like GitHub, the search index lags behind: a new issue is found by `GET /search/issues` only after
`reindex()`, while the issues list shows it at once.
"""

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import shlex
import threading
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.contracts.paths import GITHUB
from tests.fakes.server import FakeTracker

API_VERSION = "2022-11-28"
MEDIA_TYPE = "application/vnd.github+json"
TOKEN = "ghp_fake"
REST_CONTRACT = GITHUB / "github-issues-operations.extract.json"
WEBHOOK_EXAMPLES = GITHUB / "octokit-webhooks" / "payload-examples" / "api.github.com"
WEBHOOK_SCHEMAS = GITHUB / "octokit-webhooks" / "payload-schemas" / "api.github.com"
_ROOT = "urn:github-rest-api"
_ISSUES = "/paths/~1repos~1{owner}~1{repo}~1issues"
_ISSUE = "/paths/~1repos~1{owner}~1{repo}~1issues~1{issue_number}"
_BODY = "requestBody/content/application~1json/schema"
CREATE_BODY = f"{_ISSUES}/post/{_BODY}"
UPDATE_BODY = f"{_ISSUE}/patch/{_BODY}"
ISSUE_SCHEMA = "/components/schemas/issue"

_PAGE = {"type": "integer", "minimum": 1}
_PER_PAGE = {"type": "integer", "minimum": 1, "maximum": 100}
_TEXT = {"type": "string"}
LIST_PARAMETERS: dict[str, dict[str, Any]] = {
    "milestone": _TEXT,
    "state": {"enum": ["open", "closed", "all"]},
    "assignee": _TEXT,
    "type": _TEXT,
    "creator": _TEXT,
    "mentioned": _TEXT,
    "labels": _TEXT,
    "sort": {"enum": ["created", "updated", "comments"]},
    "direction": {"enum": ["asc", "desc"]},
    "since": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T"},
    "per_page": _PER_PAGE,
    "page": _PAGE,
}
SEARCH_PARAMETERS: dict[str, dict[str, Any]] = {
    "q": _TEXT,
    "sort": {
        "enum": [
            "comments",
            "reactions",
            "reactions-+1",
            "reactions--1",
            "reactions-smile",
            "reactions-thinking_face",
            "reactions-heart",
            "reactions-tada",
            "interactions",
            "created",
            "updated",
        ]
    },
    "order": {"enum": ["desc", "asc"]},
    "per_page": _PER_PAGE,
    "page": _PAGE,
    "advanced_search": _TEXT,
}


# -- contracts ------------------------------------------------------------------------------------
def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 marks nullable schemas with `nullable: true`; JSON Schema spells it as a null type."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _openapi_to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _rest_registry() -> Registry:
    document = _openapi_to_json_schema(json.loads(REST_CONTRACT.read_text()))
    return Registry().with_resource(_ROOT, DRAFT202012.create_resource(document))


def rest_validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` (a JSON pointer) in the REST contract."""
    return Draft202012Validator({"$ref": f"{_ROOT}#{pointer}"}, registry=_rest_registry())


def _schema_without_id(path: Path) -> dict[str, Any]:
    """octokit's files carry relative `$id`s that do not match their `$ref`s, which all name a file
    by its place under the schema root (`common/user.schema.json`, or `user.schema.json` from inside
    `common/`); they are ignored and every reference is found by file name in `common/`."""
    schema: dict[str, Any] = json.loads(path.read_text())
    schema.pop("$id", None)
    return schema


@cache
def _webhook_registry() -> Registry:
    def retrieve(uri: str) -> Resource:
        return DRAFT7.create_resource(_schema_without_id(WEBHOOK_SCHEMAS / "common" / uri.rsplit("/", 1)[-1]))

    return Registry(retrieve=retrieve)


def webhook_schema_errors(event: str, payload: dict[str, Any]) -> list[str]:
    """Why `payload` is not a valid `event` delivery per the octokit schemas (empty when it is)."""
    name = "event" if event == "ping" else str(payload.get("action"))
    schema = _schema_without_id(WEBHOOK_SCHEMAS / event / f"{name}.schema.json")
    validator = Draft7Validator(schema, registry=_webhook_registry())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(payload)]


def example_payloads(event: str) -> list[Path]:
    return sorted((WEBHOOK_EXAMPLES / event).glob("*.json"))


# -- webhooks -------------------------------------------------------------------------------------
def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_delivery(
    payload: dict[str, Any] | bytes, secret: str, *, event: str = "issues", delivery_id: str | None = None
) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of a delivery the way GitHub sends it: the HMAC-SHA256 of the exact
    body bytes with the webhook's secret, hex, prefixed `sha256=` (and the legacy SHA-1 header)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, indent=2).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/5d8c3b1",
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Event": event,
        "X-GitHub-Hook-ID": "109948940",
        "X-GitHub-Hook-Installation-Target-ID": "186853002",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": signature(body, secret),
    }
    return headers, body


# -- the fake -------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub(FakeTracker):
    """One repository, `owner/repo`, reachable with `token`."""

    def __init__(self, owner: str = "acme", repo: str = "incident-followups", token: str = TOKEN) -> None:
        super().__init__()
        self.owner, self.repo, self.token = owner, repo, token
        self.issues: dict[int, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.deleted: set[int] = set()
        self.transferred: dict[int, dict[str, Any]] = {}
        self.indexed: set[int] = set()
        self.queries: list[tuple[str, dict[str, str]]] = []  # (path, query parameters) of every read
        self._ids = itertools.count(1_000_001)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def reset(self) -> None:
        for collection in (self.issues, self.labels, self.transferred):
            collection.clear()
        for numbers in (self.deleted, self.indexed):
            numbers.clear()
        self.queries.clear()
        self.requests.clear()
        self.violations.clear()
        self.faults.clear()

    def routes(self) -> list[Route]:
        return [
            Route("/repos/{owner}/{repo}/issues", self._list_issues, methods=["GET"]),
            Route("/repos/{owner}/{repo}/issues", self._create_issue, methods=["POST"]),
            Route("/repos/{owner}/{repo}/issues/{number}", self._get_issue, methods=["GET"]),
            Route("/repos/{owner}/{repo}/issues/{number}", self._update_issue, methods=["PATCH"]),
            Route("/repositories/{repository_id:int}/issues/{number:int}", self._moved_issue, methods=["GET"]),
            Route("/search/issues", self._search, methods=["GET"]),
            Route("/{path:path}", self._unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]

    # -- state the tests arrange ------------------------------------------------------------------
    def seed_issue(
        self,
        title: str = "Seeded issue",
        body: str = "",
        *,
        state: str = "open",
        state_reason: str | None = None,
        labels: tuple[str, ...] = (),
        pull_request: bool = False,
        indexed: bool = True,
    ) -> dict[str, Any]:
        issue = self._new_issue(title, body, list(labels))
        issue.update(state=state, state_reason=state_reason, closed_at=_now() if state == "closed" else None)
        if pull_request:
            url = f"{self.base_url}/repos/{self.full_name}/pulls/{issue['number']}"
            issue["pull_request"] = {"url": url, "html_url": issue["html_url"], "diff_url": None, "patch_url": None}
        if indexed:
            self.indexed.add(issue["number"])
        return issue

    def reindex(self) -> None:
        self.indexed.update(self.issues)

    def delete_issue(self, number: int) -> None:
        self.issues.pop(number)
        self.deleted.add(number)

    def transfer_issue(self, number: int, to: str = "acme/elsewhere") -> None:
        """Move the issue away: the old address answers 301 to the issue's place in the other repository."""
        issue = self.issues.pop(number)
        issue["repository_url"] = f"{self.base_url}/repos/{to}"
        issue["html_url"] = f"https://github.com/{to}/issues/{issue['number']}"
        self.transferred[number] = issue

    def edit_on_github(self, number: int, **changes: Any) -> dict[str, Any]:
        """A person changes the issue on GitHub (state, state_reason, labels by name, title)."""
        issue = self.issues[number]
        if "labels" in changes:
            changes["labels"] = [self._label(name) for name in changes["labels"]]
        if changes.get("state") == "closed":
            changes.setdefault("closed_at", issue["closed_at"] or _now())
        elif changes.get("state") == "open":
            changes.setdefault("closed_at", None)
        issue.update(changes, updated_at=_now())
        return issue

    def label_names(self, number: int) -> list[str]:
        return [label["name"] for label in self.issues[number]["labels"]]

    def issue_delivery(self, number: int, action: str, secret: str) -> tuple[dict[str, str], bytes]:
        """A signed `issues` delivery for one of our issues after `action`, shaped like GitHub's."""
        return signed_delivery(self.issue_payload(number, action), secret)

    def issue_payload(self, number: int, action: str) -> dict[str, Any]:
        template = "reopened" if action == "closed" else action  # octokit has no `closed` example
        payload: dict[str, Any] = json.loads((WEBHOOK_EXAMPLES / "issues" / f"{template}.payload.json").read_text())
        payload["action"] = action
        issue = self.issues.get(number) or self.transferred.get(number) or {"number": number}
        fields = ("url", "repository_url", "labels_url", "comments_url", "events_url", "html_url", "id", "node_id")
        payload["issue"].update({field: issue[field] for field in fields if field in issue})
        payload["issue"].update(
            number=number,
            title=issue.get("title", payload["issue"]["title"]),
            body=issue.get("body", payload["issue"]["body"]),
            labels=issue.get("labels", payload["issue"].get("labels", [])),
            state=issue.get("state", "closed" if action == "deleted" else "open"),
            state_reason=issue.get("state_reason"),
            closed_at=issue.get("closed_at"),
        )
        repository = payload["repository"]
        repository.update(name=self.repo, full_name=self.full_name)
        repository["owner"]["login"] = self.owner
        errors = webhook_schema_errors("issues", payload)
        if errors:
            raise ValueError(f"the fake built an invalid {action} delivery: {errors}")
        return payload

    # -- contract checks ------------------------------------------------------------------------------
    def _check_headers(self, request: Request) -> Response | None:
        headers = request.headers
        authorization = headers.get("authorization")
        if authorization is None:
            return self.violation("Requires authentication: no Authorization header", status=401)
        if not authorization.startswith("Bearer "):
            return self.violation(f"Authorization must be a Bearer token, got {authorization.split(' ')[0]!r}", 401)
        if headers.get("accept") != MEDIA_TYPE:
            return self.violation(f"Accept must be {MEDIA_TYPE}, got {headers.get('accept')!r}", status=415)
        if headers.get("x-github-api-version") != API_VERSION:
            return self.violation(
                f"X-GitHub-Api-Version must be {API_VERSION}, got {headers.get('x-github-api-version')!r}"
            )
        if not headers.get("user-agent"):
            return self.violation("Request forbidden by administrative rules: a User-Agent is required", status=403)
        if authorization != f"Bearer {self.token}":
            return _message("Bad credentials", 401)
        return None

    def _check_repository(self, request: Request) -> Response | None:
        owner, repo = request.path_params["owner"], request.path_params["repo"]
        if f"{owner}/{repo}".lower() != self.full_name.lower():
            return _message("Not Found", 404)
        return None

    def _check_query(self, request: Request, parameters: dict[str, dict[str, Any]]) -> Response | None:
        self.queries.append((request.url.path, dict(request.query_params)))
        for name, value in request.query_params.multi_items():
            schema = parameters.get(name)
            if schema is None:
                return self.violation(f"{request.url.path}: unknown query parameter {name!r}", status=422)
            instance: Any = value
            if schema.get("type") == "integer":
                if not value.isdigit():
                    return self.violation(f"{request.url.path}: {name}={value!r} is not an integer", status=422)
                instance = int(value)
            errors = [error.message for error in Draft202012Validator(schema).iter_errors(instance)]
            if errors:
                return self.violation(f"{request.url.path}: {name}={value!r}: {errors}", status=422)
        return None

    async def _json_body(self, request: Request, pointer: str, *, required: bool) -> Any:
        raw = await request.body()
        if not raw and not required:
            return {}
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return self.violation(f"{request.method} {request.url.path}: body must be application/json", status=415)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.violation(f"{request.method} {request.url.path}: body is not JSON ({raw[:80]!r})")
        errors = [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in rest_validator(pointer).iter_errors(body)
        ]
        if errors:
            return self.violation(f"{request.method} {request.url.path}: Validation Failed: {errors}", status=422)
        return body

    # -- routes ---------------------------------------------------------------------------------------
    async def _unknown(self, request: Request) -> Response:
        return self.violation(f"{request.method} {request.url.path} is not an operation of the contract", 404)

    async def _create_issue(self, request: Request) -> Response:
        refused = self._check_headers(request) or self._check_repository(request)
        if refused:
            return refused
        body = await self._json_body(request, CREATE_BODY, required=True)
        if isinstance(body, Response):
            return body
        invalid = _invalid_labels(body.get("labels", []))
        if invalid:
            return _message(f"Validation Failed: {invalid}", 422)
        issue = self._new_issue(str(body["title"]), body.get("body") or "", _names(body.get("labels", [])))
        return JSONResponse(issue, status_code=201, headers={"Location": issue["url"], **_rate_limit("core")})

    async def _list_issues(self, request: Request) -> Response:
        refused = (
            self._check_headers(request)
            or self._check_repository(request)
            or self._check_query(request, LIST_PARAMETERS)
        )
        if refused:
            return refused
        query = request.query_params
        state = query.get("state", "open")
        issues = [issue for issue in self.issues.values() if state in ("all", issue["state"])]
        if query.get("labels"):
            wanted = {name.strip().lower() for name in query["labels"].split(",")}
            issues = [issue for issue in issues if wanted <= {label["name"].lower() for label in issue["labels"]}]
        sort = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[query.get("sort", "created")]
        issues.sort(key=lambda issue: (issue[sort], issue["number"]), reverse=query.get("direction", "desc") == "desc")
        per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
        chunk = issues[(page - 1) * per_page : page * per_page]
        headers = _rate_limit("core")
        if page * per_page < len(issues):
            next_url = request.url.include_query_params(page=page + 1)
            headers["Link"] = f'<{next_url}>; rel="next"'
        return JSONResponse(chunk, headers=headers)

    async def _get_issue(self, request: Request) -> Response:
        refused = self._check_headers(request) or self._check_repository(request)
        if refused:
            return refused
        return self._issue_or_error(request.path_params["number"])

    async def _moved_issue(self, request: Request) -> Response:
        refused = self._check_headers(request)
        if refused:
            return refused
        issue = self.transferred.get(request.path_params["number"])
        return JSONResponse(issue, headers=_rate_limit("core")) if issue else _message("Not Found", 404)

    async def _update_issue(self, request: Request) -> Response:
        refused = self._check_headers(request) or self._check_repository(request)
        if refused:
            return refused
        missing = self._issue_or_error(request.path_params["number"])
        if missing.status_code != 200:
            return missing
        body = await self._json_body(request, UPDATE_BODY, required=False)
        if isinstance(body, Response):
            return body
        invalid = _invalid_labels(body.get("labels") or [])
        if invalid:
            return _message(f"Validation Failed: {invalid}", 422)
        issue = self.issues[int(request.path_params["number"])]
        for field in ("title", "body"):
            if body.get(field) is not None:
                issue[field] = str(body[field])
        if body.get("labels") is not None:
            issue["labels"] = [self._label(name) for name in _names(body["labels"])]
        state = body.get("state")
        if state == "closed":
            issue["closed_at"] = issue["closed_at"] or _now()
            issue["state_reason"] = body.get("state_reason") or "completed"
        elif state == "open" and issue["state"] == "closed":
            issue.update(closed_at=None, state_reason="reopened")
        if state is not None:
            issue["state"] = state
        issue["updated_at"] = _now()
        return JSONResponse(issue, headers=_rate_limit("core"))

    async def _search(self, request: Request) -> Response:
        refused = self._check_headers(request) or self._check_query(request, SEARCH_PARAMETERS)
        if refused:
            return refused
        query = request.query_params.get("q")
        if not query:
            return self.violation("/search/issues: the q parameter is required", status=422)
        terms = shlex.split(query, posix=False)  # keeps the quotes, so a quoted phrase is never a qualifier
        qualifiers = [term.split(":", 1) for term in terms if re.match(r"^[a-z]+:", term)]
        words = [term.strip('"').lower() for term in terms if not re.match(r"^[a-z]+:", term)]
        kinds = {value for key, value in qualifiers if key == "is"} & {"issue", "pull-request", "pr"}
        if not kinds:
            return self.violation("/search/issues: the query must say is:issue or is:pull-request", status=422)
        repositories = {value.lower() for key, value in qualifiers if key == "repo"}
        fields = {value for key, value in qualifiers if key == "in"} or {"title", "body"}
        hits = []
        for number in sorted(self.indexed & set(self.issues)):
            issue = self.issues[number]
            if ("pull_request" in issue) != ("issue" not in kinds):
                continue
            if repositories and self.full_name.lower() not in repositories:
                continue
            text = " ".join(str(issue.get(field) or "") for field in sorted(fields)).lower()
            if all(word in text for word in words):
                hits.append({**issue, "score": 1.0})
        if request.query_params.get("order") == "desc":
            hits.reverse()
        answer = {"total_count": len(hits), "incomplete_results": False, "items": hits, "search_type": "lexical"}
        return JSONResponse(answer, headers=_rate_limit("search"))

    # -- issues ---------------------------------------------------------------------------------------
    def _issue_or_error(self, raw_number: str) -> Response:
        number = int(raw_number) if str(raw_number).isdigit() else -1
        if number in self.issues:
            return JSONResponse(self.issues[number], headers=_rate_limit("core"))
        if number in self.deleted:
            return _message("This issue was deleted", 410)
        if number in self.transferred:
            moved = self.transferred[number]
            location = f"{self.base_url}/repositories/424242/issues/{moved['number']}"
            return JSONResponse({"message": "Moved Permanently", "url": location}, 301, {"Location": location})
        return _message("Not Found", 404)

    def _label(self, name: str) -> dict[str, Any]:
        key = name.lower()
        if key not in self.labels:
            label_id = next(self._ids)
            self.labels[key] = {
                "id": label_id,
                "node_id": f"LA_kwDO{label_id}",
                "url": f"{self.base_url}/repos/{self.full_name}/labels/{name}",
                "name": name,
                "color": "ededed",
                "default": False,
                "description": None,
            }
        return self.labels[key]

    def _new_issue(self, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        number = max([*self.issues, *self.deleted, *self.transferred, 0]) + 1
        issue_id = next(self._ids)
        api = f"{self.base_url}/repos/{self.full_name}"
        now = _now()
        user = {"login": "postmortems-bot", "id": 90210, "type": "Bot"}
        issue: dict[str, Any] = {
            "id": issue_id,
            "node_id": f"I_kwDO{issue_id}",
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "events_url": f"{api}/issues/{number}/events",
            "html_url": f"https://github.com/{self.full_name}/issues/{number}",
            "timeline_url": f"{api}/issues/{number}/timeline",
            "number": number,
            "state": "open",
            "state_reason": None,
            "title": title,
            "body": body,
            "user": user,
            "labels": [self._label(name) for name in labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
            "closed_by": None,
            "author_association": "MEMBER",
        }
        self.issues[number] = issue
        return issue


def _message(message: str, status: int) -> JSONResponse:
    documentation = "https://docs.github.com/rest"
    return JSONResponse({"message": message, "documentation_url": documentation, "status": str(status)}, status)


def _rate_limit(resource: str) -> dict[str, str]:
    """The rate-limit headers GitHub puts on every answer (plenty left)."""
    reset = int(datetime.now(UTC).timestamp()) + 3600
    limit = 30 if resource == "search" else 5000
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(limit - 1),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-used": "1",
        "x-ratelimit-resource": resource,
    }


def _names(labels: list[Any]) -> list[str]:
    names: list[str] = []
    for label in labels:
        name = label.get("name") if isinstance(label, dict) else str(label)
        if name and name.lower() not in {existing.lower() for existing in names}:
            names.append(name)
    return names


def _invalid_labels(labels: list[Any]) -> list[str]:
    """GitHub refuses label names longer than 50 characters."""
    return [f"label {name!r} is too long (maximum is 50 characters)" for name in _names(labels) if len(name) > 50]


class SlowToAnswerGitHub(FakeGitHub):
    """GitHub that creates each issue at once but holds the answer until `release` is set (or it stops):
    a worker stopped meanwhile never hears that the issue exists."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    async def _create_issue(self, request: Request) -> Response:
        response = await super()._create_issue(request)
        await asyncio.to_thread(self.release.wait, 60)
        return response

    def stop(self) -> None:
        self.release.set()
        super().stop()
