"""A fake Linear: the GraphQL API at /graphql with one team, plus webhook deliveries signed like Linear's.

Every request is checked against Linear's published schema (tests/contracts/linear/schema.graphql)
with graphql-core: the document must parse and validate (deprecated fields included), and the
variables must coerce to their declared input types (`TimelessDate` must be an ISO date). The
operation is then executed by graphql-core against an in-memory workspace, so answers have exactly
the shape the query asked for, and failures look like Linear's: HTTP 200 with an `errors` array
("Entity not found: Issue", code INPUT_ERROR), 401 AUTHENTICATION_ERROR for a wrong key, and
`GraphQLFault`s for rate limits (RATELIMITED under HTTP 400) or internal errors.
"""

import functools
import hashlib
import hmac
import json
import re
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute_sync,
    get_named_type,
    get_operation_ast,
    is_enum_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    is_scalar_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.validation import NoDeprecatedCustomRule
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.contracts.paths import LINEAR
from tests.fakes.server import FakeTracker

API_KEY = "lin_api_0123456789abcdefghijklmnopqrstuvwxyz"
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE)
PRIORITY_LABELS = {0: "No priority", 1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}
SUPPORTED_ROOT_FIELDS = {"issue", "team", "issueLabels", "issueCreate", "issueUpdate", "issueLabelCreate"}


def _parse_timeless_date(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"TimelessDate must be a string, got {value!r}")
    date.fromisoformat(value)
    return value


@functools.cache
def linear_schema() -> GraphQLSchema:
    from graphql import build_schema

    schema = build_schema((LINEAR / "schema.graphql").read_text())
    timeless = schema.type_map["TimelessDate"]
    timeless.parse_value = _parse_timeless_date  # type: ignore[method-assign]
    timeless.coerce_input_value = _parse_timeless_date  # type: ignore[attr-defined]
    return schema


def document_errors(document: str) -> list[str]:
    """Why Linear would refuse this document (syntax, schema validation, deprecated fields)."""
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return [exc.message]
    return [error.message for error in validate(linear_schema(), ast, [*specified_rules, NoDeprecatedCustomRule])]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


@dataclass
class GraphQLFault:
    """The next GraphQL request (selecting `field`, if given) gets this error (after doing the work if `after`)."""

    message: str
    code: str
    type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    after: bool = False
    field: str = ""


@dataclass
class FakeState:
    id: str
    name: str
    type: str
    position: float
    color: str = "#bec2c8"


@dataclass
class FakeLabel:
    id: str
    name: str
    team_id: str | None
    is_group: bool = False
    color: str = "#5e6ad2"


@dataclass
class FakeIssue:
    id: str
    number: int
    title: str
    description: str | None
    priority: int
    due_date: str | None
    label_ids: list[str]
    state_id: str
    team_id: str
    trashed: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


class LinearError(GraphQLError):
    def __init__(
        self, message: str, *, type_: str = "invalid input", code: str = "INPUT_ERROR", hint: str = ""
    ) -> None:
        super().__init__(
            message,
            extensions={"type": type_, "code": code, "userError": True, "userPresentableMessage": hint or message},
        )


def not_found(entity: str) -> LinearError:
    return LinearError(f"Entity not found: {entity}", hint=f"Could not find referenced {entity}.")


class FakeLinear(FakeTracker):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.reset()

    def reset(self) -> None:
        """A fresh workspace and empty logs, so one running server can serve many tests."""
        self.requests.clear()
        self.violations.clear()
        self.faults.clear()
        self.organization_id = str(uuid.uuid4())
        self.webhook_id = str(uuid.uuid4())
        self.team = {"id": str(uuid.uuid4()), "key": "ENG", "name": "Engineering"}
        self.team_id = self.team["id"]
        # Listed out of position order on purpose: clients must sort by `position`.
        self.states = [
            FakeState(str(uuid.uuid4()), name, type_, position)
            for name, type_, position in (
                ("Triage", "triage", 0),
                ("Backlog", "backlog", 1),
                ("Ready", "unstarted", 2.5),
                ("Todo", "unstarted", 2),
                ("In Review", "started", 4),
                ("In Progress", "started", 3),
                ("Done", "completed", 5),
                ("Canceled", "canceled", 6),
                ("Duplicate", "duplicate", 7),
            )
        ]
        self.labels: dict[str, FakeLabel] = {}
        self.issues: dict[str, FakeIssue] = {}
        self.graphql_faults: deque[GraphQLFault] = deque()
        self.operations: list[str] = []  # root fields of every executed operation, in order

    def routes(self) -> list[Route]:
        return [
            Route("/graphql", self._graphql, methods=["POST"]),
            Route("/{path:path}", self._elsewhere, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]

    # -- workspace helpers for tests -----------------------------------------------------------
    def state_named(self, name: str) -> FakeState:
        return next(state for state in self.states if state.name == name)

    def add_state(self, name: str, type_: str, position: float) -> FakeState:
        state = FakeState(str(uuid.uuid4()), name, type_, position)
        self.states.append(state)
        return state

    def add_label(self, name: str, *, workspace: bool = False, team_id: str | None = None) -> FakeLabel:
        """A label of this team, of the workspace, or of another team (`team_id`)."""
        label = FakeLabel(str(uuid.uuid4()), name, None if workspace else team_id or self.team_id)
        self.labels[label.id] = label
        return label

    def add_issue(
        self, title: str = "Existing issue", *, state: str = "Todo", labels: tuple[str, ...] = ()
    ) -> FakeIssue:
        label_ids = [self._label_named(name).id for name in labels]
        issue = FakeIssue(
            str(uuid.uuid4()),
            self._next_number(),
            title,
            None,
            0,
            None,
            label_ids,
            self.state_named(state).id,
            self.team_id,
        )
        self.issues[issue.id] = issue
        return issue

    def label_names(self, issue: FakeIssue) -> set[str]:
        return {self.labels[label_id].name for label_id in issue.label_ids}

    def state_of(self, issue: FakeIssue) -> FakeState:
        return next(state for state in self.states if state.id == issue.state_id)

    def identifier(self, issue: FakeIssue) -> str:
        return f"{self.team['key']}-{issue.number}"

    def url(self, issue: FakeIssue) -> str:
        return f"https://linear.app/fake-org/issue/{self.identifier(issue).lower()}"

    # -- HTTP ------------------------------------------------------------------------------------
    async def _elsewhere(self, request: Request) -> JSONResponse:
        return self.violation(f"{request.method} {request.url.path}: Linear serves GraphQL at POST /graphql", 404)

    async def _graphql(self, request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization")
        if authorization is None or authorization.lower().startswith("bearer "):
            self.violations.append(f"Authorization must be the bare API key, got {authorization!r}")
            return _auth_error()
        if authorization != self.api_key:
            return _auth_error()
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return self._refuse(f"Content-Type must be application/json, got {request.headers.get('content-type')!r}")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._refuse("the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._refuse("the body must be an object with a `query` string")
        unknown = set(body) - {"query", "variables", "operationName", "extensions"}
        variables = body.get("variables") or {}
        if unknown or not isinstance(variables, dict):
            return self._refuse(f"unexpected body members {sorted(unknown)} or variables {variables!r}")
        problems = document_errors(body["query"])
        if problems:
            return self._refuse("; ".join(problems), code="GRAPHQL_VALIDATION_FAILED")
        document = parse(body["query"])
        operation = get_operation_ast(document, body.get("operationName"))
        if operation is None:
            return self._refuse(f"no operation named {body.get('operationName')!r} in the document")
        coerced = get_variable_values(linear_schema(), operation.variable_definitions, variables)
        if isinstance(coerced, list):
            return self._refuse("; ".join(error.message for error in coerced), code="GRAPHQL_VALIDATION_FAILED")
        unsupported = _root_fields(operation) - SUPPORTED_ROOT_FIELDS
        if unsupported:
            return self._refuse(f"the fake does not implement {sorted(unsupported)}")

        fault = self._take_graphql_fault(_root_fields(operation))
        if fault is not None and not fault.after:
            return _fault_response(fault)
        self.operations.extend(sorted(_root_fields(operation)))
        name = operation.name.value if operation.name else None
        result = execute_sync(linear_schema(), document, _Root(self), variable_values=variables, operation_name=name)
        if fault is not None:
            return _fault_response(fault)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(answer)

    def _take_graphql_fault(self, root_fields: set[str]) -> GraphQLFault | None:
        for fault in list(self.graphql_faults):
            if not fault.field or fault.field in root_fields:
                self.graphql_faults.remove(fault)
                return fault
        return None

    def _refuse(self, message: str, *, code: str = "BAD_REQUEST") -> JSONResponse:
        self.violations.append(message)
        error = {"message": message, "extensions": {"type": "graphql error", "code": code, "userError": False}}
        return JSONResponse({"errors": [error]}, status_code=400)

    # -- the workspace behind the schema ---------------------------------------------------------
    def _next_number(self) -> int:
        return max((issue.number for issue in self.issues.values()), default=0) + 1

    def _label_named(self, name: str) -> FakeLabel:
        label = next((label for label in self.labels.values() if label.name.lower() == name.lower()), None)
        return label or self.add_label(name)

    def _find_issue(self, issue_id: str) -> FakeIssue:
        for issue in self.issues.values():
            if issue_id in (issue.id, self.identifier(issue)):
                return issue
        raise not_found("Issue")

    def _check_state(self, state_id: str) -> str:
        if not any(state.id == state_id for state in self.states):
            raise LinearError("stateId must be a workflow state of the issue's team")
        return state_id

    def _check_labels(self, label_ids: list[str]) -> list[str]:
        for label_id in label_ids:
            label = self.labels.get(label_id)
            if label is None or label.is_group or label.team_id not in (None, self.team_id):
                raise LinearError(f"label {label_id} cannot be applied to issues of this team")
        return list(dict.fromkeys(label_ids))

    def _check_priority(self, priority: int) -> int:
        if priority not in PRIORITY_LABELS:
            self.violations.append(f"priority must be 0..4, got {priority}")
            raise LinearError("priority must be between 0 and 4")
        return priority

    def create_issue(self, fields: dict[str, Any]) -> FakeIssue:
        if fields["teamId"] != self.team_id:
            raise not_found("Team")
        issue_id = fields.get("id") or str(uuid.uuid4())
        if not UUID_V4.match(issue_id):
            self.violations.append(f"IssueCreateInput.id must be in UUID v4 format, got {issue_id!r}")
            raise LinearError("id must be a UUID v4")
        if issue_id in self.issues:
            raise LinearError("Entity already exists: Issue", hint="An issue with this id already exists.")
        if not fields.get("title") and not fields.get("templateId"):
            self.violations.append("IssueCreateInput needs a title unless a template is given")
            raise LinearError("title is required")
        default_state = min((s for s in self.states if s.type == "backlog"), key=lambda s: s.position)
        issue = FakeIssue(
            id=issue_id,
            number=self._next_number(),
            title=fields["title"],
            description=fields.get("description"),
            priority=self._check_priority(fields.get("priority") or 0),
            due_date=fields.get("dueDate"),
            label_ids=self._check_labels(fields.get("labelIds") or []),
            state_id=self._check_state(fields.get("stateId") or default_state.id),
            team_id=self.team_id,
        )
        self.issues[issue.id] = issue
        return issue

    def update_issue(self, issue_id: str, fields: dict[str, Any]) -> FakeIssue:
        issue = self._find_issue(issue_id)
        unsupported = set(fields) - {
            "title", "description", "priority", "dueDate", "stateId", "labelIds", "addedLabelIds", "removedLabelIds"
        }  # fmt: skip
        if unsupported:
            self.violations.append(f"the fake does not implement IssueUpdateInput fields {sorted(unsupported)}")
            raise LinearError("unsupported update")
        if "title" in fields:
            if not fields["title"]:
                raise LinearError("title must not be empty")
            issue.title = fields["title"]
        if "description" in fields:
            issue.description = fields["description"]
        if "priority" in fields:
            issue.priority = self._check_priority(fields["priority"] or 0)
        if "dueDate" in fields:
            issue.due_date = fields["dueDate"]
        if fields.get("stateId"):
            issue.state_id = self._check_state(fields["stateId"])
        if fields.get("labelIds") is not None:
            issue.label_ids = self._check_labels(fields["labelIds"])
        added = self._check_labels(fields.get("addedLabelIds") or [])
        removed = set(fields.get("removedLabelIds") or [])
        issue.label_ids = [label for label in [*issue.label_ids, *added] if label not in removed]
        issue.label_ids = list(dict.fromkeys(issue.label_ids))
        issue.updated_at = now_iso()
        return issue

    def create_label(self, fields: dict[str, Any]) -> FakeLabel:
        name = fields["name"]
        team_id = fields.get("teamId")
        if team_id not in (None, self.team_id):
            raise not_found("Team")
        same_name = [label for label in self.labels.values() if label.name.lower() == name.lower()]
        # Names are unique within a team and against workspace labels; other teams may reuse them.
        if any(None in (label.team_id, team_id) or label.team_id == team_id for label in same_name):
            raise LinearError("Duplicate label name", hint=f"A label named {name} already exists.")
        label = FakeLabel(fields.get("id") or str(uuid.uuid4()), name, team_id, bool(fields.get("isGroup")))
        self.labels[label.id] = label
        return label

    # -- views: dicts resolved by graphql-core's default resolver --------------------------------
    def team_view(self) -> dict[str, Any]:
        return {
            **self.team,
            "displayName": self.team["name"],
            "states": lambda _info, **_args: {"nodes": [self.state_view(state) for state in self.states]},
        }

    def state_view(self, state: FakeState) -> dict[str, Any]:
        return {
            "id": state.id,
            "name": state.name,
            "type": state.type,
            "position": state.position,
            "color": state.color,
        }

    def label_view(self, label: FakeLabel) -> dict[str, Any]:
        team = self.team_view() if label.team_id else None
        return {"id": label.id, "name": label.name, "color": label.color, "isGroup": label.is_group, "team": team}

    def issue_view(self, issue: FakeIssue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "identifier": self.identifier(issue),
            "number": float(issue.number),
            "title": issue.title,
            "description": issue.description,
            "priority": float(issue.priority),
            "priorityLabel": PRIORITY_LABELS[issue.priority],
            "dueDate": issue.due_date,
            "url": self.url(issue),
            "trashed": True if issue.trashed else None,
            "archivedAt": None,
            "createdAt": issue.created_at,
            "updatedAt": issue.updated_at,
            "labelIds": list(issue.label_ids),
            "state": self.state_view(self.state_of(issue)),
            "team": self.team_view(),
            "labels": lambda _info, **_args: {"nodes": [self.label_view(self.labels[i]) for i in issue.label_ids]},
        }

    def matching_labels(self, filter_: dict[str, Any] | None) -> list[FakeLabel]:
        return [label for label in self.labels.values() if self._label_matches(label, filter_ or {})]

    def _label_matches(self, label: FakeLabel, filter_: dict[str, Any]) -> bool:
        checks: dict[str, Callable[[Any], bool]] = {
            "and": lambda parts: all(self._label_matches(label, part) for part in parts),
            "or": lambda parts: any(self._label_matches(label, part) for part in parts),
            "id": lambda cond: _compare(label.id, cond),
            "name": lambda cond: _compare(label.name, cond),
            "isGroup": lambda cond: _compare(label.is_group, cond),
            "team": lambda cond: self._team_matches(label.team_id, cond),
        }
        for key, condition in filter_.items():
            if key not in checks:
                self.violations.append(f"the fake does not implement IssueLabelFilter.{key}")
                raise LinearError("unsupported filter")
            if condition is not None and not checks[key](condition):
                return False
        return True

    def _team_matches(self, team_id: str | None, filter_: dict[str, Any]) -> bool:
        for key, condition in filter_.items():
            if key == "null":
                matched = (team_id is None) == condition
            elif key == "id":
                matched = team_id is not None and _compare(team_id, condition)
            elif key == "or":
                matched = any(self._team_matches(team_id, part) for part in condition)
            elif key == "and":
                matched = all(self._team_matches(team_id, part) for part in condition)
            else:
                self.violations.append(f"the fake does not implement NullableTeamFilter.{key}")
                raise LinearError("unsupported filter")
            if not matched:
                return False
        return True

    # -- webhooks ----------------------------------------------------------------------------------
    def issue_webhook_data(self, issue: FakeIssue) -> dict[str, Any]:
        """The issue as `IssueWebhookPayload`."""
        state = self.state_of(issue)
        labels = [self.labels[label_id] for label_id in issue.label_ids]
        return {
            "id": issue.id,
            "createdAt": issue.created_at,
            "updatedAt": issue.updated_at,
            "number": float(issue.number),
            "title": issue.title,
            "description": issue.description,
            "priority": float(issue.priority),
            "priorityLabel": PRIORITY_LABELS[issue.priority],
            "prioritySortOrder": -1000.0,
            "sortOrder": -93.0,
            "dueDate": issue.due_date,
            "identifier": self.identifier(issue),
            "url": self.url(issue),
            "teamId": issue.team_id,
            "team": dict(self.team),
            "stateId": state.id,
            "state": {"id": state.id, "name": state.name, "type": state.type, "color": state.color},
            "labelIds": list(issue.label_ids),
            "labels": [{"id": lb.id, "name": lb.name, "color": lb.color, "parentId": None} for lb in labels],
            "subscriberIds": [],
            "previousIdentifiers": [],
            "reactionData": {},
            "trashed": True if issue.trashed else None,
        }

    def issue_webhook(
        self,
        issue: FakeIssue,
        action: str = "update",
        *,
        updated_from: dict[str, Any] | None = None,
        at_ms: int | None = None,
    ) -> dict[str, Any]:
        """An `Issue` delivery as Linear sends it (EntityWebhookPayload), checked against the schema."""
        return self.entity_webhook(
            "Issue", action, self.issue_webhook_data(issue), updated_from=updated_from, at_ms=at_ms
        )

    def entity_webhook(
        self,
        type_: str,
        action: str,
        data: dict[str, Any],
        *,
        updated_from: dict[str, Any] | None = None,
        at_ms: int | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "action": action,
            "type": type_,
            "createdAt": now_iso(),
            "organizationId": self.organization_id,
            "webhookId": self.webhook_id,
            "webhookTimestamp": now_ms() if at_ms is None else at_ms,
            "url": data.get("url"),
            "actor": {
                "id": str(uuid.uuid4()),
                "type": "user",
                "name": "Dana Reyes",
                "email": "dana@example.com",
                "url": "https://linear.app/fake-org/profiles/dana",
            },
            "data": data,
        }
        if updated_from is not None:
            payload["updatedFrom"] = updated_from
        problems = webhook_payload_violations(payload)
        assert not problems, problems
        return payload


class _Root:
    """Query and Mutation root fields; graphql-core calls these with (info, **arguments)."""

    def __init__(self, fake: FakeLinear) -> None:
        self.fake = fake

    def issue(self, _info: Any, id: str) -> dict[str, Any]:
        return self.fake.issue_view(self.fake._find_issue(id))

    def team(self, _info: Any, id: str) -> dict[str, Any]:
        if id not in (self.fake.team_id, self.fake.team["key"]):
            raise not_found("Team")
        return self.fake.team_view()

    def issueLabels(self, _info: Any, filter: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:  # noqa: N802
        return {"nodes": [self.fake.label_view(label) for label in self.fake.matching_labels(filter)]}

    def issueCreate(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        issue = self.fake.create_issue(input)
        return {"success": True, "lastSyncId": 1.0, "issue": self.fake.issue_view(issue)}

    def issueUpdate(self, _info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        issue = self.fake.update_issue(id, input)
        return {"success": True, "lastSyncId": 2.0, "issue": self.fake.issue_view(issue)}

    def issueLabelCreate(self, _info: Any, input: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N802
        label = self.fake.create_label(input)
        return {"success": True, "lastSyncId": 3.0, "issueLabel": self.fake.label_view(label)}


def sign_webhook(
    payload: dict[str, Any], secret: str, *, delivery_id: str | None = None, with_delivery: bool = True
) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of a delivery, signed the way Linear signs it (hex HMAC-SHA256, no prefix)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Linear-Webhook",
        "Linear-Event": str(payload.get("type")),
        "Linear-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    if with_delivery:
        headers["Linear-Delivery"] = delivery_id or str(uuid.uuid4())
    return headers, body


def webhook_payload_violations(payload: dict[str, Any]) -> list[str]:
    """Differences between a delivery and the schema's EntityWebhookPayload / <Type>WebhookPayload."""
    schema = linear_schema()
    envelope = {key: value for key, value in payload.items() if key != "data"}
    problems = _output_violations(envelope, schema.type_map["EntityWebhookPayload"], "payload", skip={"data", "actor"})
    if payload.get("actor") is not None:
        problems += _output_violations(payload["actor"], schema.type_map["UserActorWebhookPayload"], "payload.actor")
    data_type = schema.type_map.get(f"{payload.get('type')}WebhookPayload")
    if "data" not in payload:
        problems.append("payload.data is missing")
    elif data_type is not None:
        problems += _output_violations(payload["data"], data_type, "payload.data")
    return problems


def _output_violations(
    value: Any, type_: Any, path: str, *, skip: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    if is_non_null_type(type_):
        if value is None:
            return [f"{path} must not be null ({type_})"]
        type_ = type_.of_type
    if value is None:
        return []
    if is_list_type(type_):
        if not isinstance(value, list):
            return [f"{path} must be a list"]
        return [
            problem
            for i, item in enumerate(value)
            for problem in _output_violations(item, type_.of_type, f"{path}[{i}]")
        ]
    if is_object_type(type_):
        if not isinstance(value, dict):
            return [f"{path} must be an object ({type_.name})"]
        problems = [f"{path}.{key} is not a field of {type_.name}" for key in value if key not in type_.fields]
        for name, definition in type_.fields.items():
            if name in skip:
                continue
            if name not in value:
                if is_non_null_type(definition.type):
                    problems.append(f"{path}.{name} is required by {type_.name}")
                continue
            problems += _output_violations(value[name], definition.type, f"{path}.{name}")
        return problems
    if is_enum_type(type_):
        return [] if value in type_.values else [f"{path}: {value!r} is not a {type_.name}"]
    if is_scalar_type(type_):
        checks: dict[str, Callable[[Any], bool]] = {
            "String": lambda v: isinstance(v, str),
            "ID": lambda v: isinstance(v, str),
            "Boolean": lambda v: isinstance(v, bool),
            "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "JSONObject": lambda v: isinstance(v, dict),
        }
        check = checks.get(get_named_type(type_).name)
        return [] if check is None or check(value) else [f"{path}: {value!r} is not a {type_.name}"]
    return []


def _root_fields(operation: OperationDefinitionNode) -> set[str]:
    return {selection.name.value for selection in operation.selection_set.selections if hasattr(selection, "name")}


def _compare(value: Any, condition: dict[str, Any]) -> bool:
    tests: dict[str, Callable[[Any], bool]] = {
        "eq": lambda expected: value == expected,
        "neq": lambda expected: value != expected,
        "in": lambda expected: value in expected,
        "nin": lambda expected: value not in expected,
        "eqIgnoreCase": lambda expected: str(value).lower() == str(expected).lower(),
        "startsWith": lambda expected: str(value).startswith(expected),
    }
    unknown = set(condition) - set(tests)
    if unknown:
        raise LinearError(f"the fake does not implement comparators {sorted(unknown)}")
    return all(tests[key](expected) for key, expected in condition.items() if expected is not None)


def _fault_response(fault: GraphQLFault) -> JSONResponse:
    error = {"message": fault.message, "extensions": {"type": fault.type, "code": fault.code, "userError": False}}
    return JSONResponse({"data": None, "errors": [error]}, status_code=fault.status, headers=fault.headers)


def _auth_error() -> JSONResponse:
    error = {
        "message": "Authentication required, not authenticated",
        "extensions": {
            "type": "authentication error",
            "code": "AUTHENTICATION_ERROR",
            "userError": True,
            "userPresentableMessage": "You need to authenticate to access this operation.",
        },
    }
    return JSONResponse({"errors": [error]}, status_code=401)
