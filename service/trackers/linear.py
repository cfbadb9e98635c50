"""Linear: issues through the GraphQL API at `{base_url}/graphql`, status back through signed webhooks.

Every request is a POST of `{"query", "variables", "operationName"}` with the API key as the bare
`Authorization` header value (Linear treats `Bearer ...` as an OAuth token). Linear reports most
failures inside an HTTP 200 answer, so the `errors` array is read before the status code:

    errors[].extensions.code RATELIMITED (HTTP 400) or HTTP 429   -> retryable, after the reset headers
    extensions.type "internal error" / "lock timeout" / 5xx     -> retryable
    "Entity not found: ..."                                      -> the ticket is gone (None where allowed)
    authentication, forbidden, invalid input, anything else      -> permanent

Status mapping: `RemoteIssue.state` is the workflow state's `type` (triage, backlog, unstarted,
started, completed, canceled, duplicate), so `TrackerConfig.status_map` keys are those type names,
e.g. `{"canceled": "done"}`.
"""

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import Field, ValidationError

from service.action_items.models import ItemStatus, Priority
from service.core.schemas import InputModel
from service.trackers.base import (
    InvalidSignature,
    IssueDraft,
    PermanentTrackerError,
    RemoteIssue,
    RetryableTrackerError,
    TrackerConfig,
    WebhookEvent,
    raise_for_tracker_status,
    retry_after_seconds,
)

DEFAULT_BASE_URL: str | None = "https://api.linear.app"

SIGNATURE_HEADER = "Linear-Signature"
DELIVERY_HEADER = "Linear-Delivery"
MAX_CLOCK_SKEW_MS = 60_000

PRIORITIES: Mapping[Priority, int] = {Priority.P0: 1, Priority.P1: 2, Priority.P2: 3}  # 1 Urgent, 2 High, 3 Medium
NO_PRIORITY = 0

STATE_TYPE_STATUS: Mapping[str, ItemStatus] = {
    "triage": ItemStatus.OPEN,
    "backlog": ItemStatus.OPEN,
    "unstarted": ItemStatus.OPEN,
    "started": ItemStatus.IN_PROGRESS,
    "completed": ItemStatus.DONE,
    "canceled": ItemStatus.WONT_DO,
    "duplicate": ItemStatus.WONT_DO,
}
# Where `set_status` moves a ticket, most natural first. "duplicate" is never a target: Linear
# reserves it for issues marked as duplicates of another one.
TARGET_STATE_TYPES: Mapping[ItemStatus, tuple[str, ...]] = {
    ItemStatus.OPEN: ("unstarted", "backlog", "triage"),
    ItemStatus.IN_PROGRESS: ("started",),
    ItemStatus.DONE: ("completed",),
    ItemStatus.WONT_DO: ("canceled",),
}
RETRYABLE_ERROR_TYPES = frozenset({"internal error", "lock timeout", "network error"})
RETRYABLE_ERROR_CODES = frozenset({"INTERNAL_SERVER_ERROR", "LOCK_TIMEOUT"})
_OPERATION_NAME = re.compile(r"\b(?:query|mutation)\s+(\w+)")

_ISSUE_FIELDS = """
fragment PostmortemsIssue on Issue {
  id
  identifier
  url
  trashed
  state { id name type }
}
"""
_TEAM_STATES_FIELDS = """
fragment PostmortemsTeamStates on Team {
  id
  states(first: 100) { nodes { id name type position } }
}
"""

ISSUE_QUERY = (
    """
query PostmortemsIssue($id: String!) {
  issue(id: $id) { ...PostmortemsIssue }
}
"""
    + _ISSUE_FIELDS
)
ISSUE_WORKFLOW_QUERY = (
    """
query PostmortemsIssueWorkflow($id: String!) {
  issue(id: $id) { ...PostmortemsIssue team { ...PostmortemsTeamStates } }
}
"""
    + _ISSUE_FIELDS
    + _TEAM_STATES_FIELDS
)
TEAM_STATES_QUERY = (
    """
query PostmortemsTeamStates($teamId: String!) {
  team(id: $teamId) { ...PostmortemsTeamStates }
}
"""
    + _TEAM_STATES_FIELDS
)
LABELS_QUERY = """
query PostmortemsLabels($filter: IssueLabelFilter!) {
  issueLabels(filter: $filter, first: 250) { nodes { id name team { id } } }
}
"""
ISSUE_LABELS_QUERY = """
query PostmortemsIssueLabels($id: String!, $filter: IssueLabelFilter!) {
  issue(id: $id) { id labels(first: 250) { nodes { id name } } }
  issueLabels(filter: $filter, first: 250) { nodes { id name team { id } } }
}
"""
LABEL_CREATE_MUTATION = """
mutation PostmortemsLabelCreate($input: IssueLabelCreateInput!) {
  issueLabelCreate(input: $input) { success issueLabel { id name } }
}
"""
ISSUE_CREATE_MUTATION = (
    """
mutation PostmortemsIssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { ...PostmortemsIssue } }
}
"""
    + _ISSUE_FIELDS
)
ISSUE_UPDATE_MUTATION = (
    """
mutation PostmortemsIssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { ...PostmortemsIssue } }
}
"""
    + _ISSUE_FIELDS
)
DOCUMENTS = (
    ISSUE_QUERY,
    ISSUE_WORKFLOW_QUERY,
    TEAM_STATES_QUERY,
    LABELS_QUERY,
    ISSUE_LABELS_QUERY,
    LABEL_CREATE_MUTATION,
    ISSUE_CREATE_MUTATION,
    ISSUE_UPDATE_MUTATION,
)


class LinearSettings(InputModel):
    team_id: str = Field(min_length=1, max_length=100, description="Id of the Linear team that receives the issues.")


class IssueNotFound(PermanentTrackerError):
    """Linear answered "Entity not found": deleted for good, or no longer visible to this key."""


def issue_id_for_marker(marker: str, team_id: str) -> str:
    """The id the ticket for `marker` gets in Linear: a UUID in v4 format derived from the marker.

    The team is part of the derivation because Linear ids are unique across all workspaces: two
    installations using the same marker text in different workspaces must not claim the same id.
    """
    digest = hashlib.sha256(f"postmortems/linear\x00{team_id}\x00{marker}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def map_state(state_type: str, status_map: Mapping[str, Any]) -> ItemStatus | None:
    """Linear workflow state type -> action item status, overrides first; None when unknown."""
    value = status_map.get(state_type, STATE_TYPE_STATUS.get(state_type))
    if value is None:
        return None
    try:
        return ItemStatus(value)
    except ValueError:
        return None


class LinearAdapter:
    """Creates and updates issues in one Linear team.

    Idempotent create: `IssueCreateInput` accepts a client-chosen `id` (UUID v4 format), so every
    ticket is created with `issue_id_for_marker(marker, team_id)`. The marker is thereby embedded
    in the ticket's primary key, which makes this the most reliable mechanism Linear offers:
    `find_issue` is a direct `issue(id:)` lookup (no search index that lags behind a fresh write,
    no text in the description that people can edit away), and the create itself cannot produce a
    second ticket: a retried `issueCreate` with the same id is refused by Linear, and
    `create_issue` then returns the ticket that already holds the id. A ticket that was deleted
    (trashed) still holds its id, so `find_issue` returns it and `fetch_issue` reports it gone.
    """

    find_lags = False

    def __init__(self, config: TrackerConfig, client: httpx.AsyncClient) -> None:
        try:
            settings = LinearSettings.model_validate(dict(config.settings))
        except ValidationError as exc:
            raise PermanentTrackerError(f"invalid Linear settings: {exc.errors(include_url=False)}") from exc
        self._config = config
        self._client = client
        self._team_id = settings.team_id
        self._url = config.base_url.rstrip("/") + "/graphql"
        self._label_ids: dict[str, str] = {}  # lower-cased name -> id, for labels usable in the team

    # -- TrackerAdapter ---------------------------------------------------------------------------
    async def find_issue(self, marker: str, *, created_ids: Sequence[str] = ()) -> RemoteIssue | None:
        """A direct lookup of the id derived from `marker` (see the class docstring); consistent, so
        `created_ids` are not needed."""
        try:
            data = await self._graphql(ISSUE_QUERY, {"id": issue_id_for_marker(marker, self._team_id)})
        except IssueNotFound:
            return None
        return self._remote(data.get("issue"))

    async def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        issue_id = issue_id_for_marker(draft.marker, self._team_id)
        fields: dict[str, Any] = {"id": issue_id, "teamId": self._team_id, **_content(draft)}
        if draft.due_date is None:
            del fields["dueDate"]
        labels = await self._resolve_labels(draft.labels)
        if labels:
            fields["labelIds"] = labels
        if draft.status is not ItemStatus.OPEN:  # open: the team's default state for new issues
            fields["stateId"] = await self._team_state_id(draft.status)
        try:
            data = await self._graphql(ISSUE_CREATE_MUTATION, {"input": fields})
        except PermanentTrackerError:
            existing = await self._existing(issue_id)
            if existing is None:
                raise
            return existing
        return self._remote(_payload_issue(data, "issueCreate"))

    async def update_issue(self, issue_id: str, draft: IssueDraft) -> RemoteIssue:
        wanted = _unique(draft.labels)
        fields = _content(draft)
        if wanted:
            data = await self._graphql(ISSUE_LABELS_QUERY, {"id": issue_id, "filter": self._label_filter(wanted)})
            self._remember_labels(data)
            current = _nodes(_field(data.get("issue"), "labels"))
            added = await self._resolve_labels(wanted, known=True)
            current_ids = {str(node.get("id")) for node in current}
            fields["addedLabelIds"] = [label for label in added if label not in current_ids]
            fields["removedLabelIds"] = _stale_labels(current, wanted)
            for key in ("addedLabelIds", "removedLabelIds"):
                if not fields[key]:
                    del fields[key]
        data = await self._graphql(ISSUE_UPDATE_MUTATION, {"id": issue_id, "input": fields})
        return self._remote(_payload_issue(data, "issueUpdate"))

    async def set_status(self, issue_id: str, status: ItemStatus) -> RemoteIssue:
        """Moves the ticket to its team's first state (by position) of the type for `status`.

        A ticket already in a state that maps to `status` stays where it is, so a finer state chosen
        in Linear ("In Review" rather than "In Progress") is not undone.
        """
        data = await self._graphql(ISSUE_WORKFLOW_QUERY, {"id": issue_id})
        issue = data.get("issue")
        current = self._remote(issue)
        if current.status is status:
            return current
        state_id = self._pick_state(_nodes(_field(_field(issue, "team"), "states")), status)
        data = await self._graphql(ISSUE_UPDATE_MUTATION, {"id": current.id, "input": {"stateId": state_id}})
        return self._remote(_payload_issue(data, "issueUpdate"))

    async def fetch_issue(self, issue_id: str) -> RemoteIssue | None:
        return await self._existing(issue_id, include_trashed=False)

    # -- requests ---------------------------------------------------------------------------------
    async def _graphql(self, document: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        operation = _OPERATION_NAME.search(document)
        request = self._client.build_request(
            "POST",
            self._url,
            json={
                "query": document,
                "variables": dict(variables),
                "operationName": operation.group(1) if operation else None,
            },
            headers={"Authorization": self._config.token, "Accept": "application/json"},
        )
        try:
            response = await self._client.send(request)
        except httpx.TransportError as exc:
            raise RetryableTrackerError(f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        _raise_for_graphql_errors(response, body)
        raise_for_tracker_status(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise PermanentTrackerError(f"Linear answered without data: {response.text[:200]}")
        return data

    async def _existing(self, issue_id: str, *, include_trashed: bool = True) -> RemoteIssue | None:
        try:
            data = await self._graphql(ISSUE_QUERY, {"id": issue_id})
        except IssueNotFound:
            return None
        issue = data.get("issue")
        if not include_trashed and _field(issue, "trashed") is True:
            return None
        return self._remote(issue)

    async def _team_state_id(self, status: ItemStatus) -> str:
        data = await self._graphql(TEAM_STATES_QUERY, {"teamId": self._team_id})
        return self._pick_state(_nodes(_field(data.get("team"), "states")), status)

    def _pick_state(self, states: list[dict[str, Any]], status: ItemStatus) -> str:
        for state_type in self._target_types(status):
            candidates = [state for state in states if state.get("type") == state_type and state.get("id")]
            if candidates:
                first = min(candidates, key=lambda state: _number(state.get("position")))
                return str(first["id"])
        raise PermanentTrackerError(f"the Linear team has no workflow state for status {status.value!r}")

    def _target_types(self, status: ItemStatus) -> list[str]:
        """The spec's state types for `status`, then any other type that status_map maps to it."""
        types = [kind for kind in TARGET_STATE_TYPES[status] if self._status_of(kind) is status]
        types += [kind for kind in self._config.status_map if kind not in types and self._status_of(kind) is status]
        return types

    def _status_of(self, state_type: str) -> ItemStatus | None:
        return map_state(state_type, self._config.status_map)

    def _remote(self, issue: Any) -> RemoteIssue:
        remote = remote_issue(issue, self._config.status_map)
        if remote is None:
            raise PermanentTrackerError(f"Linear answered with an issue of unexpected shape: {str(issue)[:200]}")
        return remote

    # -- labels -----------------------------------------------------------------------------------
    async def _resolve_labels(self, names: Iterable[str], *, known: bool = False) -> list[str]:
        """Ids of team or workspace labels with these names (case-insensitive), creating missing ones."""
        wanted = _unique(names)
        if wanted and not known and any(name.lower() not in self._label_ids for name in wanted):
            self._remember_labels(await self._graphql(LABELS_QUERY, {"filter": self._label_filter(wanted)}))
        ids = []
        for name in wanted:
            label_id = self._label_ids.get(name.lower()) or await self._create_label(name)
            if label_id not in ids:
                ids.append(label_id)
        return ids

    async def _create_label(self, name: str) -> str:
        try:
            data = await self._graphql(LABEL_CREATE_MUTATION, {"input": {"name": name, "teamId": self._team_id}})
        except PermanentTrackerError:
            # Someone (another worker, a person) may have created it meanwhile: look again once.
            self._remember_labels(await self._graphql(LABELS_QUERY, {"filter": self._label_filter([name])}))
            if name.lower() in self._label_ids:
                return self._label_ids[name.lower()]
            raise
        label = _field(data.get("issueLabelCreate"), "issueLabel")
        label_id = _field(label, "id")
        if not isinstance(label_id, str):
            raise PermanentTrackerError(f"Linear did not return the created label: {str(data)[:200]}")
        self._label_ids[name.lower()] = label_id
        return label_id

    def _label_filter(self, names: list[str]) -> dict[str, Any]:
        return {
            "or": [{"name": {"eqIgnoreCase": name}} for name in names],
            "team": {"or": [{"id": {"eq": self._team_id}}, {"null": True}]},
            "isGroup": {"eq": False},
        }

    def _remember_labels(self, data: Mapping[str, Any]) -> None:
        nodes = _nodes(data.get("issueLabels"))
        # Workspace labels first so that a team label of the same name wins.
        for node in sorted(nodes, key=lambda node: _field(node, "team") is not None):
            if isinstance(node.get("id"), str) and isinstance(node.get("name"), str):
                self._label_ids[node["name"].lower()] = node["id"]


class LinearWebhooks:
    """Linear webhooks: `Linear-Signature: <hex>` over the raw body, `webhookTimestamp` in the body."""

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        signature = _header(headers, SIGNATURE_HEADER)
        if not secret:
            raise InvalidSignature("no webhook secret is configured")
        if signature is None:
            raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
        signature = signature.strip().lower()
        if len(signature) != 64 or any(char not in "0123456789abcdef" for char in signature):
            raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignature("signature does not match")
        try:
            timestamp = json.loads(body).get("webhookTimestamp")
        except (ValueError, AttributeError) as exc:
            raise InvalidSignature("the body is not a JSON object") from exc
        if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
            raise InvalidSignature("missing webhookTimestamp")
        if abs(now.timestamp() * 1000 - timestamp) > MAX_CLOCK_SKEW_MS:
            raise InvalidSignature("webhookTimestamp is more than 60 s from now")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, config: TrackerConfig) -> WebhookEvent:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return WebhookEvent(delivery_id=_header(headers, DELIVERY_HEADER) or _body_digest(body))
        data = payload.get("data")
        if not isinstance(data, dict):
            data = {}
        delivery_id = _header(headers, DELIVERY_HEADER) or _fallback_delivery_id(payload, data) or _body_digest(body)
        issue_id = data.get("id")
        if payload.get("type") != "Issue" or not isinstance(issue_id, str):
            return WebhookEvent(delivery_id=delivery_id)
        action = payload.get("action")
        if action == "remove" or (action == "update" and data.get("trashed") is True):
            return WebhookEvent(delivery_id=delivery_id, issue_id=issue_id, deleted=True)
        if action not in ("create", "update"):
            return WebhookEvent(delivery_id=delivery_id)
        return WebhookEvent(delivery_id=delivery_id, issue_id=issue_id, issue=remote_issue(data, config.status_map))


def remote_issue(issue: Any, status_map: Mapping[str, Any]) -> RemoteIssue | None:
    """An API `Issue` or a webhook `IssueWebhookPayload` as a RemoteIssue; None when fields are missing."""
    state_type = _field(_field(issue, "state"), "type")
    values = (_field(issue, "id"), _field(issue, "identifier"), _field(issue, "url"), state_type)
    if not all(isinstance(value, str) for value in values):
        return None
    issue_id, key, url, state = (str(value) for value in values)
    return RemoteIssue(id=issue_id, key=key, url=url, state=state, status=map_state(state, status_map))


def _raise_for_graphql_errors(response: httpx.Response, body: Any) -> None:
    errors = body.get("errors") if isinstance(body, dict) else None
    errors = [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []
    extensions = [error.get("extensions") if isinstance(error.get("extensions"), dict) else {} for error in errors]
    codes = {str(extension.get("code", "")).upper() for extension in extensions}
    types = {str(extension.get("type", "")).lower() for extension in extensions}
    status = response.status_code
    message = "; ".join(str(error.get("message", "")) for error in errors)[:500] or response.text[:500]
    if "RATELIMITED" in codes or "ratelimited" in types or status == 429:
        raise RetryableTrackerError(f"rate limited (HTTP {status}): {message}", retry_after=_retry_after(response))
    if not errors or status >= 500 or status in (408, 409):
        return  # the status decides
    if any(str(error.get("message", "")).lower().startswith("entity not found") for error in errors):
        raise IssueNotFound(message)
    if types & RETRYABLE_ERROR_TYPES or codes & RETRYABLE_ERROR_CODES:
        raise RetryableTrackerError(f"HTTP {status}: {message}", retry_after=retry_after_seconds(response))
    raise PermanentTrackerError(f"HTTP {status}: {message}")


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After, else the reset (epoch ms) of whichever Linear budget is exhausted."""
    if response.headers.get("retry-after"):
        return retry_after_seconds(response)
    now = time.time()
    resets = []
    for budget in ("requests", "complexity"):
        reset = response.headers.get(f"x-ratelimit-{budget}-reset", "").strip()
        if response.headers.get(f"x-ratelimit-{budget}-remaining", "").strip() == "0" and reset.isdigit():
            resets.append(int(reset) / 1000 - now)
    if resets:
        return max(0.0, *resets)
    return retry_after_seconds(response, now=now)


def _content(draft: IssueDraft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "description": draft.body,
        "priority": NO_PRIORITY if draft.priority is None else PRIORITIES[draft.priority],
        "dueDate": draft.due_date.isoformat() if draft.due_date else None,
    }


def _stale_labels(current: list[dict[str, Any]], wanted: list[str]) -> list[str]:
    """Labels of the ticket from a `family:` the draft sets, other than the draft's own ("priority:P1")."""
    names = {name.lower() for name in wanted}
    families = {name.split(":", 1)[0] + ":" for name in names if ":" in name}
    return [
        str(node["id"])
        for node in current
        if isinstance(node.get("name"), str)
        and node["name"].lower() not in names
        and any(node["name"].lower().startswith(family) for family in families)
    ]


def _unique(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for name in names:
        if name.strip() and name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique


def _payload_issue(data: Mapping[str, Any], mutation: str) -> Any:
    payload = data.get(mutation)
    if _field(payload, "success") is not True:
        raise PermanentTrackerError(f"Linear did not apply {mutation}: {str(payload)[:200]}")
    return _field(payload, "issue")


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = _field(connection, "nodes")
    return [node for node in nodes if isinstance(node, dict)] if isinstance(nodes, list) else []


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("inf")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((item for key, item in headers.items() if key.lower() == wanted), None)
    return value


def _fallback_delivery_id(payload: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    parts = (payload.get("webhookId"), data.get("id"), data.get("updatedAt"))
    if not all(isinstance(part, str) and part for part in parts):
        return None
    return ":".join(str(part) for part in parts)


def _body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()
