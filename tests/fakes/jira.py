"""A fake Jira Cloud site: REST v3 issues, transitions, status categories and JQL search.

Every request is checked against `tests/contracts/jira/jira-issue-operations.extract.json`: the
operation must exist, query parameters must be declared (and well typed), basic auth must be sent,
bodies must be JSON and validate against the operation's request schema (properties marked
`readOnly` may not be sent). On top of the schema, which lets any `fields` through, the fake applies
the field rules Jira applies: ADF descriptions, summaries of at most 255 characters on one line,
labels without spaces, ISO due dates, only fields on the screen. `GET /rest/api/3/search/jql` is not
in the extract; it follows Atlassian's published shape (`searchAndReconsileIssuesUsingJql`: query
`jql`, `fields`, `maxResults`, `reconcileIssues`, ...; answer `{"issues": [...], "isLast": true}`)
and understands the JQL subset `field = value [AND ...] [ORDER BY created|key ASC|DESC]` for
`project` and `labels`.

Like Jira Cloud's, the search is eventually consistent: a new issue shows in it only `search_lag`
seconds after it was created (or once `reindex()` is called), while `GET /issue/{id}` sees it at
once, and so does a search that names its id in `reconcileIssues` (at most 50 int64 ids; an issue
named there is returned when it matches the JQL).

The workflow: "To Do" (new), "In Progress" (indeterminate) and "Done" (done), with a global
transition into each. `workflow="company"` puts a required Resolution on the Done screen;
`workflow="team"` has no screens and resolves as "Done" automatically.
"""

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from itertools import count
from typing import Any, Literal

from jsonschema import Draft4Validator, ValidationError, validators
from referencing import Registry
from referencing.jsonschema import DRAFT4
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.contracts.paths import JIRA
from tests.fakes.server import FakeTracker

SPEC: dict[str, Any] = json.loads((JIRA / "jira-issue-operations.extract.json").read_text())
_SPEC_URI = "urn:jira-issue-operations"
_REGISTRY: Registry[Any] = Registry().with_resource(_SPEC_URI, DRAFT4.create_resource(SPEC))

EMAIL = "automation@example.com"
TOKEN = "jira-api-token"
SEARCH_PARAMETERS = {
    "jql": "string",
    "nextPageToken": "string",
    "maxResults": "integer",
    "fields": "array",
    "expand": "string",
    "properties": "array",
    "fieldsByKeys": "boolean",
    "failFast": "boolean",
    "reconcileIssues": "array",
}
CATEGORIES = {
    "undefined": {"id": 1, "key": "undefined", "colorName": "medium-gray", "name": "No Category"},
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Duplicate": "10002", "Cannot Reproduce": "10003"}
ISSUE_TYPES = {"Task": "10001", "Bug": "10004", "Story": "10005"}
EDITABLE_FIELDS = frozenset({"summary", "description", "labels", "duedate"})
ADF_NODES = frozenset({"paragraph", "text", "hardBreak", "heading", "bulletList", "orderedList", "listItem"})
ADF_MARKS = frozenset({"link", "strong", "em", "code"})
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def _read_only(validator: Any, read_only: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if read_only is True:
        yield ValidationError("is read-only and may not be sent")


RequestValidator = validators.extend(Draft4Validator, {"readOnly": _read_only})


def _schema_errors(validator_class: Any, schema: Mapping[str, Any], instance: Any) -> list[str]:
    resolved = {**schema}
    if "$ref" in resolved:
        resolved["$ref"] = _SPEC_URI + resolved["$ref"]
    validator = validator_class(resolved, registry=_REGISTRY)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


OPERATIONS: dict[str, dict[str, Any]] = {
    operation["operationId"]: operation for methods in SPEC["paths"].values() for operation in methods.values()
}


def signed_webhook(
    payload: Mapping[str, Any] | bytes, secret: str, *, delivery_id: str | None = None, retry: int = 0
) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of an admin webhook delivery, signed the way Jira Cloud signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "X-Hub-Signature": f"sha256={signature}",
        "X-Atlassian-Webhook-Identifier": delivery_id or str(uuid.uuid4()),
        "X-Atlassian-Webhook-Flow": "Primary",
    }
    if retry:
        headers["X-Atlassian-Webhook-Retry"] = str(retry)
    return headers, body


class FakeJira(FakeTracker):
    def __init__(
        self,
        *,
        email: str = EMAIL,
        token: str = TOKEN,
        projects: tuple[str, ...] = ("OPS",),
        workflow: Literal["company", "team"] = "company",
    ) -> None:
        super().__init__()
        self.email = email
        self.token = token
        self.projects = {key: str(10000 + number) for number, key in enumerate(projects)}
        self.issues: dict[str, dict[str, Any]] = {}  # by id
        self.deleted: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, tuple[str, str]] = {}  # name -> (id, category key)
        self.transitions: list[dict[str, Any]] = []  # {"id", "name", "to", "screen": bool}
        self.search_lag = 0.0  # seconds before a new issue shows in JQL search; math.inf: until `reindex()`
        self._searchable_from: dict[str, float] = {}  # issue id -> time.monotonic() it shows in search
        self._ids = count(10001)
        self._numbers: dict[str, Iterator[int]] = {key: count(1) for key in projects}
        for name, category, transition_id in (("To Do", "new", "11"), ("In Progress", "indeterminate", "21")):
            self.add_status(name, category, transition_id=transition_id)
        self.add_status("Done", "done", transition_id="31", screen=workflow == "company")

    # -- set-up and inspection for tests ------------------------------------------------------------
    def add_status(self, name: str, category: str, *, transition_id: str, screen: bool = False) -> None:
        """A status with a global transition into it; `screen`: the transition asks for the resolution."""
        self.statuses[name] = (str(len(self.statuses) + 10000), category)
        self.transitions.append({"id": transition_id, "name": name, "to": name, "screen": screen})

    def issue(self, id_or_key: str) -> dict[str, Any]:
        found = self._find(id_or_key)
        if found is None:
            raise KeyError(id_or_key)
        return found

    def move(self, id_or_key: str, status: str, resolution: str | None = None) -> None:
        """What a person does in Jira: put the issue into `status`, resolved as `resolution`."""
        issue = self.issue(id_or_key)
        issue["fields"]["status"] = self._status_details(status)
        issue["fields"]["resolution"] = self._resolution(resolution) if resolution else None
        self._touch(issue)

    def delete_issue(self, id_or_key: str) -> None:
        issue = self.issue(id_or_key)
        self.deleted[issue["id"]] = self.issues.pop(issue["id"])

    def reindex(self) -> None:
        """Jira's index catches up: every issue shows in search from now on."""
        self._searchable_from.clear()

    def webhook(self, id_or_key: str, event: str = "jira:issue_updated") -> dict[str, Any]:
        """The admin webhook body Jira sends for this issue: the REST v2 shape, plain-text description."""
        issue = self._find(id_or_key) or next(
            issue for issue in self.deleted.values() if id_or_key in (issue["id"], issue["key"])
        )
        site = f"{self.base_url}/rest/api/2"
        fields = json.loads(json.dumps(issue["fields"]).replace("/rest/api/3/", "/rest/api/2/"))
        fields["description"] = _adf_text(issue["fields"]["description"])
        return {
            "timestamp": int(datetime.now(UTC).timestamp() * 1000),
            "webhookEvent": event,
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof", "active": True},
            "issue": {"id": issue["id"], "self": f"{site}/issue/{issue['id']}", "key": issue["key"], "fields": fields},
        }

    # -- routes -------------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/rest/api/3/issue", self._create, methods=["POST"]),
            Route("/rest/api/3/issue/{issueIdOrKey}", self._get, methods=["GET"]),
            Route("/rest/api/3/issue/{issueIdOrKey}", self._edit, methods=["PUT"]),
            Route("/rest/api/3/issue/{issueIdOrKey}/transitions", self._get_transitions, methods=["GET"]),
            Route("/rest/api/3/issue/{issueIdOrKey}/transitions", self._do_transition, methods=["POST"]),
            Route("/rest/api/3/statuscategory", self._status_categories, methods=["GET"]),
            Route("/rest/api/3/search/jql", self._search, methods=["GET"]),
            Route("/{path:path}", self._unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]

    async def _unknown(self, request: Request) -> Response:
        return self._reject(f"{request.method} {request.url.path} is not a Jira operation", status=404)

    async def _create(self, request: Request) -> Response:
        body, refusal = await self._check(request, "createIssue")
        if refusal:
            return refusal
        fields = body.get("fields") or {}
        refusal = self._check_fields(fields, allowed=EDITABLE_FIELDS | {"project", "issuetype"}) or self._check_update(
            body
        )
        if refusal:
            return refusal
        project = _dict(fields.get("project"))
        project_key = project.get("key") or next((k for k, v in self.projects.items() if v == project.get("id")), None)
        if project_key not in self.projects:
            return self._reject("valid project is required", field="project", violation=False)
        issue_type = _dict(fields.get("issuetype"))
        type_name = issue_type.get("name") or next(
            (n for n, i in ISSUE_TYPES.items() if i == issue_type.get("id")), None
        )
        if type_name not in ISSUE_TYPES:
            return self._reject("The issue type selected is invalid.", field="issuetype", violation=False)
        if not isinstance(fields.get("summary"), str):
            return self._reject("You must specify a summary of the issue.", field="summary")
        issue_id = str(next(self._ids))
        key = f"{project_key}-{next(self._numbers[project_key])}"
        now = _timestamp()
        self.issues[issue_id] = {
            "id": issue_id,
            "key": key,
            "fields": {
                "project": {
                    "id": self.projects[project_key],
                    "key": project_key,
                    "name": project_key,
                    "self": f"{self.base_url}/rest/api/3/project/{self.projects[project_key]}",
                },
                "issuetype": {"id": ISSUE_TYPES[type_name], "name": type_name, "subtask": False},
                "summary": fields["summary"],
                "description": fields.get("description"),
                "labels": list(fields.get("labels") or []),
                "duedate": fields.get("duedate"),
                "priority": {"id": "3", "name": "Medium"},
                "status": self._status_details("To Do"),
                "resolution": None,
                "created": now,
                "updated": now,
            },
        }
        if self.search_lag > 0:
            self._searchable_from[issue_id] = time.monotonic() + self.search_lag
        answer = {"id": issue_id, "key": key, "self": f"{self.base_url}/rest/api/3/issue/{issue_id}"}
        return self._answer("createIssue", "201", answer)

    async def _get(self, request: Request) -> Response:
        _, refusal = await self._check(request, "getIssue")
        if refusal:
            return refusal
        issue = self._find(request.path_params["issueIdOrKey"])
        if issue is None:
            return _error(NOT_FOUND, 404)
        return self._answer("getIssue", "200", self._bean(issue, request.query_params.getlist("fields") or ["*all"]))

    async def _edit(self, request: Request) -> Response:
        body, refusal = await self._check(request, "editIssue")
        if refusal:
            return refusal
        issue = self._find(request.path_params["issueIdOrKey"])
        if issue is None:
            return _error(NOT_FOUND, 404)
        fields = body.get("fields") or {}
        refusal = self._check_fields(fields, allowed=EDITABLE_FIELDS) or self._check_update(body)
        if refusal:
            return refusal
        for name, value in fields.items():
            issue["fields"][name] = list(value or []) if name == "labels" else value
        self._touch(issue)
        if request.query_params.get("returnIssue") == "true":
            return JSONResponse(self._bean(issue, ["*all"]))
        return Response(status_code=204)

    async def _get_transitions(self, request: Request) -> Response:
        _, refusal = await self._check(request, "getTransitions")
        if refusal:
            return refusal
        issue = self._find(request.path_params["issueIdOrKey"])
        if issue is None:
            return _error(NOT_FOUND, 404)
        with_fields = "transitions.fields" in request.query_params.get("expand", "")
        listed = []
        for transition in self._available(issue):
            item = {
                "id": transition["id"],
                "name": transition["name"],
                "to": self._status_details(transition["to"]),
                "hasScreen": transition["screen"],
                "isGlobal": True,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "looped": False,
            }
            if with_fields:
                item["fields"] = {"resolution": _resolution_field()} if transition["screen"] else {}
            listed.append(item)
        return self._answer("getTransitions", "200", {"expand": "transitions", "transitions": listed})

    async def _do_transition(self, request: Request) -> Response:
        body, refusal = await self._check(request, "doTransition")
        if refusal:
            return refusal
        issue = self._find(request.path_params["issueIdOrKey"])
        if issue is None:
            return _error(NOT_FOUND, 404)
        refusal = self._check_update(body)
        if refusal:
            return refusal
        wanted = _dict(body.get("transition")).get("id")
        transition = next((t for t in self._available(issue) if t["id"] == wanted), None)
        if transition is None:
            return self._reject(f"Transition id '{wanted}' is not valid for this issue.")
        fields = body.get("fields") or {}
        unknown = sorted(set(fields) - ({"resolution"} if transition["screen"] else set()))
        if unknown:
            return self._reject(
                f"Field '{unknown[0]}' cannot be set. It is not on the appropriate screen, or unknown.",
                field=unknown[0],
            )
        resolution = None
        if transition["screen"]:
            chosen = _dict(fields.get("resolution"))
            name = chosen.get("name") or next((n for n, i in RESOLUTIONS.items() if i == chosen.get("id")), None)
            if name not in RESOLUTIONS:
                return self._reject("Resolution is required.", field="resolution")
            resolution = name
        elif self.statuses[transition["to"]][1] == "done":
            resolution = "Done"
        issue["fields"]["status"] = self._status_details(transition["to"])
        issue["fields"]["resolution"] = self._resolution(resolution) if resolution else None
        self._touch(issue)
        return Response(status_code=204)

    async def _status_categories(self, request: Request) -> Response:
        _, refusal = await self._check(request, "getStatusCategories")
        if refusal:
            return refusal
        listed = [{**category, "self": self._category_self(category)} for category in CATEGORIES.values()]
        return self._answer("getStatusCategories", "200", listed)

    async def _search(self, request: Request) -> Response:
        refusal = self._check_auth(request) or self._check_query(request, SEARCH_PARAMETERS)
        if refusal:
            return refusal
        parsed = _parse_jql(request.query_params.get("jql", ""))
        if parsed is None:
            return self._reject("Error in the JQL Query: the fake understands `field = value [AND ...] [ORDER BY ...]`")
        clauses, order = parsed
        if not clauses:
            return self._reject("Unbounded JQL queries are not allowed here. Please add a search restriction.")
        reconciled = request.query_params.getlist("reconcileIssues")
        if len(reconciled) > 50 or not all(re.fullmatch(r"-?\d{1,18}", issue_id) for issue_id in reconciled):
            return self._reject("reconcileIssues takes at most 50 issue ids (int64)")
        now = time.monotonic()
        matches = [
            issue
            for issue in self.issues.values()
            if (self._searchable_from.get(issue["id"], now) <= now or issue["id"] in reconciled)
            and all(_matches(issue, field, value) for field, value in clauses)
        ]
        if order is not None:
            matches.sort(key=lambda issue: int(issue["id"]), reverse=order == "DESC")
        limit = int(request.query_params.get("maxResults", "50"))
        fields = request.query_params.getlist("fields") or ["id"]
        return JSONResponse({"issues": [self._bean(issue, fields) for issue in matches[:limit]], "isLast": True})

    # -- contract checks ----------------------------------------------------------------------------
    async def _check(self, request: Request, operation_id: str) -> tuple[dict[str, Any], Response | None]:
        operation = OPERATIONS[operation_id]
        declared = {
            p["name"]: p["schema"].get("type", "string") for p in operation.get("parameters", []) if p["in"] == "query"
        }
        refusal = self._check_auth(request) or self._check_query(request, declared)
        if refusal or "requestBody" not in operation:
            return {}, refusal
        if not request.headers.get("content-type", "").startswith("application/json"):
            return {}, self._reject(f"{operation_id}: Content-Type must be application/json", status=415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return {}, self._reject(f"{operation_id}: the body is not JSON")
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        errors = _schema_errors(RequestValidator, schema, body)
        if errors:
            return {}, self._reject(f"{operation_id}: {'; '.join(errors)}")
        return body, None

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme != "Basic" or not credentials:
            return self._reject("basic authentication (email + API token) is required", status=401)
        expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if not hmac.compare_digest(credentials, expected):
            return _error("Client must be authenticated to access this resource.", 401)
        return None

    def _check_query(self, request: Request, declared: Mapping[str, str]) -> Response | None:
        for name, value in request.query_params.multi_items():
            kind = declared.get(name)
            if kind is None:
                return self._reject(f"query parameter {name!r} is not declared for {request.url.path}")
            if kind == "boolean" and value not in ("true", "false"):
                return self._reject(f"query parameter {name!r} must be true or false")
            if kind == "integer" and not value.isdigit():
                return self._reject(f"query parameter {name!r} must be an integer")
        return None

    def _check_update(self, body: Mapping[str, Any]) -> Response | None:
        if body.get("update"):
            return self._reject("the fake implements `fields` only, not `update` operations")
        return None

    def _check_fields(self, fields: Mapping[str, Any], *, allowed: frozenset[str]) -> Response | None:
        for name, value in fields.items():
            if name not in allowed:
                return self._reject(
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown.", field=name
                )
            problem = _FIELD_RULES.get(name, lambda _: None)(value)
            if problem:
                return self._reject(problem, field=name)
        return None

    def _reject(self, message: str, *, field: str | None = None, status: int = 400, violation: bool = True) -> Response:
        if violation:
            self.violations.append(message)
        return _error(message, status, field=field)

    def _answer(self, operation_id: str, code: str, body: Any) -> Response:
        operation = OPERATIONS[operation_id]
        schema = operation["responses"][code]["content"]["application/json"]["schema"]
        errors = _schema_errors(Draft4Validator, schema, body)
        if errors:
            self.violations.append(f"the fake's own {operation_id} answer breaks the contract: {errors}")
        return JSONResponse(body, status_code=int(code))

    # -- state --------------------------------------------------------------------------------------
    def _find(self, id_or_key: str) -> dict[str, Any] | None:
        if id_or_key in self.issues:
            return self.issues[id_or_key]
        return next((issue for issue in self.issues.values() if issue["key"].lower() == id_or_key.lower()), None)

    def _available(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        current = issue["fields"]["status"]["name"]
        return [transition for transition in self.transitions if transition["to"] != current]

    def _status_details(self, name: str) -> dict[str, Any]:
        status_id, category_key = self.statuses[name]
        category = CATEGORIES[category_key]
        return {
            "self": f"{self.base_url}/rest/api/3/status/{status_id}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": name,
            "id": status_id,
            "statusCategory": {**category, "self": self._category_self(category)},
        }

    def _category_self(self, category: Mapping[str, Any]) -> str:
        return f"{self.base_url}/rest/api/3/statuscategory/{category['id']}"

    def _resolution(self, name: str) -> dict[str, Any]:
        resolution_id = RESOLUTIONS[name]
        return {"self": f"{self.base_url}/rest/api/3/resolution/{resolution_id}", "id": resolution_id, "name": name}

    def _bean(self, issue: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        wanted = {name for entry in fields for name in entry.split(",") if name}
        bean: dict[str, Any] = {"id": issue["id"]}
        if wanted == {"id"}:
            return bean
        every = bool(wanted & {"*all", "*navigable"})
        bean.update(
            expand="renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            key=issue["key"],
            self=f"{self.base_url}/rest/api/3/issue/{issue['id']}",
            fields={name: value for name, value in issue["fields"].items() if every or name in wanted},
        )
        return bean

    def _touch(self, issue: dict[str, Any]) -> None:
        issue["fields"]["updated"] = _timestamp()


# -- field rules (what Jira answers 400 to) ----------------------------------------------------------
def _summary_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "You must specify a summary of the issue."
    if len(value) > 255:
        return "Summary must be less than 255 characters."
    if "\n" in value or "\r" in value:
        return "The summary is invalid because it contains newline characters."
    return None


def _labels_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        return "labels must be an array of strings"
    for label in value:
        if not label or len(label) > 255:
            return f"The label '{label}' must be between 1 and 255 characters."
        if re.search(r"\s", label):
            return f"The label '{label}' contains spaces which is invalid."
    return None


def _duedate_problem(value: Any) -> str | None:
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return "Error parsing date string: " + str(value)
    return None if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else "Error parsing date string: " + value


def _adf_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    if set(value) - {"type", "version", "content"} or not isinstance(value.get("content"), list):
        return "an ADF doc has exactly type, version and content"
    return next(filter(None, (_adf_node_problem(node) for node in value["content"])), None)


def _adf_node_problem(node: Any) -> str | None:
    if not isinstance(node, dict) or node.get("type") not in ADF_NODES:
        return f"unknown ADF node: {node!r}"
    if set(node) - {"type", "content", "text", "marks", "attrs"}:
        return f"unexpected keys in ADF node {node['type']}"
    if node["type"] == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            return "ADF text nodes need non-empty text"
        for mark in node.get("marks", []):
            if not isinstance(mark, dict) or mark.get("type") not in ADF_MARKS:
                return f"unknown ADF mark: {mark!r}"
            if mark["type"] == "link" and not isinstance(_dict(mark.get("attrs")).get("href"), str):
                return "ADF link marks need attrs.href"
        return None
    if "text" in node or "marks" in node:
        return f"ADF {node['type']} nodes carry no text or marks"
    content = node.get("content", [])
    if not isinstance(content, list):
        return f"ADF {node['type']} content must be a list"
    return next(filter(None, (_adf_node_problem(child) for child in content)), None)


_FIELD_RULES: dict[str, Callable[[Any], str | None]] = {
    "summary": _summary_problem,
    "labels": _labels_problem,
    "duedate": _duedate_problem,
    "description": _adf_problem,
    "project": lambda value: None if isinstance(value, dict) and ({"key", "id"} & set(value)) else "project: key or id",
    "issuetype": lambda value: (
        None if isinstance(value, dict) and ({"name", "id"} & set(value)) else "issuetype: name or id"
    ),
}


# -- JQL subset -------------------------------------------------------------------------------------
_CLAUSE = re.compile(r'\s*(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[\w.:-]+)\s*', re.ASCII)
_ORDER = re.compile(r"\s*ORDER\s+BY\s+(created|key)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


def _parse_jql(jql: str) -> tuple[list[tuple[str, str]], str | None] | None:
    order = None
    ordering = _ORDER.search(jql)
    if ordering:
        order = (ordering.group(2) or "ASC").upper()
        jql = jql[: ordering.start()]
    clauses: list[tuple[str, str]] = []
    position = 0
    while position < len(jql.strip()):
        if clauses:
            joiner = re.compile(r"\s*AND\s+", re.IGNORECASE).match(jql, position)
            if not joiner:
                return None
            position = joiner.end()
        match = _CLAUSE.match(jql, position)
        if not match or match.group(1) not in ("project", "labels"):
            return None
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        clauses.append((match.group(1), value))
        position = match.end()
    return clauses, order


def _matches(issue: dict[str, Any], field: str, value: str) -> bool:
    if field == "project":
        return bool(issue["fields"]["project"]["key"] == value)
    return value in issue["fields"]["labels"]


# -- small helpers ----------------------------------------------------------------------------------
def _error(message: str, status: int, *, field: str | None = None) -> JSONResponse:
    body = {"errorMessages": [], "errors": {field: message}} if field else {"errorMessages": [message], "errors": {}}
    return JSONResponse(body, status_code=status)


def _resolution_field() -> dict[str, Any]:
    return {
        "required": True,
        "schema": {"type": "resolution", "system": "resolution"},
        "name": "Resolution",
        "key": "resolution",
        "hasDefaultValue": False,
        "operations": ["set"],
        "allowedValues": [{"id": resolution_id, "name": name} for name, resolution_id in RESOLUTIONS.items()],
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _adf_text(document: Any) -> str | None:
    """ADF as the plain text (wiki markup) the v2 API and webhooks show."""
    if not isinstance(document, dict):
        return None

    def inline(node: dict[str, Any]) -> str:
        if node["type"] == "hardBreak":
            return "\n"
        href = next((m["attrs"]["href"] for m in node.get("marks", []) if m["type"] == "link"), None)
        text = str(node.get("text", ""))
        return f"[{text}|{href}]" if href else text

    return "\n\n".join("".join(inline(child) for child in block.get("content", [])) for block in document["content"])
