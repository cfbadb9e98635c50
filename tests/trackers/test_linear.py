"""The Linear adapter against a fake Linear over real HTTP, and Linear webhooks signed like Linear's."""

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from service.action_items.models import ItemStatus, Priority
from service.trackers.base import (
    InvalidSignature,
    IssueDraft,
    PermanentTrackerError,
    RetryableTrackerError,
    TrackerConfig,
    WebhookEvent,
)
from service.trackers.linear import (
    DEFAULT_BASE_URL,
    DOCUMENTS,
    LinearAdapter,
    LinearSettings,
    LinearWebhooks,
    issue_id_for_marker,
)
from tests.fakes.linear import (
    API_KEY,
    FakeIssue,
    FakeLinear,
    GraphQLFault,
    document_errors,
    sign_webhook,
    webhook_payload_violations,
)
from tests.fakes.server import Fault

SECRET = "lin_wh_4f1c9a7e0b2d4c6e8a1b3d5f7a9c0e2b"
MARKER = "postmortems:action-item:0192f0c4-5b8e-7d2a-9c1e-3f4a5b6c7d8e"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLinear]:
    with FakeLinear() as running:
        yield running


@pytest.fixture
def fake(server: FakeLinear) -> Iterator[FakeLinear]:
    server.reset()
    yield server
    assert server.violations == []


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def config_for(fake: FakeLinear, **overrides: Any) -> TrackerConfig:
    values: dict[str, Any] = {
        "kind": "linear",
        "base_url": fake.base_url,
        "settings": {"team_id": fake.team_id},
        "token": API_KEY,
        "webhook_secret": SECRET,
    }
    return TrackerConfig(**{**values, **overrides})


@pytest.fixture
def adapter(fake: FakeLinear, http: httpx.AsyncClient) -> LinearAdapter:
    return LinearAdapter(config_for(fake), http)


def make_draft(**overrides: Any) -> IssueDraft:
    values: dict[str, Any] = {
        "marker": MARKER,
        "title": "Add a circuit breaker to the payments client",
        "body": "Stop retry storms.\n\nPostmortem: [Checkout outage](https://postmortems.example.com/pm/42)",
        "labels": ("postmortem", "severity:SEV1", "priority:P0", "due:2025-03-01"),
        "priority": Priority.P0,
        "due_date": date(2025, 3, 1),
        "status": ItemStatus.OPEN,
    }
    return IssueDraft(**{**values, **overrides})


async def created(adapter: LinearAdapter, fake: FakeLinear, **overrides: Any) -> FakeIssue:
    remote = await adapter.create_issue(make_draft(**overrides))
    return fake.issues[remote.id]


# -- settings ---------------------------------------------------------------------------------------


def test_settings_need_a_team_and_nothing_else() -> None:
    assert LinearSettings(team_id="9cfb482a-81e3-4154-b5b9-2c805e70a02d").team_id.startswith("9cfb")
    with pytest.raises(ValidationError):
        LinearSettings.model_validate({})
    with pytest.raises(ValidationError):
        LinearSettings.model_validate({"team_id": "t", "project_key": "OPS"})
    assert DEFAULT_BASE_URL == "https://api.linear.app"


def test_an_adapter_without_a_team_is_a_permanent_failure(fake: FakeLinear, http: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentTrackerError):
        LinearAdapter(config_for(fake, settings={}), http)


# -- create -----------------------------------------------------------------------------------------


async def test_create_issue_sends_the_draft_to_the_team(adapter: LinearAdapter, fake: FakeLinear) -> None:
    remote = await adapter.create_issue(make_draft())

    issue = fake.issues[remote.id]
    assert (issue.title, issue.description) == (make_draft().title, make_draft().body)
    assert (issue.team_id, issue.priority, issue.due_date) == (fake.team_id, 1, "2025-03-01")
    assert fake.label_names(issue) == {"postmortem", "severity:SEV1", "priority:P0", "due:2025-03-01"}
    assert remote.key == fake.identifier(issue) == "ENG-1"
    assert remote.url == fake.url(issue)
    assert (remote.state, remote.status) == ("backlog", ItemStatus.OPEN)
    for request in fake.requests:
        assert (request.method, request.path) == ("POST", "/graphql")
        assert request.headers["authorization"] == API_KEY
        assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("priority", "linear_priority"), [(Priority.P0, 1), (Priority.P1, 2), (Priority.P2, 3), (None, 0)]
)
async def test_priorities_map_to_urgent_high_medium_or_none(
    adapter: LinearAdapter, fake: FakeLinear, priority: Priority | None, linear_priority: int
) -> None:
    issue = await created(adapter, fake, priority=priority)

    assert issue.priority == linear_priority


async def test_a_draft_without_due_date_or_labels_sends_neither(adapter: LinearAdapter, fake: FakeLinear) -> None:
    issue = await created(adapter, fake, due_date=None, labels=())

    assert (issue.due_date, issue.label_ids) == (None, [])
    assert fake.operations == ["issueCreate"]


async def test_existing_labels_are_reused_case_insensitively_and_missing_ones_created(
    adapter: LinearAdapter, fake: FakeLinear
) -> None:
    workspace = fake.add_label("Postmortem", workspace=True)
    team = fake.add_label("SEVERITY:SEV1")
    fake.add_label("priority:P0", team_id=str(uuid.uuid4()))  # another team's label cannot be applied

    issue = await created(adapter, fake, labels=("postmortem", "severity:SEV1", "priority:P0"))

    assert workspace.id in issue.label_ids
    assert team.id in issue.label_ids
    assert fake.label_names(issue) == {"Postmortem", "SEVERITY:SEV1", "priority:P0"}
    assert fake.operations.count("issueLabelCreate") == 1
    assert len(fake.labels) == 4


async def test_a_label_created_meanwhile_by_someone_else_is_found_again(
    adapter: LinearAdapter, fake: FakeLinear
) -> None:
    fake.graphql_faults.append(
        GraphQLFault("Duplicate label name", "INPUT_ERROR", "invalid input", after=True, field="issueLabelCreate")
    )

    issue = await created(adapter, fake, labels=("postmortem",))

    assert fake.label_names(issue) == {"postmortem"}
    assert len(fake.labels) == 1


@pytest.mark.parametrize(
    ("status", "state_name"),
    [
        (ItemStatus.OPEN, "Backlog"),  # the team's default state for new issues
        (ItemStatus.IN_PROGRESS, "In Progress"),
        (ItemStatus.DONE, "Done"),
        (ItemStatus.WONT_DO, "Canceled"),
    ],
)
async def test_an_issue_is_created_in_the_state_of_the_items_status(
    adapter: LinearAdapter, fake: FakeLinear, status: ItemStatus, state_name: str
) -> None:
    issue = await created(adapter, fake, status=status)

    assert fake.state_of(issue).name == state_name


# -- idempotent create --------------------------------------------------------------------------------


async def test_find_issue_finds_the_ticket_by_its_marker(adapter: LinearAdapter, fake: FakeLinear) -> None:
    assert await adapter.find_issue(MARKER) is None

    remote = await adapter.create_issue(make_draft())

    assert await adapter.find_issue(MARKER) == remote
    assert await adapter.find_issue(MARKER + "-other") is None


def test_the_ticket_id_is_a_uuid_v4_derived_from_marker_and_team() -> None:
    first = issue_id_for_marker(MARKER, "team-a")

    assert uuid.UUID(first).version == 4
    assert first == issue_id_for_marker(MARKER, "team-a")
    assert first != issue_id_for_marker(MARKER + "x", "team-a")
    assert first != issue_id_for_marker(MARKER, "team-b")


async def test_the_created_ticket_carries_the_marker_derived_id(adapter: LinearAdapter, fake: FakeLinear) -> None:
    remote = await adapter.create_issue(make_draft())

    assert remote.id == issue_id_for_marker(MARKER, fake.team_id)


LOST_ANSWERS: dict[str, tuple[Callable[[FakeLinear], None], tuple[str, ...]]] = {
    # Transport faults hit the first request, so the draft is one that needs a single request.
    "connection-dropped": (lambda fake: fake.faults.append(Fault(drop=True, after=True)), ()),
    "bad-gateway": (lambda fake: fake.faults.append(Fault(status=502, after=True)), ()),
    "internal-error": (
        lambda fake: fake.graphql_faults.append(
            GraphQLFault("internal error", "INTERNAL_SERVER_ERROR", "internal error", after=True, field="issueCreate")
        ),
        ("postmortem", "priority:P0"),
    ),
}


@pytest.mark.parametrize(("lose_answer", "labels"), list(LOST_ANSWERS.values()), ids=list(LOST_ANSWERS))
async def test_a_create_whose_answer_was_lost_gives_exactly_one_ticket(
    adapter: LinearAdapter, fake: FakeLinear, lose_answer: Callable[[FakeLinear], None], labels: tuple[str, ...]
) -> None:
    draft = make_draft(labels=labels)
    lose_answer(fake)
    with pytest.raises(RetryableTrackerError):
        await adapter.create_issue(draft)
    assert len(fake.issues) == 1

    found = await adapter.find_issue(draft.marker)
    again = await adapter.create_issue(draft)

    assert found is not None
    assert again.id == found.id
    assert list(fake.issues) == [found.id]


async def test_creating_the_same_item_twice_returns_the_first_ticket(adapter: LinearAdapter, fake: FakeLinear) -> None:
    first = await adapter.create_issue(make_draft())
    second = await adapter.create_issue(make_draft(title="Renamed meanwhile"))

    assert second == first
    assert len(fake.issues) == 1


async def test_a_deleted_ticket_is_found_by_its_marker_but_fetched_as_gone(
    adapter: LinearAdapter, fake: FakeLinear
) -> None:
    remote = await adapter.create_issue(make_draft())
    fake.issues[remote.id].trashed = True

    assert await adapter.find_issue(MARKER) == remote
    assert await adapter.fetch_issue(remote.id) is None


# -- update -----------------------------------------------------------------------------------------


async def test_update_issue_brings_the_ticket_in_line_and_keeps_foreign_labels(
    adapter: LinearAdapter, fake: FakeLinear
) -> None:
    issue = await created(adapter, fake, labels=("postmortem", "priority:P0", "severity:SEV1"))
    issue.label_ids.append(fake.add_label("customer-facing").id)

    remote = await adapter.update_issue(
        issue.id,
        make_draft(
            title="Add a breaker and a budget",
            body="New body",
            labels=("postmortem", "priority:P2", "severity:SEV1"),
            priority=Priority.P2,
            due_date=None,
        ),
    )

    assert (issue.title, issue.description, issue.priority, issue.due_date) == (
        "Add a breaker and a budget",
        "New body",
        3,
        None,
    )
    assert fake.label_names(issue) == {"postmortem", "priority:P2", "severity:SEV1", "customer-facing"}
    assert remote.id == issue.id


async def test_update_without_labels_leaves_the_labels_alone(adapter: LinearAdapter, fake: FakeLinear) -> None:
    issue = await created(adapter, fake)
    before = list(issue.label_ids)

    await adapter.update_issue(issue.id, make_draft(labels=(), due_date=date(2025, 4, 1)))

    assert (issue.label_ids, issue.due_date) == (before, "2025-04-01")


async def test_updating_a_deleted_ticket_is_permanent(adapter: LinearAdapter) -> None:
    with pytest.raises(PermanentTrackerError, match="Entity not found"):
        await adapter.update_issue(str(uuid.uuid4()), make_draft())


# -- status -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "status", "state_name"),
    [
        ("Done", ItemStatus.OPEN, "Todo"),  # first unstarted state by position, not "Ready"
        ("Backlog", ItemStatus.IN_PROGRESS, "In Progress"),  # first started state by position, not "In Review"
        ("Backlog", ItemStatus.DONE, "Done"),
        ("Todo", ItemStatus.WONT_DO, "Canceled"),
    ],
)
async def test_set_status_moves_to_the_teams_first_state_of_the_matching_type(
    adapter: LinearAdapter, fake: FakeLinear, start: str, status: ItemStatus, state_name: str
) -> None:
    issue = fake.add_issue(state=start)

    remote = await adapter.set_status(issue.id, status)

    assert fake.state_of(issue).name == state_name
    assert (remote.state, remote.status) == (fake.state_of(issue).type, status)


async def test_set_status_keeps_a_state_that_already_matches(adapter: LinearAdapter, fake: FakeLinear) -> None:
    issue = fake.add_issue(state="In Review")

    remote = await adapter.set_status(issue.id, ItemStatus.IN_PROGRESS)

    assert remote.status is ItemStatus.IN_PROGRESS
    assert fake.state_of(issue).name == "In Review"
    assert "issueUpdate" not in fake.operations


async def test_status_map_overrides_apply_to_fetch_and_set_status(fake: FakeLinear, http: httpx.AsyncClient) -> None:
    overriding = LinearAdapter(config_for(fake, status_map={"canceled": ItemStatus.DONE}), http)
    issue = fake.add_issue(state="Canceled")

    fetched = await overriding.fetch_issue(issue.id)
    assert fetched is not None
    assert (fetched.state, fetched.status) == ("canceled", ItemStatus.DONE)
    with pytest.raises(PermanentTrackerError, match="no workflow state"):
        await overriding.set_status(issue.id, ItemStatus.WONT_DO)  # no state type maps to wont_do any more


async def test_set_status_of_a_deleted_ticket_is_permanent(adapter: LinearAdapter) -> None:
    with pytest.raises(PermanentTrackerError):
        await adapter.set_status(str(uuid.uuid4()), ItemStatus.DONE)


# -- fetch ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state_name", "state_type", "status"),
    [
        ("Triage", "triage", ItemStatus.OPEN),
        ("Backlog", "backlog", ItemStatus.OPEN),
        ("Todo", "unstarted", ItemStatus.OPEN),
        ("In Progress", "started", ItemStatus.IN_PROGRESS),
        ("Done", "completed", ItemStatus.DONE),
        ("Canceled", "canceled", ItemStatus.WONT_DO),
        ("Duplicate", "duplicate", ItemStatus.WONT_DO),
    ],
)
async def test_fetch_issue_maps_every_state_type(
    adapter: LinearAdapter, fake: FakeLinear, state_name: str, state_type: str, status: ItemStatus
) -> None:
    issue = fake.add_issue(state=state_name)

    remote = await adapter.fetch_issue(issue.id)

    assert remote is not None
    assert (remote.id, remote.key, remote.url) == (issue.id, fake.identifier(issue), fake.url(issue))
    assert (remote.state, remote.status) == (state_type, status)


async def test_an_unknown_state_type_is_unmapped_not_an_error(adapter: LinearAdapter, fake: FakeLinear) -> None:
    fake.add_state("Parked", "parked", 8)
    issue = fake.add_issue(state="Parked")

    remote = await adapter.fetch_issue(issue.id)

    assert remote is not None
    assert (remote.state, remote.status) == ("parked", None)


async def test_fetching_a_deleted_ticket_gives_none(adapter: LinearAdapter) -> None:
    assert await adapter.fetch_issue(str(uuid.uuid4())) is None


# -- error classification ---------------------------------------------------------------------------


def _in_ms(seconds: float) -> str:
    return str(int((time.time() + seconds) * 1000))


HTTP_FAULTS = {
    "500": (Fault(status=500), RetryableTrackerError, None),
    "503-retry-after": (Fault(status=503, headers={"Retry-After": "12"}), RetryableTrackerError, 12.0),
    "429-retry-after": (Fault(status=429, headers={"Retry-After": "7"}), RetryableTrackerError, 7.0),
    "dropped-connection": (Fault(drop=True), RetryableTrackerError, None),
    "400": (Fault(status=400), PermanentTrackerError, None),
    "401": (Fault(status=401), PermanentTrackerError, None),
    "404": (Fault(status=404), PermanentTrackerError, None),
    "200-without-data": (Fault(status=200), PermanentTrackerError, None),
}


@pytest.mark.parametrize(("fault", "error", "retry_after"), list(HTTP_FAULTS.values()), ids=list(HTTP_FAULTS))
async def test_http_failures_are_classified(
    adapter: LinearAdapter, fake: FakeLinear, fault: Fault, error: type[Exception], retry_after: float | None
) -> None:
    issue = fake.add_issue()
    fake.faults.append(fault)

    with pytest.raises(error) as raised:
        await adapter.fetch_issue(issue.id)

    if isinstance(raised.value, RetryableTrackerError):
        assert raised.value.retry_after == retry_after


GRAPHQL_FAULTS = {
    "internal-error": (
        GraphQLFault("Internal error", "INTERNAL_SERVER_ERROR", "internal error"),
        RetryableTrackerError,
    ),
    "lock-timeout": (GraphQLFault("Lock timeout", "LOCK_TIMEOUT", "lock timeout"), RetryableTrackerError),
    "invalid-input": (GraphQLFault("Argument Validation Error", "INPUT_ERROR", "invalid input"), PermanentTrackerError),
    "forbidden": (GraphQLFault("Forbidden", "FORBIDDEN", "forbidden"), PermanentTrackerError),
    "authentication": (
        GraphQLFault("Authentication required", "AUTHENTICATION_ERROR", "authentication error", status=401),
        PermanentTrackerError,
    ),
    "unknown": (GraphQLFault("Something odd", "SOMETHING_ODD", "unknown"), PermanentTrackerError),
}


@pytest.mark.parametrize(("fault", "error"), list(GRAPHQL_FAULTS.values()), ids=list(GRAPHQL_FAULTS))
async def test_graphql_errors_under_http_200_are_classified(
    adapter: LinearAdapter, fake: FakeLinear, fault: GraphQLFault, error: type[Exception]
) -> None:
    issue = fake.add_issue()
    fake.graphql_faults.append(fault)

    with pytest.raises(error):
        await adapter.fetch_issue(issue.id)


RATE_LIMITS: dict[str, tuple[int, Callable[[], dict[str, str]], float, float]] = {
    "requests-budget": (
        400,
        lambda: {"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": _in_ms(30)},
        20,
        30,
    ),
    "complexity-budget": (
        400,
        lambda: {
            "X-RateLimit-Requests-Remaining": "4000",
            "X-RateLimit-Requests-Reset": _in_ms(1),
            "X-RateLimit-Complexity-Remaining": "0",
            "X-RateLimit-Complexity-Reset": _in_ms(45),
        },
        35,
        45,
    ),
    "retry-after": (200, lambda: {"Retry-After": "3"}, 3, 3),
}


@pytest.mark.parametrize(("status", "headers", "low", "high"), list(RATE_LIMITS.values()), ids=list(RATE_LIMITS))
async def test_ratelimited_is_retryable_after_the_reset(
    adapter: LinearAdapter,
    fake: FakeLinear,
    status: int,
    headers: Callable[[], dict[str, str]],
    low: float,
    high: float,
) -> None:
    issue = fake.add_issue()
    fake.graphql_faults.append(GraphQLFault("Rate limit exceeded", "RATELIMITED", "ratelimited", status, headers()))

    with pytest.raises(RetryableTrackerError) as raised:
        await adapter.fetch_issue(issue.id)

    assert raised.value.retry_after is not None
    assert low <= raised.value.retry_after <= high


async def test_a_client_timeout_is_retryable() -> None:
    # Its own server: the delayed request finishes after the test and must not touch a shared workspace.
    with FakeLinear() as slow:
        issue = slow.add_issue()
        slow.faults.append(Fault(delay=1.0))
        async with httpx.AsyncClient(timeout=0.2) as impatient:
            with pytest.raises(RetryableTrackerError):
                await LinearAdapter(config_for(slow), impatient).fetch_issue(issue.id)
        assert slow.violations == []


async def test_a_wrong_api_key_is_permanent(fake: FakeLinear, http: httpx.AsyncClient) -> None:
    issue = fake.add_issue()

    with pytest.raises(PermanentTrackerError, match="Authentication"):
        await LinearAdapter(config_for(fake, token="lin_api_revoked"), http).fetch_issue(issue.id)


# -- contract ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_the_adapter_sends_validates_against_the_schema(document: str) -> None:
    assert document_errors(document) == []


CONTRACT_BREAKS = {
    "bearer-prefix": ("/graphql", {"Authorization": f"Bearer {API_KEY}"}, {"query": "query { viewer { id } }"}, 401),
    "unknown-field": ("/graphql", {}, {"query": "query Q($id: String!) { issue(id: $id) { colour } }"}, 400),
    "deprecated-field": ("/graphql", {}, {"query": 'query { issue(id: "x") { boardOrder } }'}, 400),
    "bad-variable": (
        "/graphql",
        {},
        {
            "query": "mutation M($id: String!, $input: IssueUpdateInput!) "
            "{ issueUpdate(id: $id, input: $input) { success } }",
            "variables": {"id": "x", "input": {"dueDate": "next tuesday"}},
        },
        400,
    ),
    "wrong-path": ("/api/issues", {}, {"query": "query { viewer { id } }"}, 404),
}


@pytest.mark.parametrize(
    ("path", "headers", "body", "status"), list(CONTRACT_BREAKS.values()), ids=list(CONTRACT_BREAKS)
)
async def test_the_fake_refuses_requests_that_break_the_contract(
    fake: FakeLinear, http: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict[str, Any], status: int
) -> None:
    response = await http.post(fake.base_url + path, json=body, headers={"Authorization": API_KEY, **headers})

    assert response.status_code == status
    assert len(fake.violations) == 1
    fake.violations.clear()


# -- webhooks: signature ----------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
codec = LinearWebhooks()


def delivery(fake: FakeLinear, *, at: datetime = NOW, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    payload = fake.issue_webhook(fake.add_issue(), at_ms=int(at.timestamp() * 1000))
    return sign_webhook(payload, secret)


def test_a_correctly_signed_fresh_delivery_verifies(fake: FakeLinear) -> None:
    headers, body = delivery(fake)

    codec.verify_webhook(headers, body, SECRET, NOW)
    codec.verify_webhook({key.lower(): value for key, value in headers.items()}, body, SECRET, NOW)
    codec.verify_webhook(headers, body, SECRET, NOW + timedelta(seconds=59))


BROKEN_SIGNATURES: dict[str, Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]] = {
    "wrong-secret": lambda headers, body: (sign_webhook(_json(body), "another-secret")[0], body),
    "missing-header": lambda headers, body: ({k: v for k, v in headers.items() if k != "Linear-Signature"}, body),
    "sha256-prefix": lambda headers, body: (
        headers | {"Linear-Signature": "sha256=" + headers["Linear-Signature"]},
        body,
    ),
    "not-hex": lambda headers, body: (headers | {"Linear-Signature": "z" * 64}, body),
    "truncated": lambda headers, body: (headers | {"Linear-Signature": headers["Linear-Signature"][:-2]}, body),
    "empty": lambda headers, body: (headers | {"Linear-Signature": ""}, body),
    "tampered-body": lambda headers, body: (headers, body.replace(b'"action":"update"', b'"action":"remove"')),
}


def _json(body: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body)
    return parsed


@pytest.mark.parametrize("breakage", list(BROKEN_SIGNATURES.values()), ids=list(BROKEN_SIGNATURES))
def test_a_delivery_without_a_valid_signature_is_refused(
    fake: FakeLinear, breakage: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]
) -> None:
    headers, body = breakage(*delivery(fake))

    with pytest.raises(InvalidSignature):
        codec.verify_webhook(headers, body, SECRET, NOW)


@pytest.mark.parametrize(
    "skew", [timedelta(seconds=-61), timedelta(seconds=61), timedelta(hours=-1)], ids=["61s-old", "61s-ahead", "1h-old"]
)
def test_a_delivery_stamped_more_than_60_seconds_from_now_is_refused(fake: FakeLinear, skew: timedelta) -> None:
    headers, body = delivery(fake, at=NOW + skew)

    with pytest.raises(InvalidSignature, match="60 s"):
        codec.verify_webhook(headers, body, SECRET, NOW)


def test_a_signed_delivery_without_timestamp_is_refused(fake: FakeLinear) -> None:
    payload = fake.issue_webhook(fake.add_issue(), at_ms=int(NOW.timestamp() * 1000))
    del payload["webhookTimestamp"]
    headers, body = sign_webhook(payload, SECRET)

    with pytest.raises(InvalidSignature, match="webhookTimestamp"):
        codec.verify_webhook(headers, body, SECRET, NOW)


def test_without_a_configured_secret_nothing_verifies(fake: FakeLinear) -> None:
    headers, body = delivery(fake, secret="")

    with pytest.raises(InvalidSignature):
        codec.verify_webhook(headers, body, "", NOW)


# -- webhooks: parsing ------------------------------------------------------------------------------


def _issue_event(state: str, action: str) -> Callable[[FakeLinear], dict[str, Any]]:
    return lambda fake: fake.issue_webhook(fake.add_issue(state=state), action)


def _trashed(fake: FakeLinear) -> dict[str, Any]:
    issue = fake.add_issue()
    issue.trashed = True
    return fake.issue_webhook(issue, "update", updated_from={"trashed": None})


def _comment(fake: FakeLinear) -> dict[str, Any]:
    issue = fake.add_issue()
    data = {
        "id": str(uuid.uuid4()),
        "body": "Looks done to me",
        "createdAt": "2025-03-01T11:59:00.000Z",
        "updatedAt": "2025-03-01T11:59:00.000Z",
        "issueId": issue.id,
        "reactionData": {},
    }
    return fake.entity_webhook("Comment", "create", data)


def _label(fake: FakeLinear) -> dict[str, Any]:
    data = {
        "id": str(uuid.uuid4()),
        "name": "customer-facing",
        "color": "#eb5757",
        "isGroup": False,
        "createdAt": "2025-03-01T11:59:00.000Z",
        "updatedAt": "2025-03-01T11:59:00.000Z",
        "teamId": fake.team_id,
    }
    return fake.entity_webhook("IssueLabel", "create", data)


# name -> (payload builder, is about an issue, deleted, mapped status)
WEBHOOK_EXAMPLES: dict[str, tuple[Callable[[FakeLinear], dict[str, Any]], bool, bool, ItemStatus | None]] = {
    "issue-create-triage": (_issue_event("Triage", "create"), True, False, ItemStatus.OPEN),
    "issue-create-backlog": (_issue_event("Backlog", "create"), True, False, ItemStatus.OPEN),
    "issue-update-unstarted": (_issue_event("Todo", "update"), True, False, ItemStatus.OPEN),
    "issue-update-started": (_issue_event("In Review", "update"), True, False, ItemStatus.IN_PROGRESS),
    "issue-update-completed": (_issue_event("Done", "update"), True, False, ItemStatus.DONE),
    "issue-update-canceled": (_issue_event("Canceled", "update"), True, False, ItemStatus.WONT_DO),
    "issue-update-duplicate": (_issue_event("Duplicate", "update"), True, False, ItemStatus.WONT_DO),
    "issue-remove": (_issue_event("Todo", "remove"), True, True, None),
    "issue-trashed": (_trashed, True, True, None),
    "issue-unknown-action": (_issue_event("Todo", "restore"), False, False, None),
    "comment-create": (_comment, False, False, None),
    "issue-label-create": (_label, False, False, None),
}


@pytest.mark.parametrize(
    ("build", "about_issue", "deleted", "status"), list(WEBHOOK_EXAMPLES.values()), ids=list(WEBHOOK_EXAMPLES)
)
def test_every_example_delivery_is_parsed(
    fake: FakeLinear,
    build: Callable[[FakeLinear], dict[str, Any]],
    about_issue: bool,
    deleted: bool,
    status: ItemStatus | None,
) -> None:
    payload = build(fake)
    assert webhook_payload_violations(payload) == []
    headers, body = sign_webhook(payload, SECRET, delivery_id="d8f1c2a4-0000-4000-8000-000000000001")
    codec.verify_webhook(headers, body, SECRET, datetime.now(UTC))

    event = codec.parse_webhook(headers, body, config_for(fake))

    assert event.delivery_id == "d8f1c2a4-0000-4000-8000-000000000001"
    assert event.issue_id == (payload["data"]["id"] if about_issue else None)
    assert event.deleted is deleted
    if about_issue and not deleted:
        assert event.issue is not None
        data = payload["data"]
        assert (event.issue.id, event.issue.key, event.issue.url) == (data["id"], data["identifier"], data["url"])
        assert (event.issue.state, event.issue.status) == (data["state"]["type"], status)
    else:
        assert event.issue is None


def test_parsing_applies_status_map_overrides(fake: FakeLinear) -> None:
    headers, body = sign_webhook(fake.issue_webhook(fake.add_issue(state="Duplicate")), SECRET)

    event = codec.parse_webhook(headers, body, config_for(fake, status_map={"duplicate": ItemStatus.DONE}))

    assert event.issue is not None
    assert event.issue.status is ItemStatus.DONE


def test_without_linear_delivery_the_id_is_webhook_issue_and_update_time(fake: FakeLinear) -> None:
    issue = fake.add_issue()
    headers, body = sign_webhook(fake.issue_webhook(issue), SECRET, with_delivery=False)

    event = codec.parse_webhook(headers, body, config_for(fake))

    assert event.delivery_id == f"{fake.webhook_id}:{issue.id}:{issue.updated_at}"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"type": "Issue", "action": "update", "data": "x"}'])
def test_unparseable_deliveries_give_an_event_without_issue(fake: FakeLinear, body: bytes) -> None:
    event = codec.parse_webhook({"Linear-Delivery": "d-1"}, body, config_for(fake))

    assert event == WebhookEvent(delivery_id="d-1")


def test_the_payload_checker_catches_shapes_linear_would_not_send(fake: FakeLinear) -> None:
    payload = fake.issue_webhook(fake.add_issue())
    broken = {**payload, "webhookTimestamp": "yesterday", "data": {**payload["data"], "state": None}}
    del broken["webhookId"]

    problems = webhook_payload_violations(broken)

    assert len(problems) == 3
