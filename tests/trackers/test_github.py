import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.action_items.models import ItemStatus, Priority
from service.trackers.base import (
    InvalidSignature,
    IssueDraft,
    PermanentTrackerError,
    RetryableTrackerError,
    TrackerConfig,
    WebhookEvent,
)
from service.trackers.github import (
    DEFAULT_BASE_URL,
    GitHubAdapter,
    GitHubSettings,
    GitHubWebhooks,
    marker_line,
)
from tests.fakes.github import (
    ISSUE_SCHEMA,
    FakeGitHub,
    example_payloads,
    rest_validator,
    signature,
    signed_delivery,
    webhook_schema_errors,
)
from tests.fakes.server import Fault

SECRET = "It's a Secret to Everybody"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WEBHOOKS = GitHubWebhooks()


@pytest.fixture(scope="module")
def github_server() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with fake:
        yield fake


@pytest.fixture
def fake(github_server: FakeGitHub) -> Iterator[FakeGitHub]:
    github_server.reset()
    yield github_server
    assert github_server.violations == []


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def adapter(fake: FakeGitHub, http: httpx.AsyncClient) -> GitHubAdapter:
    return GitHubAdapter(config_for(fake), http)


def config_for(
    fake: FakeGitHub, *, status_map: dict[str, Any] | None = None, token: str | None = None, **settings: str
) -> TrackerConfig:
    return TrackerConfig(
        kind="github",
        base_url=fake.base_url,
        settings={"owner": fake.owner, "repo": fake.repo, **settings},
        token=fake.token if token is None else token,
        webhook_secret=SECRET,
        status_map=status_map or {},
    )


def draft(**overrides: Any) -> IssueDraft:
    values: dict[str, Any] = {
        "marker": f"pm-action-item-{uuid.uuid4()}",
        "title": "Alert on replication lag",
        "body": "Page the on-call when lag exceeds 30 s.\n\n"
        "From [Postmortem: primary database failover](https://postmortems.example/postmortems/42)\n"
        "Severity: SEV2 · Priority: P1 · Due: 2025-03-01",
        "labels": ("postmortem", "severity:SEV2"),
        "priority": Priority.P1,
        "due_date": date(2025, 3, 1),
        "status": ItemStatus.OPEN,
    }
    return IssueDraft(**{**values, **overrides})


def sent(fake: FakeGitHub, method: str) -> list[Any]:
    return [request for request in fake.requests if request.method == method]


# -- settings --------------------------------------------------------------------------------------
def test_default_base_url_is_the_public_api() -> None:
    assert DEFAULT_BASE_URL == "https://api.github.com"


@pytest.mark.parametrize(
    "settings",
    [
        {"owner": "acme"},
        {"owner": "acme", "repo": "ops", "project": "x"},
        {"owner": "acme/other", "repo": "ops"},
        {"owner": "acme", "repo": ".."},
        {"owner": "acme", "repo": "ops/issues"},
        {"owner": "", "repo": "ops"},
    ],
)
def test_settings_refuse_what_is_not_an_owner_and_repository(settings: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        GitHubSettings.model_validate(settings)


def test_adapter_refuses_invalid_settings_as_a_permanent_error(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    config = TrackerConfig(kind="github", base_url=fake.base_url, settings={"owner": "acme"}, token="t")
    with pytest.raises(PermanentTrackerError, match="invalid GitHub settings"):
        GitHubAdapter(config, http)


# -- create ----------------------------------------------------------------------------------------
async def test_create_issue_sends_the_documented_request(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    item = draft()
    issue = await adapter.create_issue(item)

    assert (issue.id, issue.key, issue.state, issue.status) == ("1", "#1", "open", ItemStatus.OPEN)
    assert issue.url == f"https://github.com/{fake.full_name}/issues/1"
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/repos/acme/incident-followups/issues")
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["authorization"] == f"Bearer {fake.token}"
    assert request.json["title"] == item.title
    assert request.json["body"] == f"{item.body}\n\n{marker_line(item.marker)}"
    assert request.json["labels"] == ["postmortem", "severity:SEV2", "priority:P1", "due:2025-03-01"]
    assert fake.label_names(1) == ["postmortem", "severity:SEV2", "priority:P1", "due:2025-03-01"]


async def test_create_issue_without_priority_or_due_date_sends_only_the_drafts_labels(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    await adapter.create_issue(draft(priority=None, due_date=None, labels=("postmortem", "Postmortem")))

    assert fake.label_names(1) == ["postmortem"]


@pytest.mark.parametrize(
    ("status", "state", "state_reason", "labels"),
    [
        (ItemStatus.OPEN, "open", None, []),
        (ItemStatus.IN_PROGRESS, "open", None, ["in-progress"]),
        (ItemStatus.DONE, "closed", "completed", []),
        (ItemStatus.WONT_DO, "closed", "not_planned", []),
    ],
)
async def test_create_issue_brings_the_new_issue_to_the_drafts_status(
    fake: FakeGitHub,
    adapter: GitHubAdapter,
    status: ItemStatus,
    state: str,
    state_reason: str | None,
    labels: list[str],
) -> None:
    issue = await adapter.create_issue(draft(labels=(), priority=None, due_date=None, status=status))

    assert issue.status == status
    stored = fake.issues[int(issue.id)]
    assert (stored["state"], stored["state_reason"], fake.label_names(1)) == (state, state_reason, labels)


async def test_fake_answers_with_issues_valid_against_the_published_schema(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    issue = await adapter.create_issue(draft(status=ItemStatus.WONT_DO))
    await adapter.fetch_issue(issue.id)

    validator = rest_validator(ISSUE_SCHEMA)
    assert [error.message for error in validator.iter_errors(fake.issues[1])] == []
    assert len(fake.requests) == 4  # create, read before closing, close, fetch


# -- find by marker (idempotent create) ------------------------------------------------------------
async def test_find_issue_finds_an_issue_created_a_moment_ago_before_search_indexes_it(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    item = draft()
    created = await adapter.create_issue(item)
    assert fake.indexed == set()

    assert await adapter.find_issue(item.marker) == created
    [listing] = sent(fake, "GET")
    assert listing.path == "/repos/acme/incident-followups/issues"


async def test_find_issue_finds_the_issue_whose_creation_answer_was_lost(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    item = draft()
    fake.faults.append(Fault(after=True, drop=True, path_contains="/issues"))
    with pytest.raises(RetryableTrackerError):
        await adapter.create_issue(item)

    found = await adapter.find_issue(item.marker)

    assert found is not None
    assert found.id == "1"
    assert list(fake.issues) == [1]


async def test_find_issue_reaches_older_issues_through_search(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    item = draft()
    fake.seed_issue(item.title, f"{item.body}\n\n{marker_line(item.marker)}", state="closed", state_reason="completed")
    for number in range(100):
        fake.seed_issue(f"Later issue {number}", "Unrelated")

    found = await adapter.find_issue(item.marker)

    assert found is not None
    assert (found.id, found.status) == ("1", ItemStatus.DONE)
    assert [path for path, _ in fake.queries] == ["/repos/acme/incident-followups/issues", "/search/issues"]


async def test_find_issue_lists_newest_issues_then_searches_for_the_quoted_marker(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    assert await adapter.find_issue("pm-action-item-7") is None

    assert fake.queries == [
        (
            "/repos/acme/incident-followups/issues",
            {"state": "all", "sort": "created", "direction": "desc", "per_page": "100"},
        ),
        (
            "/search/issues",
            {
                "q": '"pm-action-item-7" in:body is:issue repo:acme/incident-followups',
                "sort": "created",
                "order": "asc",
                "per_page": "100",
            },
        ),
    ]


async def test_find_issue_ignores_issues_carrying_only_a_longer_marker(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    fake.seed_issue("Other item", f"Text\n\n{marker_line('pm-action-item-12')}")

    assert await adapter.find_issue("pm-action-item-1") is None


async def test_find_issue_ignores_pull_requests_carrying_the_marker(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    fake.seed_issue("Fix lag alert", f"Closes it\n\n{marker_line('pm-action-item-1')}", pull_request=True)

    assert await adapter.find_issue("pm-action-item-1") is None


async def test_find_issue_prefers_the_oldest_of_two_issues_carrying_the_marker(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    line = marker_line("pm-action-item-1")
    fake.seed_issue("First", f"Body\n\n{line}")
    fake.seed_issue("Copy made by hand", f"Body\n\n{line}")

    found = await adapter.find_issue("pm-action-item-1")

    assert found is not None
    assert found.id == "1"


# -- update ----------------------------------------------------------------------------------------
async def test_update_issue_replaces_managed_labels_and_keeps_the_ones_people_added(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    item = draft()
    created = await adapter.create_issue(item)
    fake.edit_on_github(1, labels=[*fake.label_names(1), "bug", "in-progress"])

    changed = draft(
        marker=item.marker,
        title="Alert on replication lag above 10 s",
        body="Page the on-call when lag exceeds 10 s.",
        labels=("postmortem", "severity:SEV1"),
        priority=Priority.P0,
        due_date=date(2025, 2, 20),
    )
    updated = await adapter.update_issue(created.id, changed)

    assert (updated.id, updated.status) == ("1", ItemStatus.IN_PROGRESS)
    stored = fake.issues[1]
    assert stored["title"] == "Alert on replication lag above 10 s"
    assert stored["body"] == f"Page the on-call when lag exceeds 10 s.\n\n{marker_line(item.marker)}"
    assert fake.label_names(1) == ["bug", "in-progress", "postmortem", "severity:SEV1", "priority:P0", "due:2025-02-20"]
    patch = sent(fake, "PATCH")[-1]
    assert patch.path == "/repos/acme/incident-followups/issues/1"
    assert "state" not in patch.json


async def test_update_issue_of_a_deleted_issue_is_permanent(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    created = await adapter.create_issue(draft())
    fake.delete_issue(int(created.id))

    with pytest.raises(PermanentTrackerError, match="410"):
        await adapter.update_issue(created.id, draft())


@pytest.mark.parametrize("issue_id", ["", "abc", "1/comments", "-3", "#1"])
async def test_issue_ids_that_are_not_numbers_are_refused(adapter: GitHubAdapter, issue_id: str) -> None:
    with pytest.raises(PermanentTrackerError, match="not a GitHub issue number"):
        await adapter.fetch_issue(issue_id)


# -- status ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "state", "state_reason", "labels"),
    [
        (ItemStatus.OPEN, "open", "reopened", ["postmortem"]),
        (ItemStatus.IN_PROGRESS, "open", "reopened", ["postmortem", "In-Progress"]),
        (ItemStatus.DONE, "closed", "completed", ["postmortem"]),
        (ItemStatus.WONT_DO, "closed", "duplicate", ["postmortem"]),
    ],
)
async def test_set_status_moves_an_issue_closed_as_duplicate_to_every_status(
    fake: FakeGitHub,
    adapter: GitHubAdapter,
    status: ItemStatus,
    state: str,
    state_reason: str,
    labels: list[str],
) -> None:
    fake.seed_issue("Item", "Body", state="closed", state_reason="duplicate", labels=("postmortem", "In-Progress"))

    issue = await adapter.set_status("1", status)

    assert issue.status == status
    stored = fake.issues[1]
    assert (stored["state"], stored["state_reason"], fake.label_names(1)) == (state, state_reason, labels)
    assert (await adapter.fetch_issue("1")) == issue


async def test_set_status_walks_an_issue_through_its_life(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    created = await adapter.create_issue(draft(labels=("postmortem",), priority=None, due_date=None))
    steps = [ItemStatus.IN_PROGRESS, ItemStatus.DONE, ItemStatus.OPEN, ItemStatus.WONT_DO, ItemStatus.IN_PROGRESS]

    seen = []
    for status in steps:
        issue = await adapter.set_status(created.id, status)
        seen.append((issue.status, issue.state))

    assert seen == [
        (ItemStatus.IN_PROGRESS, "label:in-progress"),
        (ItemStatus.DONE, "closed:completed"),
        (ItemStatus.OPEN, "open:reopened"),
        (ItemStatus.WONT_DO, "closed:not_planned"),
        (ItemStatus.IN_PROGRESS, "label:in-progress"),
    ]
    assert [request.json for request in sent(fake, "PATCH")] == [
        {"labels": ["postmortem", "in-progress"]},
        {"labels": ["postmortem"], "state": "closed", "state_reason": "completed"},
        {"state": "open", "state_reason": "reopened"},
        {"state": "closed", "state_reason": "not_planned"},
        {"labels": ["postmortem", "in-progress"], "state": "open", "state_reason": "reopened"},
    ]


@pytest.mark.parametrize(
    ("state", "state_reason", "labels", "status"),
    [
        ("open", None, (), ItemStatus.OPEN),
        ("open", None, ("in-progress",), ItemStatus.IN_PROGRESS),
        ("closed", None, (), ItemStatus.DONE),
        ("closed", "completed", (), ItemStatus.DONE),
        ("closed", "duplicate", (), ItemStatus.WONT_DO),
        ("closed", "not_planned", (), ItemStatus.WONT_DO),
    ],
)
async def test_set_status_sends_nothing_when_the_issue_already_says_so(
    fake: FakeGitHub,
    adapter: GitHubAdapter,
    state: str,
    state_reason: str | None,
    labels: tuple[str, ...],
    status: ItemStatus,
) -> None:
    fake.seed_issue("Item", "Body", state=state, state_reason=state_reason, labels=labels)

    issue = await adapter.set_status("1", status)

    assert issue.status == status
    assert sent(fake, "PATCH") == []
    assert fake.issues[1]["state_reason"] == state_reason


# -- fetch and the status mapping ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "state_reason", "labels", "raw", "status"),
    [
        ("open", None, ("bug",), "open", ItemStatus.OPEN),
        ("open", "reopened", (), "open:reopened", ItemStatus.OPEN),
        ("open", None, ("bug", "In-Progress"), "label:in-progress", ItemStatus.IN_PROGRESS),
        ("closed", None, (), "closed", ItemStatus.DONE),
        ("closed", "completed", ("in-progress",), "closed:completed", ItemStatus.DONE),
        ("closed", "not_planned", (), "closed:not_planned", ItemStatus.WONT_DO),
        ("closed", "duplicate", (), "closed:duplicate", ItemStatus.WONT_DO),
        ("closed", "archived", (), "closed:archived", None),
    ],
)
async def test_fetch_issue_maps_githubs_state_to_a_status(
    fake: FakeGitHub,
    adapter: GitHubAdapter,
    state: str,
    state_reason: str | None,
    labels: tuple[str, ...],
    raw: str,
    status: ItemStatus | None,
) -> None:
    fake.seed_issue("Item", "Body", state=state, state_reason=state_reason, labels=labels)

    issue = await adapter.fetch_issue("1")

    assert issue is not None
    assert (issue.id, issue.key, issue.state, issue.status) == ("1", "#1", raw, status)


async def test_status_map_overrides_the_defaults_per_integration(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    overrides = {"closed:duplicate": ItemStatus.DONE, "Label:Doing": ItemStatus.IN_PROGRESS, "closed": "finished"}
    adapter = GitHubAdapter(config_for(fake, status_map=overrides), http)
    fake.seed_issue("Duplicate", "Body", state="closed", state_reason="duplicate")
    fake.seed_issue("Being worked on", "Body", labels=("doing",))
    fake.seed_issue("Closed long ago", "Body", state="closed")

    fetched = [await adapter.fetch_issue(str(number)) for number in (1, 2, 3)]

    assert [(issue.state, issue.status) if issue else None for issue in fetched] == [
        ("closed:duplicate", ItemStatus.DONE),
        ("label:doing", ItemStatus.IN_PROGRESS),
        ("closed", ItemStatus.DONE),
    ]
    fake.seed_issue("New", "Body")
    assert (await adapter.set_status("4", ItemStatus.IN_PROGRESS)).state == "label:doing"
    assert fake.label_names(4) == ["doing"]


async def test_fetch_issue_is_none_for_deleted_transferred_and_unknown_issues(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    for _ in range(3):
        fake.seed_issue("Item", "Body")
    fake.delete_issue(1)
    fake.transfer_issue(2)

    assert [await adapter.fetch_issue(number) for number in ("1", "2", "99")] == [None, None, None]
    assert await adapter.fetch_issue("3") is not None


async def test_fetch_issue_is_none_when_a_redirect_following_client_lands_in_another_repository(
    fake: FakeGitHub,
) -> None:
    fake.seed_issue("Item", "Body")
    fake.transfer_issue(1)

    async with httpx.AsyncClient(timeout=5.0, follow_redirects=True) as client:
        assert await GitHubAdapter(config_for(fake), client).fetch_issue("1") is None
    assert [request.path for request in fake.requests] == [
        "/repos/acme/incident-followups/issues/1",
        "/repositories/424242/issues/1",
    ]


# -- error classification ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "headers", "retry_after"),
    [
        (500, {}, None),
        (502, {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": "4102444800"}, None),
        (503, {"Retry-After": "7"}, 7.0),
        (408, {}, None),
        (409, {}, None),
        (429, {"Retry-After": "30"}, 30.0),
        (403, {"Retry-After": "60", "x-ratelimit-remaining": "12"}, 60.0),
    ],
)
async def test_transient_answers_are_retryable(
    fake: FakeGitHub, adapter: GitHubAdapter, status: int, headers: dict[str, str], retry_after: float | None
) -> None:
    fake.faults.append(Fault(status=status, headers=headers))

    with pytest.raises(RetryableTrackerError) as caught:
        await adapter.create_issue(draft())

    assert caught.value.retry_after == retry_after
    assert fake.issues == {}


@pytest.mark.parametrize("status", [403, 429])
async def test_exhausted_rate_limit_is_retried_after_its_reset(
    fake: FakeGitHub, adapter: GitHubAdapter, status: int
) -> None:
    reset = int(time.time()) + 120
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    fake.faults.append(Fault(status=status, headers=headers))

    with pytest.raises(RetryableTrackerError) as caught:
        await adapter.fetch_issue("1")

    assert caught.value.retry_after is not None
    assert 60 < caught.value.retry_after <= 120


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_client_errors_are_permanent(fake: FakeGitHub, adapter: GitHubAdapter, status: int) -> None:
    fake.faults.append(Fault(status=status))

    with pytest.raises(PermanentTrackerError, match=f"HTTP {status}"):
        await adapter.create_issue(draft())


async def test_a_fetch_answered_with_an_error_is_classified(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    fake.faults.extend([Fault(status=500), Fault(status=401)])

    with pytest.raises(RetryableTrackerError):
        await adapter.fetch_issue("1")
    with pytest.raises(PermanentTrackerError):
        await adapter.fetch_issue("1")


async def test_a_rejected_token_is_permanent(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    adapter = GitHubAdapter(config_for(fake, token="ghp_revoked"), http)

    with pytest.raises(PermanentTrackerError, match="Bad credentials"):
        await adapter.create_issue(draft())


async def test_an_unknown_repository_is_permanent(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    adapter = GitHubAdapter(config_for(fake, repo="gone"), http)

    with pytest.raises(PermanentTrackerError, match="HTTP 404"):
        await adapter.find_issue("pm-action-item-1")


async def test_a_client_timeout_is_retryable(fake: FakeGitHub) -> None:
    fake.faults.append(Fault(delay=1.0, status=503))

    async with httpx.AsyncClient(timeout=0.1) as client:
        with pytest.raises(RetryableTrackerError, match="Timeout"):
            await GitHubAdapter(config_for(fake), client).create_issue(draft())


@pytest.mark.parametrize("after", [False, True])
async def test_a_dropped_connection_is_retryable(fake: FakeGitHub, adapter: GitHubAdapter, after: bool) -> None:
    fake.faults.append(Fault(drop=True, after=after))

    with pytest.raises(RetryableTrackerError):
        await adapter.create_issue(draft())

    assert len(fake.issues) == int(after)


async def test_an_answer_that_is_not_an_issue_is_permanent(fake: FakeGitHub, adapter: GitHubAdapter) -> None:
    fake.faults.append(Fault(status=201))

    with pytest.raises(PermanentTrackerError, match="without a number"):
        await adapter.create_issue(draft())


# -- the fake enforces the contract --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "body", "complaint"),
    [
        ({"Accept": "application/json"}, {"title": "x"}, "Accept"),
        ({"X-GitHub-Api-Version": "2020-01-01"}, {"title": "x"}, "X-GitHub-Api-Version"),
        ({"Authorization": "token ghp_fake"}, {"title": "x"}, "Bearer"),
        ({}, {"body": "no title"}, "'title' is a required property"),
        ({}, {"title": "x", "labels": "bug"}, "is not of type 'array'"),
    ],
)
async def test_fake_refuses_requests_that_break_the_contract(
    github_server: FakeGitHub, http: httpx.AsyncClient, headers: dict[str, str], body: Any, complaint: str
) -> None:
    github_server.reset()
    base = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Authorization": f"Bearer {github_server.token}",
    }
    url = f"{github_server.base_url}/repos/{github_server.full_name}/issues"

    response = await http.post(url, headers={**base, **headers}, json=body)

    assert response.status_code >= 400
    assert len(github_server.violations) == 1
    assert complaint in github_server.violations[0]
    assert github_server.issues == {}
    github_server.reset()


# -- webhooks: signatures -----------------------------------------------------------------------------
def test_a_delivery_signed_with_the_secret_is_accepted() -> None:
    headers, body = signed_delivery({"action": "opened"}, SECRET)

    WEBHOOKS.verify_webhook(headers, body, SECRET, NOW)
    WEBHOOKS.verify_webhook({name.lower(): value for name, value in headers.items()}, body, SECRET, NOW)


def test_githubs_documented_signature_example_is_accepted() -> None:
    """The example from GitHub's "Validating webhook deliveries" guide."""
    signed = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    WEBHOOKS.verify_webhook({"X-Hub-Signature-256": signed}, b"Hello, World!", SECRET, NOW)


def _tamper(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    return headers, body.replace(b"opened", b"closed")


def _header(value: str | None) -> Any:
    def change(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        changed = {name: text for name, text in headers.items() if name != "X-Hub-Signature-256"}
        if value is not None:
            changed["X-Hub-Signature-256"] = value.replace("<hex>", headers["X-Hub-Signature-256"][7:])
        return changed, body

    return change


@pytest.mark.parametrize(
    ("change", "secret", "reason"),
    [
        (lambda headers, body: (headers, body), "another secret", "does not match"),
        (lambda headers, body: (headers, body), "", "no webhook secret"),
        (_tamper, SECRET, "does not match"),
        (_header(None), SECRET, "missing"),
        (_header("<hex>"), SECRET, "malformed"),
        (_header("sha1=<hex>"), SECRET, "malformed"),
        (_header("sha256="), SECRET, "malformed"),
        (_header("sha256=<hex>00"), SECRET, "malformed"),
        (_header("sha256=" + "z" * 64), SECRET, "malformed"),
    ],
    ids=["wrong-secret", "no-secret", "tampered-body", "missing", "no-prefix", "sha1", "empty", "too-long", "not-hex"],
)
def test_deliveries_not_signed_with_the_secret_are_refused(change: Any, secret: str, reason: str) -> None:
    headers, body = change(*signed_delivery({"action": "opened"}, SECRET))

    with pytest.raises(InvalidSignature, match=reason):
        WEBHOOKS.verify_webhook(headers, body, secret, NOW)


def test_the_legacy_sha1_signature_alone_is_not_enough() -> None:
    headers, body = signed_delivery({"action": "opened"}, SECRET)
    del headers["X-Hub-Signature-256"]

    with pytest.raises(InvalidSignature, match="missing"):
        WEBHOOKS.verify_webhook(headers, body, SECRET, NOW)


# -- webhooks: parsing every published example ---------------------------------------------------------
GONE = {"deleted", "transferred"}
ABOUT_STATUS = {"opened", "edited", "reopened", "labeled", "unlabeled"}


def _example_config(payload: dict[str, Any]) -> TrackerConfig:
    owner, repo = payload["repository"]["full_name"].split("/")
    return TrackerConfig(
        kind="github", base_url="https://api.github.com", settings={"owner": owner, "repo": repo}, token="t"
    )


@pytest.mark.parametrize("path", example_payloads("issues"), ids=lambda path: path.name)
def test_every_published_issues_example_is_parsed(path: Path) -> None:
    payload = json.loads(path.read_text())
    assert webhook_schema_errors("issues", payload) == []
    headers, body = signed_delivery(path.read_bytes(), SECRET, delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    WEBHOOKS.verify_webhook(headers, body, SECRET, NOW)

    event = WEBHOOKS.parse_webhook(headers, body, _example_config(payload))

    assert event.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    action = payload["action"]
    if action in GONE:
        assert event == WebhookEvent(event.delivery_id, issue_id="1", deleted=True)
    elif action in ABOUT_STATUS:
        assert event.issue_id == "1"
        assert event.issue is not None
        assert (event.issue.id, event.issue.key, event.issue.state) == ("1", "#1", "open")
        assert event.issue.status == ItemStatus.OPEN
        assert event.issue.url == "https://github.com/Codertocat/Hello-World/issues/1"
    else:
        assert event == WebhookEvent(event.delivery_id)


@pytest.mark.parametrize("path", example_payloads("ping"), ids=lambda path: path.name)
def test_every_published_ping_example_is_acknowledged_without_an_issue(path: Path) -> None:
    payload = json.loads(path.read_text())
    assert webhook_schema_errors("ping", payload) == []
    headers, body = signed_delivery(path.read_bytes(), SECRET, event="ping", delivery_id="ping-1")
    WEBHOOKS.verify_webhook(headers, body, SECRET, NOW)

    config = TrackerConfig(
        kind="github", base_url="", settings={"owner": "Octocoders", "repo": "Hello-World"}, token=""
    )
    assert WEBHOOKS.parse_webhook(headers, body, config) == WebhookEvent("ping-1")


@pytest.mark.parametrize(
    ("action", "changes", "state", "status"),
    [
        ("closed", {"state": "closed", "state_reason": "completed"}, "closed:completed", ItemStatus.DONE),
        ("closed", {"state": "closed", "state_reason": None}, "closed", ItemStatus.DONE),
        ("closed", {"state": "closed", "state_reason": "not_planned"}, "closed:not_planned", ItemStatus.WONT_DO),
        ("closed", {"state": "closed", "state_reason": "duplicate"}, "closed:duplicate", ItemStatus.WONT_DO),
        ("reopened", {"state": "open", "state_reason": "reopened"}, "open:reopened", ItemStatus.OPEN),
        ("labeled", {"labels": ["postmortem", "in-progress"]}, "label:in-progress", ItemStatus.IN_PROGRESS),
        ("unlabeled", {"labels": ["postmortem"]}, "open", ItemStatus.OPEN),
        ("closed", {"state": "closed", "state_reason": "archived"}, "closed:archived", None),
    ],
)
def test_deliveries_for_our_issues_carry_the_mapped_status(
    github_server: FakeGitHub, action: str, changes: dict[str, Any], state: str, status: ItemStatus | None
) -> None:
    github_server.reset()
    github_server.seed_issue("Item", "Body", labels=("postmortem",))
    github_server.edit_on_github(1, **changes)
    headers, body = github_server.issue_delivery(1, action, SECRET)
    WEBHOOKS.verify_webhook(headers, body, SECRET, NOW)

    event = WEBHOOKS.parse_webhook(headers, body, config_for(github_server))

    assert event.issue is not None
    assert (event.issue_id, event.issue.state, event.issue.status, event.deleted) == ("1", state, status, False)


async def test_a_change_made_through_the_adapter_comes_back_by_webhook(
    fake: FakeGitHub, adapter: GitHubAdapter
) -> None:
    created = await adapter.create_issue(draft())
    await adapter.set_status(created.id, ItemStatus.WONT_DO)
    headers, body = fake.issue_delivery(int(created.id), "closed", SECRET)
    WEBHOOKS.verify_webhook(headers, body, SECRET, NOW)

    event = WEBHOOKS.parse_webhook(headers, body, config_for(fake))

    assert event.issue_id == created.id
    assert event.issue is not None
    assert (event.issue.url, event.issue.status) == (created.url, ItemStatus.WONT_DO)


@pytest.mark.parametrize("action", ["deleted", "transferred"])
def test_deleted_and_transferred_issues_are_marked_deleted(github_server: FakeGitHub, action: str) -> None:
    github_server.reset()
    github_server.seed_issue("Item", "Body")
    github_server.delete_issue(1) if action == "deleted" else github_server.transfer_issue(1)
    headers, body = github_server.issue_delivery(1, action, SECRET)

    event = WEBHOOKS.parse_webhook(headers, body, config_for(github_server))

    assert (event.issue_id, event.deleted, event.issue) == ("1", True, None)


def _opened(**changes: Any) -> dict[str, Any]:
    path = next(path for path in example_payloads("issues") if path.name == "opened.payload.json")
    payload: dict[str, Any] = json.loads(path.read_text())
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("event", "body"),
    [
        ("issues", b"{not json"),
        ("issues", b"[1, 2]"),
        ("issues", json.dumps(_opened(issue={"title": "no number"})).encode()),
        ("issues", json.dumps(_opened(issue={"number": "1"})).encode()),
        ("issues", json.dumps(_opened(action="typed")).encode()),
        ("issues", json.dumps(_opened(repository={"full_name": "someone/else"})).encode()),
        ("issue_comment", json.dumps(_opened(action="created")).encode()),
        ("push", b"{}"),
        ("", json.dumps(_opened()).encode()),
    ],
    ids=["not-json", "array", "no-number", "string-number", "unknown-action", "other-repo", "comment", "push", "none"],
)
def test_anything_else_is_acknowledged_without_an_issue(event: str, body: bytes) -> None:
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}
    config = TrackerConfig(
        kind="github", base_url="", settings={"owner": "Codertocat", "repo": "Hello-World"}, token=""
    )

    assert WEBHOOKS.parse_webhook(headers, body, config) == WebhookEvent("d-1")


def test_a_delivery_without_an_id_is_named_by_its_body() -> None:
    body = json.dumps(_opened()).encode()
    config = TrackerConfig(
        kind="github", base_url="", settings={"owner": "codertocat", "repo": "hello-world"}, token=""
    )

    first = WEBHOOKS.parse_webhook({"X-GitHub-Event": "issues"}, body, config)
    again = WEBHOOKS.parse_webhook({"x-github-event": "issues"}, body, config)

    assert first.delivery_id == again.delivery_id == "sha256:" + hashlib.sha256(body).hexdigest()
    assert first.issue_id == "1"


def test_signature_helper_matches_the_verifier() -> None:
    body = b'{"zen": "Keep it logically awesome."}'

    WEBHOOKS.verify_webhook({"X-Hub-Signature-256": signature(body, SECRET)}, body, SECRET, NOW)
