"""Jira Cloud: REST API v3 issues, workflow transitions and JQL search; admin webhooks.

Requests authenticate with basic auth (`settings.email` + API token) against the site URL, e.g.
`https://your-site.atlassian.net`. Descriptions are sent in Atlassian Document Format (ADF); the
due date goes to `duedate`. Jira's own `priority` field is left alone: priority schemes differ per
site and the field is often missing from a project's screens, where setting it fails the whole
request. The priority, severity and deadline travel in the labels and description the service builds.

Status: `RemoteIssue.state` is the name of the Jira status as the site shows it ("To Do",
"In Review", "Done"). It maps through its status category: `new` -> open, `indeterminate` ->
in_progress, `done` -> done, or wont_do when the issue's resolution is one of
`settings.wont_do_resolutions`. `TrackerConfig.status_map` is keyed by status name and wins over
the categories, e.g. `{"In Review": "in_progress", "Won't Do": "wont_do"}`.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from pydantic import Field, ValidationError

from service.action_items.models import ItemStatus
from service.core.schemas import InputModel
from service.trackers.base import (
    InvalidSignature,
    IssueDraft,
    PermanentTrackerError,
    RemoteIssue,
    RetryableTrackerError,
    TrackerConfig,
    TrackerError,
    WebhookEvent,
    json_body,
    raise_for_tracker_status,
    send,
)

DEFAULT_BASE_URL: str | None = None  # every Jira Cloud site has its own URL

DEFAULT_WONT_DO_RESOLUTIONS = ("Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce")
SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
SUMMARY_MAX_LENGTH = 255
LABEL_MAX_LENGTH = 255
RECONCILE_MAX_IDS = 50  # `reconcileIssues` of the enhanced search takes at most 50 ids

_ISSUE_FIELDS = "status,resolution"
Query = str | list[str]  # a query parameter's value; a list repeats the parameter
_CATEGORY_OF = {
    ItemStatus.OPEN: "new",
    ItemStatus.IN_PROGRESS: "indeterminate",
    ItemStatus.DONE: "done",
    ItemStatus.WONT_DO: "done",
}
_STATUS_OF_CATEGORY = {"new": ItemStatus.OPEN, "indeterminate": ItemStatus.IN_PROGRESS, "done": ItemStatus.DONE}

ResolutionName = Annotated[str, Field(min_length=1, max_length=255)]


class JiraSettings(InputModel):
    project_key: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]+$", max_length=255, description="Key of the Jira project.", examples=["OPS"]
    )
    issue_type: str = Field(default="Task", min_length=1, max_length=255, description="Issue type name.")
    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=255,
        description="Atlassian account email; with the API token it forms the basic auth credentials.",
        examples=["automation@example.com"],
    )
    wont_do_resolutions: list[ResolutionName] = Field(
        default_factory=lambda: list(DEFAULT_WONT_DO_RESOLUTIONS),
        max_length=50,
        description="Resolution names (case-insensitive) that make a done issue count as wont_do.",
    )


class JiraAdapter:
    """Jira Cloud REST v3 for one project.

    Idempotent create: every ticket carries the draft's marker as a label (`marker_label`), and
    `find_issue` looks it up with the enhanced JQL search `project = KEY AND labels = "<marker>"`.
    That search is eventually consistent: Atlassian documents that a change may take "a few seconds
    to minutes" to show, and only the issue ids passed in `reconcileIssues` (up to 50) are read
    consistently. Nothing consistent finds an issue without its id: issue entity properties are
    stored atomically with the issue but searchable only when a Connect or Forge app declares them
    indexed, text search (`text ~`) is tokenised and fuzzy, and creates take no idempotency key.

    So the adapter says its lookups lag (`find_lags`) and the worker guards every create
    (`sync.creates`): it notes the create on the delivery before sending it; when a step after the
    create fails, the error carries the new issue's id (`created_issue_id`) and a retry passes it in
    `reconcileIssues`, which finds the issue at once; when the answer was lost with the id in it, a
    retry that finds nothing waits until POSTMORTEMS_JIRA_SEARCH_LAG_SECONDS have passed since the
    create was sent before it creates again. A second issue is made only if Jira's search takes
    longer than that to show the first one.

    Someone who removes the marker label in Jira, or moves the issue to another project, hides it.
    When several issues carry the marker, the oldest is returned.
    """

    find_lags = True

    def __init__(self, config: TrackerConfig, client: httpx.AsyncClient) -> None:
        try:
            self._settings = JiraSettings.model_validate(dict(config.settings))
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, error["loc"])) or "settings" for error in exc.errors())
            raise PermanentTrackerError(f"invalid Jira settings: {fields}") from None
        self._config = config
        self._client = client
        self._base_url = config.base_url.rstrip("/")
        credentials = base64.b64encode(f"{self._settings.email}:{config.token}".encode()).decode()
        self._headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json"}

    async def find_issue(self, marker: str, *, created_ids: Sequence[str] = ()) -> RemoteIssue | None:
        jql = (
            f"project = {jql_string(self._settings.project_key)} AND labels = {jql_string(marker_label(marker))}"
            " ORDER BY created ASC"
        )
        params: dict[str, Query] = {"jql": jql, "fields": _ISSUE_FIELDS, "maxResults": "1"}
        reconciled = [issue_id for issue_id in created_ids if issue_id.isdigit()][:RECONCILE_MAX_IDS]
        if reconciled:
            params["reconcileIssues"] = reconciled
        found = json_body(await self._send("GET", "/rest/api/3/search/jql", params=params))
        issues = found.get("issues") if isinstance(found, dict) else None
        if not isinstance(issues, list):
            raise PermanentTrackerError("the Jira search answered without `issues`")
        return self._remote(issues[0]) if issues else None

    async def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        """Create the issue, then move it to the draft's status when that is not the initial one."""
        fields = {
            "project": {"key": self._settings.project_key},
            "issuetype": {"name": self._settings.issue_type},
            **self._content(draft),
        }
        if draft.due_date is None:
            del fields["duedate"]
        created = json_body(await self._send("POST", "/rest/api/3/issue", json={"fields": fields}))
        issue_id = created.get("id") if isinstance(created, dict) else None
        if not isinstance(issue_id, str):
            raise PermanentTrackerError("Jira created the issue but answered without its id")
        try:
            return await self.set_status(issue_id, draft.status)
        except TrackerError as error:
            error.created_issue_id = issue_id
            raise

    async def update_issue(self, issue_id: str, draft: IssueDraft) -> RemoteIssue:
        """Set summary, description, labels and due date; labels Jira users added are replaced too."""
        await self._send("PUT", _issue_path(issue_id), json={"fields": self._content(draft)})
        return await self._require(issue_id)

    async def set_status(self, issue_id: str, status: ItemStatus) -> RemoteIssue:
        """Run the available transition into a status of the matching category (see `_choose_transition`).

        An issue already in that category stays as it is when no transition leads into the category
        again: done and wont_do share Jira's done category, and workflows rarely lead from one closed
        status to another, so the ticket keeps its resolution and the answer says which one.
        """
        current = await self._require(issue_id)
        if current.status is status:
            return current
        answer = json_body(await self._send("GET", f"{_issue_path(issue_id)}/transitions", params=_EXPAND_FIELDS))
        transitions = answer.get("transitions") if isinstance(answer, dict) else None
        choice = self._choose_transition(transitions if isinstance(transitions, list) else [], status)
        if choice is None and current.status is not None and _CATEGORY_OF[current.status] == _CATEGORY_OF[status]:
            return current
        if choice is None:
            raise PermanentTrackerError(
                f"no transition from {current.state!r} leads to a status of category {_CATEGORY_OF[status]!r}"
            )
        transition_id, resolution = choice
        body: dict[str, Any] = {"transition": {"id": transition_id}}
        if resolution is not None:
            body["fields"] = {"resolution": {"name": resolution}}
        await self._send("POST", f"{_issue_path(issue_id)}/transitions", json=body)
        return await self._require(issue_id)

    async def fetch_issue(self, issue_id: str) -> RemoteIssue | None:
        request = self._request("GET", _issue_path(issue_id), params={"fields": _ISSUE_FIELDS})
        try:
            response = await self._client.send(request)
        except httpx.TransportError as exc:
            raise RetryableTrackerError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in (404, 410):
            return None
        raise_for_tracker_status(response)
        return self._remote(json_body(response))

    # -- helpers --------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, *, params: Mapping[str, Query] | None = None, json: Any = None
    ) -> httpx.Request:
        return self._client.build_request(
            method, self._base_url + path, params=params, json=json, headers=self._headers
        )

    async def _send(
        self, method: str, path: str, *, params: Mapping[str, Query] | None = None, json: Any = None
    ) -> httpx.Response:
        return await send(self._client, self._request(method, path, params=params, json=json))

    async def _require(self, issue_id: str) -> RemoteIssue:
        issue = await self.fetch_issue(issue_id)
        if issue is None:
            raise PermanentTrackerError(f"Jira issue {issue_id} does not exist or is not visible")
        return issue

    def _remote(self, issue: Any) -> RemoteIssue:
        remote = remote_issue(issue, self._config)
        if remote is None:
            raise PermanentTrackerError("Jira answered with an issue without id or key")
        return remote

    def _content(self, draft: IssueDraft) -> dict[str, Any]:
        return {
            "summary": summary(draft.title),
            "description": to_adf(draft.body),
            "labels": jira_labels([*draft.labels, marker_label(draft.marker)]),
            "duedate": draft.due_date.isoformat() if draft.due_date else None,
        }

    def _choose_transition(self, transitions: list[Any], status: ItemStatus) -> tuple[str, str | None] | None:
        """The best available transition into `status`'s category, with the resolution to set on its screen.

        Preference: a target status that `status_map` maps to `status`; then one whose screen lets the
        resolution express the status (a wont_do resolution for wont_do, another one for done); then a
        plain transition into the category. A wont_do that Jira cannot record closes the issue as done,
        the nearest state. Transitions with required screen fields we cannot fill are skipped.
        """
        ranked: list[tuple[int, int, str, str | None]] = []
        for position, transition in enumerate(transitions):
            if not isinstance(transition, dict) or transition.get("isAvailable") is False:
                continue
            transition_id = transition.get("id")
            target = _dict(transition.get("to"))
            if not isinstance(transition_id, str) or _category(target) != _CATEGORY_OF[status]:
                continue
            screen = _dict(transition.get("fields"))
            if any(
                _dict(meta).get("required") and not _dict(meta).get("hasDefaultValue")
                for key, meta in screen.items()
                if key != "resolution"
            ):
                continue
            override = _overridden(self._config.status_map, _str(target.get("name")))
            if override is not None and override is not status:
                continue
            resolution, rank = self._resolution_for(_dict(screen.get("resolution")), status)
            if rank is None:
                continue
            ranked.append((0 if override is status else rank, position, transition_id, resolution))
        if not ranked:
            return None
        _, _, transition_id, resolution = min(ranked)
        return transition_id, resolution

    def _resolution_for(self, field: dict[str, Any], status: ItemStatus) -> tuple[str | None, int | None]:
        """(resolution to send, rank) given the transition screen's resolution field; rank None: unusable."""
        if not field:
            return None, 3 if status is ItemStatus.WONT_DO else 1
        required = bool(field.get("required"))
        if status not in (ItemStatus.DONE, ItemStatus.WONT_DO):
            return None, None if required else 1
        wont_do = [_fold(name) for name in self._settings.wont_do_resolutions]
        allowed = [_str(_dict(value).get("name")) for value in field.get("allowedValues") or []]
        default = _str(_dict(field.get("defaultValue")).get("name"))
        done_like = [name for name in (default, *allowed) if name and _fold(name) not in wont_do]
        if status is ItemStatus.WONT_DO:
            for wanted in wont_do:
                match = next((name for name in allowed if _fold(name) == wanted), None)
                if match is not None:
                    return match, 1
            fallback = done_like[0] if done_like and required else None
            return fallback, 3 if fallback or not required else None
        if done_like:
            return done_like[0], 1
        return None, None if required else 1


class JiraWebhooks:
    """Admin webhooks (`jira:issue_updated`, `jira:issue_deleted`, also `jira:issue_created`), v2 bodies.

    Signed with the webhook's secret as `X-Hub-Signature: sha256=<hex of HMAC-SHA256(raw body)>`;
    each delivery is identified by `X-Atlassian-Webhook-Identifier`, which Jira keeps on retries.
    A body without that header is identified by its SHA-256, so an identical resend is still one event.
    """

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        if not secret:
            raise InvalidSignature("no webhook secret is configured")
        value = _header(headers, SIGNATURE_HEADER)
        if value is None:
            raise InvalidSignature(f"{SIGNATURE_HEADER} is missing")
        algorithm, _, digest = value.strip().partition("=")
        if algorithm.lower() != "sha256" or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            raise InvalidSignature(f"{SIGNATURE_HEADER} is not sha256=<hex>")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, digest.lower()):
            raise InvalidSignature(f"{SIGNATURE_HEADER} does not match the body")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, config: TrackerConfig) -> WebhookEvent:
        delivery_id = _header(headers, DELIVERY_HEADER) or f"sha256:{hashlib.sha256(body).hexdigest()}"
        try:
            payload = json.loads(body)
        except ValueError:
            return WebhookEvent(delivery_id)
        if not isinstance(payload, dict):
            return WebhookEvent(delivery_id)
        event = payload.get("webhookEvent")
        issue = remote_issue(payload.get("issue"), config)
        if issue is None:
            return WebhookEvent(delivery_id)
        if event == "jira:issue_deleted":
            return WebhookEvent(delivery_id, issue_id=issue.id, deleted=True)
        if event in ("jira:issue_updated", "jira:issue_created"):
            return WebhookEvent(delivery_id, issue_id=issue.id, issue=issue)
        return WebhookEvent(delivery_id)


# -- mapping --------------------------------------------------------------------------------------
def remote_issue(issue: Any, config: TrackerConfig) -> RemoteIssue | None:
    """A REST v3 or webhook v2 issue as a RemoteIssue; None without an id or key."""
    if not isinstance(issue, dict):
        return None
    issue_id, key = _id(issue.get("id")), issue.get("key")
    if issue_id is None or not isinstance(key, str) or not key:
        return None
    fields = _dict(issue.get("fields"))
    status = _dict(fields.get("status"))
    state = _str(status.get("name"))
    return RemoteIssue(
        id=issue_id,
        key=key,
        url=f"{config.base_url.rstrip('/')}/browse/{key}",
        state=state,
        status=map_status(state, _category(status), _str(_dict(fields.get("resolution")).get("name")), config),
    )


def map_status(state: str, category: str, resolution: str, config: TrackerConfig) -> ItemStatus | None:
    """Status name override first, then the category; a done issue with a wont_do resolution is wont_do."""
    override = _overridden(config.status_map, state)
    if override is not None:
        return override
    status = _STATUS_OF_CATEGORY.get(category)
    if status is ItemStatus.DONE and resolution and _fold(resolution) in _wont_do_resolutions(config.settings):
        return ItemStatus.WONT_DO
    return status


def _overridden(status_map: Mapping[str, Any], state: str) -> ItemStatus | None:
    value = status_map.get(state) if state else None
    try:
        return ItemStatus(value) if value is not None else None
    except ValueError:
        return None


def _wont_do_resolutions(settings: Mapping[str, Any]) -> frozenset[str]:
    names = settings.get("wont_do_resolutions", DEFAULT_WONT_DO_RESOLUTIONS)
    if not isinstance(names, list | tuple | set | frozenset):
        names = DEFAULT_WONT_DO_RESOLUTIONS
    return frozenset(_fold(name) for name in names if isinstance(name, str))


def _fold(text: str) -> str:
    """Resolution names compare case-insensitively, with typographic apostrophes as plain ones."""
    return text.replace("\u2019", "'").strip().casefold()


# -- request content ------------------------------------------------------------------------------
def summary(title: str) -> str:
    """Jira refuses line breaks in a summary and more than 255 characters."""
    text = " ".join(title.split()) or "Action item"
    return text if len(text) <= SUMMARY_MAX_LENGTH else text[: SUMMARY_MAX_LENGTH - 1] + "…"


def jira_label(text: str) -> str:
    """Jira labels cannot contain whitespace: runs of it become one underscore."""
    return "_".join(text.split())[:LABEL_MAX_LENGTH]


def marker_label(marker: str) -> str:
    return jira_label(marker)


def jira_labels(labels: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(label for label in map(jira_label, labels) if label))


def jql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LINK = re.compile(r"\[(?P<text>[^\]\n]*)\]\((?P<href>(?:https?://|mailto:)[^\s)]+)\)|(?P<url>https?://[^\s<>()\[\]]+)")


def to_adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: blank lines separate paragraphs, line breaks become hardBreaks,
    and Markdown links `[text](url)` as well as bare http(s) URLs become link marks."""
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    content = []
    for paragraph in paragraphs:
        lines = paragraph.strip("\n").split("\n")
        nodes: list[dict[str, Any]] = []
        for line in lines:
            if nodes:
                nodes.append({"type": "hardBreak"})
            nodes.extend(_inline(line))
        if any(node["type"] == "text" for node in nodes):
            content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def _inline(line: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    position = 0
    for match in _LINK.finditer(line):
        href = match["href"] or match["url"]
        label = match["text"] or href
        end = match.end()
        if match["url"]:
            trimmed = href.rstrip(".,;:!?'\"")
            end -= len(href) - len(trimmed)
            href = label = trimmed
        _text(nodes, line[position : match.start()])
        nodes.append({"type": "text", "text": label, "marks": [{"type": "link", "attrs": {"href": href}}]})
        position = end
    _text(nodes, line[position:])
    return nodes


def _text(nodes: list[dict[str, Any]], text: str) -> None:
    if text:
        nodes.append({"type": "text", "text": text})


# -- small readers ---------------------------------------------------------------------------------
_EXPAND_FIELDS = {"expand": "transitions.fields"}


def _issue_path(issue_id: str) -> str:
    return f"/rest/api/3/issue/{quote(issue_id, safe='')}"


def _category(status: dict[str, Any]) -> str:
    return _str(_dict(status.get("statusCategory")).get("key"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value
