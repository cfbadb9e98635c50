"""Tracker adapters: Jira Cloud, Linear and GitHub Issues behind one interface.

An adapter builds requests and parses answers for one tracker; it takes an `httpx.AsyncClient`
so tests can point it at a fake server. Failures are classified at this edge:

    TrackerError                `refused`: the tracker answered with a 4xx, so the request did
    │                           nothing; `created_issue_id`: the ticket `create_issue` had made
    │                           when a later step of it failed; `response_status`: the answer's
    │                           HTTP status, when there was an answer
    ├── RetryableTrackerError   timeouts, dropped connections, 408, 409, 429, 5xx; carries
    │                           `retry_after` seconds when the tracker said how long to wait
    └── PermanentTrackerError   any other 4xx, or an answer that cannot be understood:
                                retrying the same request cannot succeed

Webhooks are checked by `verify_webhook` on the raw body before anything is parsed, and
turned into a `WebhookEvent` by `parse_webhook`; both are pure functions of the request.
"""

import email.utils
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import httpx

from service.action_items.models import ItemStatus, Priority


class TrackerError(Exception):
    def __init__(self, message: str, *, refused: bool = False, response_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused
        self.response_status = response_status
        self.created_issue_id: str | None = None


class RetryableTrackerError(TrackerError):
    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        refused: bool = False,
        response_status: int | None = None,
    ) -> None:
        super().__init__(message, refused=refused, response_status=response_status)
        self.retry_after = retry_after


class PermanentTrackerError(TrackerError):
    pass


class InvalidSignature(Exception):
    """The webhook's signature is missing, malformed or wrong, or the delivery is stale."""


@dataclass(frozen=True)
class TrackerConfig:
    """An integration as an adapter sees it; the secrets are plaintext here and never printed."""

    kind: str
    base_url: str
    settings: Mapping[str, Any]
    token: str = field(repr=False)
    webhook_secret: str = field(default="", repr=False)
    status_map: Mapping[str, ItemStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class IssueDraft:
    """What the service wants the ticket to say."""

    marker: str  # unique per action item, embedded in the ticket so it can be found after a crash
    title: str
    body: str  # plain text with Markdown-style links: description, link back, severity, priority, deadline
    labels: tuple[str, ...]
    priority: Priority | None
    due_date: date | None
    status: ItemStatus


@dataclass(frozen=True)
class RemoteIssue:
    id: str  # the tracker's stable id of the ticket
    key: str  # what people call it: "#12", "OPS-12", "ENG-12"
    url: str  # where people open it
    state: str  # the tracker's own state, e.g. "closed:not_planned", "In Progress", "started"
    status: ItemStatus | None  # `state` mapped to an action item status; None when unmapped


@dataclass(frozen=True)
class WebhookEvent:
    delivery_id: str
    issue_id: str | None = None  # None when the event is not about a ticket (ping, other types)
    deleted: bool = False  # the ticket was deleted or moved away
    issue: RemoteIssue | None = None  # the ticket's state as carried by the event


class TrackerAdapter(Protocol):
    # True when `find_issue` may miss a ticket created moments ago, because it reads a search index
    # that lags behind the tracker's writes (Jira); the worker then guards its creates (`sync.creates`).
    find_lags: bool

    def __init__(self, config: TrackerConfig, client: httpx.AsyncClient) -> None: ...

    async def find_issue(self, marker: str, *, created_ids: Sequence[str] = ()) -> RemoteIssue | None:
        """The ticket carrying `marker`, if one was created before (idempotent create).

        `created_ids` are tickets earlier creates made for this marker, as far as their answers told
        (see `created_issue_id`): an adapter whose search lags sees them at once.
        """

    async def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        """Make the ticket; when a step after the one that made it fails, the error's `created_issue_id` says so."""

    async def update_issue(self, issue_id: str, draft: IssueDraft) -> RemoteIssue:
        """Bring title, body, labels, priority and due date in line with the draft."""

    async def set_status(self, issue_id: str, status: ItemStatus) -> RemoteIssue:
        """Move the ticket to the tracker's state for `status`."""

    async def fetch_issue(self, issue_id: str) -> RemoteIssue | None:
        """The ticket now; None when it was deleted or moved away."""


class WebhookCodec(Protocol):
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Raise InvalidSignature unless the raw body is signed with `secret` (constant-time)."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, config: TrackerConfig) -> WebhookEvent:
        """Lenient: unknown event types and fields give an event with no issue, never an error."""


def retry_after_seconds(response: httpx.Response, *, now: float | None = None) -> float | None:
    """How long the tracker asked us to wait: Retry-After (seconds or HTTP date), else rate-limit resets."""
    now = time.time() if now is None else now
    value = response.headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value.strip())
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    # GitHub and Linear send their reset times on every answer; they only say when to retry once exhausted
    for header, remaining, scale in (
        ("x-ratelimit-reset", "x-ratelimit-remaining", 1.0),
        ("x-ratelimit-requests-reset", "x-ratelimit-requests-remaining", 1000.0),
    ):
        reset = response.headers.get(header)
        if response.headers.get(remaining, "0").strip() != "0":
            continue
        if reset and reset.strip().isdigit():
            return max(0.0, int(reset) / scale - now)
    return None


def raise_for_tracker_status(response: httpx.Response) -> None:
    """Classify a non-2xx answer; GitHub signals rate limits with 403 and x-ratelimit-remaining: 0
    (primary limit) or with Retry-After (secondary limit)."""
    status = response.status_code
    if status < 300:
        return
    excerpt = response.text[:500]
    rate_limited = status == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )
    refused = 400 <= status < 500
    if status in (408, 409, 429) or status >= 500 or rate_limited:
        raise RetryableTrackerError(
            f"HTTP {status}: {excerpt}",
            retry_after=retry_after_seconds(response),
            refused=refused,
            response_status=status,
        )
    raise PermanentTrackerError(f"HTTP {status}: {excerpt}", refused=refused, response_status=status)


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send, turning transport failures into RetryableTrackerError and answers into their class."""
    try:
        response = await client.send(request)
    except httpx.TransportError as exc:
        raise RetryableTrackerError(f"{type(exc).__name__}: {exc}") from exc
    raise_for_tracker_status(response)
    return response


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise PermanentTrackerError(f"the tracker answered with invalid JSON: {response.text[:200]}") from exc
