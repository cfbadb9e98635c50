"""GitHub Issues through the REST API (version 2022-11-28) and its `issues` and `ping` webhooks.

A ticket is addressed by its number in the configured repository: `RemoteIssue.id` is the issue
number ("1347"), `key` is "#1347" and `url` the issue's page. Pull requests share the numbering
but are never treated as tickets.

GitHub has no priority or due date fields, so both travel as labels (`priority:P1`,
`due:2025-03-01`) next to the draft's own labels, and in the body the service writes.

Statuses. `RemoteIssue.state`, and the keys of `TrackerConfig.status_map`, are lower-case strings:

    open                   an open issue             -> open
    open:reopened          reopened (state_reason)   -> open
    closed                 closed, no state_reason   -> done
    closed:completed                                 -> done
    closed:not_planned                               -> wont_do
    closed:duplicate                                 -> wont_do
    label:<name>           an OPEN issue carrying a label that the map names, e.g.
                           label:in-progress         -> in_progress

A label key wins over `open` only while the issue is open; a closed issue is closed whatever its
labels say. `status_map` entries are merged over these defaults (so `{"label:doing": "in_progress"}`
adds a label, `{"closed:duplicate": "done"}` changes a mapping); anything else, e.g. a state_reason
GitHub adds later, maps to None.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final

import httpx
from pydantic import Field, ValidationError, field_validator

from service.action_items.models import ItemStatus
from service.core.schemas import InputModel
from service.trackers.base import (
    InvalidSignature,
    IssueDraft,
    PermanentTrackerError,
    RemoteIssue,
    RetryableTrackerError,
    TrackerConfig,
    WebhookEvent,
    json_body,
    raise_for_tracker_status,
    send,
)

DEFAULT_BASE_URL: str | None = "https://api.github.com"
API_VERSION: Final = "2022-11-28"
MEDIA_TYPE: Final = "application/vnd.github+json"
USER_AGENT: Final = "postmortems-tracker-sync"

LABEL_PREFIX: Final = "label:"
DEFAULT_STATUS_MAP: Final[Mapping[str, ItemStatus]] = {
    "open": ItemStatus.OPEN,
    "open:reopened": ItemStatus.OPEN,
    "closed": ItemStatus.DONE,
    "closed:completed": ItemStatus.DONE,
    "closed:not_planned": ItemStatus.WONT_DO,
    "closed:duplicate": ItemStatus.WONT_DO,
    "label:in-progress": ItemStatus.IN_PROGRESS,
}
CLOSE_REASONS: Final[Mapping[ItemStatus, str]] = {ItemStatus.DONE: "completed", ItemStatus.WONT_DO: "not_planned"}

# The issues list is read straight from the database, so it sees an issue the moment it was
# created; the search index lags behind by seconds to minutes but reaches every issue ever made.
RECENT_ISSUES_SCANNED: Final = 100
# Actions after which the issue's state may mean another status; others are acknowledged and ignored.
STATUS_ACTIONS: Final = frozenset({"opened", "edited", "closed", "reopened", "labeled", "unlabeled"})
GONE_ACTIONS: Final = frozenset({"deleted", "transferred"})
SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
SIGNATURE_PREFIX: Final = "sha256="


class GitHubSettings(InputModel):
    owner: Annotated[str, Field(min_length=1, max_length=39, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    repo: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]

    @field_validator("repo")
    @classmethod
    def _not_a_relative_path(cls, value: str) -> str:
        if value in (".", ".."):
            raise ValueError("is not a repository name")
        return value


def marker_line(marker: str) -> str:
    """The line carrying the marker at the end of the body: small print, and a phrase search can find."""
    return f"<sub>postmortems sync ref: {marker}</sub>"


def status_map(config: TrackerConfig) -> dict[str, ItemStatus]:
    merged = dict(DEFAULT_STATUS_MAP)
    for key, value in config.status_map.items():
        try:
            merged[key.strip().lower()] = ItemStatus(value)
        except ValueError:
            continue  # a stored override naming no status is ignored rather than breaking every sync
    return merged


def raw_state(issue: Mapping[str, Any], mapping: Mapping[str, ItemStatus]) -> str:
    state = str(issue.get("state") or "").lower()
    if state == "open":
        names = {name.lower() for name in _label_names(issue)}
        for key in mapping:
            if key.startswith(LABEL_PREFIX) and key[len(LABEL_PREFIX) :] in names:
                return key
    reason = issue.get("state_reason")
    return f"{state}:{str(reason).lower()}" if reason else state


def remote_issue(issue: Mapping[str, Any], mapping: Mapping[str, ItemStatus]) -> RemoteIssue:
    number = issue.get("number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise PermanentTrackerError(f"GitHub answered with an issue without a number: {str(issue)[:200]}")
    state = raw_state(issue, mapping)
    return RemoteIssue(
        id=str(number), key=f"#{number}", url=str(issue.get("html_url") or ""), state=state, status=mapping.get(state)
    )


class GitHubAdapter:
    """Issues in one repository, reached with a Bearer token (a fine-grained or classic personal
    access token, or a GitHub App installation token) that may write issues and labels."""

    find_lags = False  # the recent issues list shows an issue the moment it is created

    def __init__(self, config: TrackerConfig, client: httpx.AsyncClient) -> None:
        try:
            self._settings = GitHubSettings.model_validate(dict(config.settings))
        except ValidationError as exc:
            raise PermanentTrackerError(f"invalid GitHub settings: {exc.errors(include_input=False)}") from exc
        self._config = config
        self._client = client
        self._base_url = config.base_url.rstrip("/")
        self._repo_path = f"/repos/{self._settings.owner}/{self._settings.repo}"
        self._map = status_map(config)
        self._status_labels = [key[len(LABEL_PREFIX) :] for key in self._map if key.startswith(LABEL_PREFIX)]
        self._in_progress_label = next(
            (key[len(LABEL_PREFIX) :] for key in self._in_progress_keys()),
            None,
        )

    def _in_progress_keys(self) -> Iterable[str]:
        overrides = [key.strip().lower() for key in self._config.status_map]
        ordered = [*overrides, *(key for key in self._map if key not in overrides)]
        return (key for key in ordered if key.startswith(LABEL_PREFIX) and self._map[key] == ItemStatus.IN_PROGRESS)

    # -- requests -----------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str | int] | None = None
    ) -> httpx.Request:
        headers = {
            "Accept": MEDIA_TYPE,
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {self._config.token}",
            "User-Agent": USER_AGENT,
        }
        return self._client.build_request(
            method, f"{self._base_url}{path}", headers=headers, json=json, params=dict(params or {})
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return json_body(await send(self._client, self._request(method, path, **kwargs)))

    def _issue_path(self, issue_id: str) -> str:
        if not issue_id.isdigit():
            raise PermanentTrackerError(f"not a GitHub issue number: {issue_id!r}")
        return f"{self._repo_path}/issues/{int(issue_id)}"

    def _parse(self, issue: Any) -> RemoteIssue:
        if not isinstance(issue, dict):
            raise PermanentTrackerError(f"GitHub answered with something that is not an issue: {str(issue)[:200]}")
        return remote_issue(issue, self._map)

    # -- the adapter ----------------------------------------------------------------------------
    async def find_issue(self, marker: str, *, created_ids: Sequence[str] = ()) -> RemoteIssue | None:
        """The issue whose body carries `marker_line(marker)`, found in two steps (`created_ids` are not
        needed: the first is consistent).

        1. The 100 most recently created issues of the repository (`GET /repos/{owner}/{repo}/issues`,
           state=all, newest first). This list is consistent: an issue created a moment ago, whose
           answer was lost when the worker crashed, is already in it. This is the case that matters.
        2. Otherwise the search API (`GET /search/issues`, the quoted marker, `in:body`, `is:issue`,
           `repo:`), which reaches older issues but indexes new ones only after a delay, so it cannot
           be the only source.

        Every hit is confirmed by an exact match of the marker line in the body; when several
        issues carry it (duplicates made by hand), the oldest wins. Labels were not used: one label
        per action item would clutter the repository, and labels are dropped silently for tokens
        without push access.
        """
        line = marker_line(marker)
        recent = await self._call(
            "GET",
            f"{self._repo_path}/issues",
            params={"state": "all", "sort": "created", "direction": "desc", "per_page": RECENT_ISSUES_SCANNED},
        )
        found = self._oldest_carrying(recent, line)
        if found is not None:
            return found
        phrase = marker.replace('"', " ")
        query = f'"{phrase}" in:body is:issue repo:{self._settings.owner}/{self._settings.repo}'
        result = await self._call(
            "GET", "/search/issues", params={"q": query, "sort": "created", "order": "asc", "per_page": 100}
        )
        items = result.get("items") if isinstance(result, dict) else None
        return self._oldest_carrying(items, line)

    def _oldest_carrying(self, issues: Any, line: str) -> RemoteIssue | None:
        if not isinstance(issues, list):
            raise PermanentTrackerError(f"GitHub answered with something that is not a list: {str(issues)[:200]}")
        candidates = [
            issue
            for issue in issues
            if isinstance(issue, dict)
            and "pull_request" not in issue
            and line in str(issue.get("body") or "")
            and self._in_this_repository(issue)
        ]
        if not candidates:
            return None
        return self._parse(min(candidates, key=lambda issue: int(issue.get("number") or 0)))

    def _in_this_repository(self, issue: Mapping[str, Any]) -> bool:
        url = str(issue.get("repository_url") or "")
        return url.lower().endswith(self._repo_path.lower())

    async def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        """`POST /repos/{owner}/{repo}/issues`, then close it when the draft is already done or
        won't be done. If that second step fails the issue exists open: `find_issue` finds it and
        `set_status` finishes the job."""
        labels = self._labels(draft)
        if draft.status == ItemStatus.IN_PROGRESS and self._in_progress_label:
            labels = _merge(labels, [self._in_progress_label])
        payload = {"title": draft.title, "body": self._body(draft), "labels": labels}
        created = self._parse(await self._call("POST", f"{self._repo_path}/issues", json=payload))
        if draft.status in CLOSE_REASONS:
            return await self.set_status(created.id, draft.status)
        return created

    async def update_issue(self, issue_id: str, draft: IssueDraft) -> RemoteIssue:
        """`PATCH` title, body and labels. GitHub replaces the whole label set, so the current one is
        read first: labels people added on GitHub and the status labels stay, while the labels this
        service manages (the draft's, and any label sharing a `prefix:` with one of them, such as an
        earlier `priority:P2`) are replaced by the draft's."""
        path = self._issue_path(issue_id)
        current = await self._call("GET", path)
        wanted = self._labels(draft)
        prefixes = {label.split(":", 1)[0].lower() + ":" for label in wanted if ":" in label}
        managed = {label.lower() for label in wanted}
        kept = [
            name
            for name in _label_names(current if isinstance(current, dict) else {})
            if name.lower() not in managed and not any(name.lower().startswith(prefix) for prefix in prefixes)
        ]
        payload = {"title": draft.title, "body": self._body(draft), "labels": _merge(kept, wanted)}
        return self._parse(await self._call("PATCH", path, json=payload))

    async def set_status(self, issue_id: str, status: ItemStatus) -> RemoteIssue:
        """open: reopen; in_progress: open with the in-progress label; done: close as completed;
        wont_do: close as not planned. Status labels are removed unless the status is in_progress.
        State is only sent when the issue maps to another status, so an issue closed as duplicate
        stays a duplicate when the item is marked won't do, and nothing is sent when all agrees."""
        path = self._issue_path(issue_id)
        current = await self._call("GET", path)
        if not isinstance(current, dict):
            raise PermanentTrackerError(f"GitHub answered with something that is not an issue: {str(current)[:200]}")
        names = _label_names(current)
        status_labels = {label.lower() for label in self._status_labels}
        labels = [name for name in names if name.lower() not in status_labels]
        if status == ItemStatus.IN_PROGRESS and self._in_progress_label:
            labels = _merge(labels, [self._in_progress_label])
        payload: dict[str, Any] = {}
        if [name.lower() for name in labels] != [name.lower() for name in names]:
            payload["labels"] = labels
        reason = CLOSE_REASONS.get(status)
        if reason is not None and self._map.get(raw_state(current, self._map)) != status:
            payload.update(state="closed", state_reason=reason)
        elif reason is None and current.get("state") != "open":
            payload.update(state="open", state_reason="reopened")
        if not payload:
            return self._parse(current)
        return self._parse(await self._call("PATCH", path, json=payload))

    async def fetch_issue(self, issue_id: str) -> RemoteIssue | None:
        """`GET` the issue; None when GitHub says it was transferred (301), is unknown or out of
        reach (404) or deleted (410), or when a redirect-following client ended up in another repository."""
        request = self._request("GET", self._issue_path(issue_id))
        try:
            response = await self._client.send(request)
        except httpx.TransportError as exc:
            raise RetryableTrackerError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in (301, 404, 410):
            return None
        raise_for_tracker_status(response)
        issue = json_body(response)
        if isinstance(issue, dict) and not self._in_this_repository(issue):
            return None
        return self._parse(issue)

    # -- bodies -----------------------------------------------------------------------------------
    def _body(self, draft: IssueDraft) -> str:
        return f"{draft.body.rstrip()}\n\n{marker_line(draft.marker)}"

    def _labels(self, draft: IssueDraft) -> list[str]:
        extra = []
        if draft.priority is not None:
            extra.append(f"priority:{draft.priority.value}")
        if draft.due_date is not None:
            extra.append(f"due:{draft.due_date.isoformat()}")
        return _merge(list(draft.labels), extra)


class GitHubWebhooks:
    """Repository (or organization) webhooks with content type `application/json`, a secret, and the
    `Issues` event. Deliveries are signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`,
    named by `X-GitHub-Event` and identified by `X-GitHub-Delivery` (kept on redelivery)."""

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        if not secret:
            raise InvalidSignature("no webhook secret is configured")
        signature = _header(headers, SIGNATURE_HEADER)
        if signature is None:
            raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
        signature = signature.strip()
        hex_digest = signature[len(SIGNATURE_PREFIX) :].lower()
        if not signature.startswith(SIGNATURE_PREFIX) or len(hex_digest) != 64 or not _is_hex(hex_digest):
            raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, hex_digest):
            raise InvalidSignature("signature does not match")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, config: TrackerConfig) -> WebhookEvent:
        delivery_id = (_header(headers, "X-GitHub-Delivery") or "").strip()
        if not delivery_id:
            delivery_id = "sha256:" + hashlib.sha256(body).hexdigest()
        event = WebhookEvent(delivery_id=delivery_id)
        if (_header(headers, "X-GitHub-Event") or "").strip().lower() != "issues":
            return event  # ping and every other event type are acknowledged, nothing more
        try:
            payload = json.loads(body)
        except ValueError:
            return event
        if not isinstance(payload, dict):
            return event
        action = payload.get("action")
        issue = payload.get("issue")
        number = issue.get("number") if isinstance(issue, dict) else None
        if not isinstance(issue, dict) or not isinstance(number, int) or isinstance(number, bool):
            return event
        if not _same_repository(payload.get("repository"), config):
            return event
        if action in GONE_ACTIONS:
            return WebhookEvent(delivery_id=delivery_id, issue_id=str(number), deleted=True)
        if action not in STATUS_ACTIONS:
            return event
        remote = remote_issue(issue, status_map(config)) if issue.get("state") in ("open", "closed") else None
        return WebhookEvent(delivery_id=delivery_id, issue_id=str(number), issue=remote)


def _same_repository(repository: Any, config: TrackerConfig) -> bool:
    """Organization webhooks deliver every repository's issues; only the configured one is ours."""
    if not isinstance(repository, dict) or not repository.get("full_name"):
        return True
    owner, repo = config.settings.get("owner"), config.settings.get("repo")
    return str(repository["full_name"]).lower() == f"{owner}/{repo}".lower()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def _is_hex(value: str) -> bool:
    return all(char in "0123456789abcdef" for char in value)


def _label_names(issue: Mapping[str, Any]) -> list[str]:
    labels = issue.get("labels")
    if not isinstance(labels, list):
        return []
    names = []
    for label in labels:
        name = label.get("name") if isinstance(label, dict) else label
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _merge(first: list[str], second: Iterable[str]) -> list[str]:
    """Both lists in order, without repeating a label (GitHub compares label names case-insensitively)."""
    seen: set[str] = set()
    merged = []
    for label in [*first, *second]:
        if label.lower() not in seen:
            seen.add(label.lower())
            merged.append(label)
    return merged
