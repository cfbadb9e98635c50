import base64
import json
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from service.action_items.models import ItemStatus, Priority
from service.trackers import jira as jira_module
from service.trackers.base import (
    InvalidSignature,
    IssueDraft,
    PermanentTrackerError,
    RemoteIssue,
    RetryableTrackerError,
    TrackerConfig,
    TrackerError,
)
from service.trackers.jira import JiraAdapter, JiraSettings, JiraWebhooks
from tests.contracts.paths import JIRA
from tests.fakes.jira import FakeJira, signed_webhook
from tests.fakes.server import Fault

SECRET = "jira-webhook-secret"
NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
EXAMPLES = JIRA / "webhook-examples"
MARKER = "postmortems-item-0b7f3c1e"
BODY = (
    "Fail the deploy when the config does not parse.\n\n"
    "Postmortem: [Checkout outage](https://pm.example.com/postmortems/42)\n"
    "Severity: SEV1 · Priority: P1 · Deadline: 2025-02-01"
)
BODY_ADF = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Fail the deploy when the config does not parse."}]},
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Postmortem: "},
                {
                    "type": "text",
                    "text": "Checkout outage",
                    "marks": [{"type": "link", "attrs": {"href": "https://pm.example.com/postmortems/42"}}],
                },
                {"type": "hardBreak"},
                {"type": "text", "text": "Severity: SEV1 · Priority: P1 · Deadline: 2025-02-01"},
            ],
        },
    ],
}
LABELS = ("postmortem", "severity:SEV1", "priority:P1", "deadline:2025-02-01")


@pytest.fixture
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """The fake site (company-managed workflow unless parametrized with "team"); no contract violations allowed."""
    fake = FakeJira(projects=("OPS", "SEC"), workflow=getattr(request, "param", "company"))
    with fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def client(sent: list[httpx.Request]) -> AsyncIterator[httpx.AsyncClient]:
    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(timeout=5.0, event_hooks={"request": [record]}) as client:
        yield client


def config(fake: FakeJira, *, status_map: dict[str, ItemStatus] | None = None, **settings: Any) -> TrackerConfig:
    return TrackerConfig(
        kind="jira",
        base_url=fake.base_url + "/",
        settings={"project_key": "OPS", "email": fake.email, **settings},
        token=fake.token,
        webhook_secret=SECRET,
        status_map=status_map or {},
    )


def adapter(fake: FakeJira, client: httpx.AsyncClient, **options: Any) -> JiraAdapter:
    return JiraAdapter(config(fake, **options), client)


def draft(**overrides: Any) -> IssueDraft:
    values: dict[str, Any] = {
        "marker": MARKER,
        "title": "Validate config pushes in CI",
        "body": BODY,
        "labels": LABELS,
        "priority": Priority.P1,
        "due_date": date(2025, 2, 1),
        "status": ItemStatus.OPEN,
    }
    return IssueDraft(**{**values, **overrides})


def posted(fake: FakeJira, path_suffix: str) -> list[Any]:
    return [r.json for r in fake.requests if r.method == "POST" and r.path.endswith(path_suffix)]


def resolution_of(fake: FakeJira, key: str) -> str | None:
    resolution = fake.issue(key)["fields"]["resolution"]
    return resolution["name"] if resolution else None


# -- settings ------------------------------------------------------------------------------------
def test_settings_defaults_and_required_fields() -> None:
    settings = JiraSettings.model_validate({"project_key": "OPS", "email": "bot@example.com"})

    assert settings.issue_type == "Task"
    assert settings.wont_do_resolutions == ["Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce"]
    assert jira_module.DEFAULT_BASE_URL is None


@pytest.mark.parametrize(
    "settings",
    [
        {"email": "bot@example.com"},
        {"project_key": "OPS"},
        {"project_key": "ops", "email": "bot@example.com"},
        {"project_key": "OPS", "email": "not an email"},
        {"project_key": "OPS", "email": "bot@example.com", "team_id": "x"},
        {"project_key": "OPS", "email": "bot@example.com", "wont_do_resolutions": [""]},
    ],
)
async def test_invalid_settings_are_refused(settings: dict[str, Any], client: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentTrackerError, match="invalid Jira settings"):
        JiraAdapter(TrackerConfig("jira", "https://x.atlassian.net", settings, token="t"), client)


# -- create, find, update --------------------------------------------------------------------------
async def test_create_issue_sends_project_type_summary_adf_labels_and_due_date(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    remote = await adapter(jira, client).create_issue(draft())

    [body] = posted(jira, "/rest/api/3/issue")
    assert body == {
        "fields": {
            "project": {"key": "OPS"},
            "issuetype": {"name": "Task"},
            "summary": "Validate config pushes in CI",
            "description": BODY_ADF,
            "labels": [*LABELS, MARKER],
            "duedate": "2025-02-01",
        }
    }
    credentials = base64.b64encode(f"{jira.email}:{jira.token}".encode()).decode()
    assert {r.headers["authorization"] for r in jira.requests} == {f"Basic {credentials}"}
    assert remote == RemoteIssue(
        id="10001", key="OPS-1", url=f"{jira.base_url}/browse/OPS-1", state="To Do", status=ItemStatus.OPEN
    )
    assert jira.issue("OPS-1")["fields"]["description"] == BODY_ADF


async def test_create_issue_uses_the_configured_issue_type_and_leaves_out_a_missing_due_date(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    await adapter(jira, client, issue_type="Bug").create_issue(draft(due_date=None, priority=None))

    [body] = posted(jira, "/rest/api/3/issue")
    assert body["fields"]["issuetype"] == {"name": "Bug"}
    assert "duedate" not in body["fields"]
    assert "priority" not in body["fields"]
    assert jira.issue("OPS-1")["fields"]["issuetype"]["name"] == "Bug"


async def test_summary_is_one_line_of_at_most_255_characters(jira: FakeJira, client: httpx.AsyncClient) -> None:
    await adapter(jira, client).create_issue(draft(title="Rotate\nthe  keys " + "x" * 300))

    summary = jira.issue("OPS-1")["fields"]["summary"]
    assert len(summary) == 255
    assert summary.startswith("Rotate the keys xxx")
    assert summary.endswith("…")


async def test_labels_lose_their_spaces_and_duplicates(jira: FakeJira, client: httpx.AsyncClient) -> None:
    labels = ("team payments", "team  payments", " ", "y" * 300)

    await adapter(jira, client).create_issue(draft(labels=labels, marker="item 42"))

    assert jira.issue("OPS-1")["fields"]["labels"] == ["team_payments", "y" * 255, "item_42"]


@pytest.mark.parametrize(
    ("status", "state", "resolution"),
    [
        (ItemStatus.IN_PROGRESS, "In Progress", None),
        (ItemStatus.DONE, "Done", "Done"),
        (ItemStatus.WONT_DO, "Done", "Won't Do"),
    ],
)
async def test_create_issue_moves_it_to_the_draft_status(
    jira: FakeJira, client: httpx.AsyncClient, status: ItemStatus, state: str, resolution: str | None
) -> None:
    remote = await adapter(jira, client).create_issue(draft(status=status))

    assert (remote.state, remote.status) == (state, status)
    assert resolution_of(jira, remote.key) == resolution


async def test_find_issue_finds_the_ticket_carrying_the_marker(
    jira: FakeJira, client: httpx.AsyncClient, sent: list[httpx.Request]
) -> None:
    jira_adapter = adapter(jira, client)
    assert await jira_adapter.find_issue(MARKER) is None

    created = await jira_adapter.create_issue(draft())
    await jira_adapter.create_issue(draft(marker="postmortems-item-other"))

    assert await jira_adapter.find_issue(MARKER) == created
    search = next(r for r in sent if r.url.path == "/rest/api/3/search/jql")
    assert search.url.params["jql"] == f'project = "OPS" AND labels = "{MARKER}" ORDER BY created ASC'
    assert search.url.params["fields"] == "status,resolution"


async def test_find_issue_looks_only_in_the_configured_project_and_prefers_the_oldest(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    await adapter(jira, client, project_key="SEC").create_issue(draft())
    ops = adapter(jira, client)
    assert await ops.find_issue(MARKER) is None

    first = await ops.create_issue(draft())
    await ops.create_issue(draft())

    assert await ops.find_issue(MARKER) == first


async def test_a_create_whose_answer_was_lost_is_found_by_its_marker(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    jira.faults.append(Fault(status=502, after=True, path_contains="/rest/api/3/issue"))

    with pytest.raises(RetryableTrackerError):
        await jira_adapter.create_issue(draft())
    found = await jira_adapter.find_issue(MARKER)

    assert found is not None
    assert found.key == "OPS-1"
    assert len(jira.issues) == 1


async def test_find_issue_sees_a_new_ticket_only_once_jira_has_indexed_it(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    jira_adapter = adapter(jira, client)
    jira.search_lag = math.inf
    created = await jira_adapter.create_issue(draft())

    assert await jira_adapter.find_issue(MARKER) is None
    jira.reindex()
    assert await jira_adapter.find_issue(MARKER) == created


async def test_find_issue_reads_the_issues_named_as_created_at_once(
    jira: FakeJira, client: httpx.AsyncClient, sent: list[httpx.Request]
) -> None:
    jira_adapter = adapter(jira, client)
    jira.search_lag = math.inf
    created = await jira_adapter.create_issue(draft())
    other = await jira_adapter.create_issue(draft(marker="postmortems-item-other"))

    assert await jira_adapter.find_issue(MARKER) is None
    assert await jira_adapter.find_issue(MARKER, created_ids=[other.id, "OPS-1"]) is None
    assert await jira_adapter.find_issue(MARKER, created_ids=[created.id]) == created

    searches = [request.url.params for request in sent if request.url.path == "/rest/api/3/search/jql"]
    assert [params.get_list("reconcileIssues") for params in searches] == [[], [other.id], [created.id]]


async def test_update_issue_replaces_content_and_keeps_the_marker(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())

    remote = await jira_adapter.update_issue(
        created.id,
        draft(title="Validate every config push", body="Now also in staging.", labels=("priority:P0",), due_date=None),
    )

    fields = jira.issue(created.key)["fields"]
    assert fields["summary"] == "Validate every config push"
    assert fields["description"] == {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Now also in staging."}]}],
    }
    assert fields["labels"] == ["priority:P0", MARKER]
    assert fields["duedate"] is None
    assert remote == created
    [edit] = [r for r in jira.requests if r.method == "PUT"]
    assert edit.path == f"/rest/api/3/issue/{created.id}"
    assert set(edit.json["fields"]) == {"summary", "description", "labels", "duedate"}


async def test_update_of_a_deleted_issue_is_permanent(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())
    jira.delete_issue(created.id)

    with pytest.raises(PermanentTrackerError, match="HTTP 404"):
        await jira_adapter.update_issue(created.id, draft())


# -- status ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "state", "resolution"),
    [
        (ItemStatus.OPEN, "To Do", None),
        (ItemStatus.IN_PROGRESS, "In Progress", None),
        (ItemStatus.DONE, "Done", "Done"),
        (ItemStatus.WONT_DO, "Done", "Won't Do"),
    ],
)
async def test_set_status_runs_the_transition_into_the_matching_category(
    jira: FakeJira, client: httpx.AsyncClient, status: ItemStatus, state: str, resolution: str | None
) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())
    jira.move(created.key, "In Progress" if status is ItemStatus.OPEN else "To Do")

    remote = await jira_adapter.set_status(created.id, status)

    assert (remote.state, remote.status) == (state, status)
    assert jira.issue(created.key)["fields"]["status"]["name"] == state
    assert resolution_of(jira, created.key) == resolution


async def test_set_status_done_then_reopen_clears_the_resolution(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft(status=ItemStatus.DONE))

    remote = await jira_adapter.set_status(created.id, ItemStatus.OPEN)

    assert remote.status is ItemStatus.OPEN
    assert resolution_of(jira, created.key) is None


async def test_set_status_to_the_current_status_runs_no_transition(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft(status=ItemStatus.WONT_DO))
    transitions = len(posted(jira, "/transitions"))

    remote = await jira_adapter.set_status(created.id, ItemStatus.WONT_DO)

    assert remote.status is ItemStatus.WONT_DO
    assert len(posted(jira, "/transitions")) == transitions


async def test_set_status_wont_do_uses_the_first_configured_resolution_jira_offers(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    jira_adapter = adapter(jira, client, wont_do_resolutions=["Obsolete", "duplicate"])
    created = await jira_adapter.create_issue(draft())

    remote = await jira_adapter.set_status(created.id, ItemStatus.WONT_DO)

    assert remote.status is ItemStatus.WONT_DO
    assert posted(jira, "/transitions")[-1] == {
        "transition": {"id": "31"},
        "fields": {"resolution": {"name": "Duplicate"}},
    }


@pytest.mark.parametrize("jira", ["team"], indirect=True)
async def test_team_managed_done_sends_no_resolution(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())

    remote = await jira_adapter.set_status(created.id, ItemStatus.DONE)

    assert remote.status is ItemStatus.DONE
    assert posted(jira, "/transitions") == [{"transition": {"id": "31"}}]


@pytest.mark.parametrize("jira", ["team"], indirect=True)
async def test_wont_do_goes_to_the_status_the_status_map_names(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira.add_status("Won't Do", "done", transition_id="41")
    jira_adapter = adapter(jira, client, status_map={"Won't Do": ItemStatus.WONT_DO})
    created = await jira_adapter.create_issue(draft())

    remote = await jira_adapter.set_status(created.id, ItemStatus.WONT_DO)

    assert (remote.state, remote.status) == ("Won't Do", ItemStatus.WONT_DO)
    assert posted(jira, "/transitions") == [{"transition": {"id": "41"}}]
    assert (await jira_adapter.set_status(created.id, ItemStatus.DONE)).state == "Done"


@pytest.mark.parametrize("jira", ["team"], indirect=True)
async def test_wont_do_that_jira_cannot_record_closes_the_issue_as_done(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())

    remote = await jira_adapter.set_status(created.id, ItemStatus.WONT_DO)
    again = await jira_adapter.set_status(created.id, ItemStatus.WONT_DO)

    assert (remote.state, remote.status) == ("Done", ItemStatus.DONE)
    assert again == remote
    assert posted(jira, "/transitions") == [{"transition": {"id": "31"}}]


@pytest.mark.parametrize(
    ("closed", "wanted"), [(ItemStatus.DONE, ItemStatus.WONT_DO), (ItemStatus.WONT_DO, ItemStatus.DONE)]
)
async def test_a_closed_issue_keeps_its_resolution_when_no_transition_leads_to_another_closed_status(
    jira: FakeJira, client: httpx.AsyncClient, closed: ItemStatus, wanted: ItemStatus
) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft(status=closed))
    transitions = len(posted(jira, "/transitions"))

    remote = await jira_adapter.set_status(created.id, wanted)

    assert remote == created
    assert len(posted(jira, "/transitions")) == transitions


async def test_set_status_without_a_matching_transition_is_permanent(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())
    jira.transitions = [t for t in jira.transitions if t["to"] != "Done"]

    with pytest.raises(PermanentTrackerError, match="category 'done'"):
        await jira_adapter.set_status(created.id, ItemStatus.DONE)
    assert jira.issue(created.key)["fields"]["status"]["name"] == "To Do"


# -- fetch and mapping ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "resolution", "status_map", "expected"),
    [
        ("To Do", None, {}, ItemStatus.OPEN),
        ("In Progress", None, {}, ItemStatus.IN_PROGRESS),
        ("Done", "Done", {}, ItemStatus.DONE),
        ("Done", "Won't Do", {}, ItemStatus.WONT_DO),
        ("Done", "Duplicate", {}, ItemStatus.WONT_DO),
        ("Done", "Cannot Reproduce", {}, ItemStatus.WONT_DO),
        ("In Progress", None, {"In Progress": ItemStatus.OPEN}, ItemStatus.OPEN),
        ("Done", "Duplicate", {"Done": ItemStatus.DONE}, ItemStatus.DONE),
    ],
)
async def test_fetch_issue_maps_the_current_state(
    jira: FakeJira,
    client: httpx.AsyncClient,
    state: str,
    resolution: str | None,
    status_map: dict[str, ItemStatus],
    expected: ItemStatus,
) -> None:
    jira_adapter = adapter(jira, client, status_map=status_map)
    created = await jira_adapter.create_issue(draft())
    jira.move(created.key, state, resolution)

    remote = await jira_adapter.fetch_issue(created.id)

    assert remote == replace(created, state=state, status=expected)


async def test_fetch_issue_of_an_unknown_category_is_unmapped(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira.add_status("Parked", "undefined", transition_id="51")
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())
    jira.move(created.key, "Parked")

    remote = await jira_adapter.fetch_issue(created.id)

    assert remote is not None
    assert (remote.state, remote.status) == ("Parked", None)


async def test_fetch_issue_of_a_deleted_issue_is_none(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())
    jira.delete_issue(created.key)

    assert await jira_adapter.fetch_issue(created.id) is None
    jira.faults.append(Fault(status=410))
    assert await jira_adapter.fetch_issue("10001") is None


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "error", "retry_after", "refused"),
    [
        (Fault(status=500), RetryableTrackerError, None, False),
        (Fault(status=503, headers={"Retry-After": "30"}), RetryableTrackerError, 30.0, False),
        (Fault(status=429, headers={"Retry-After": "7"}), RetryableTrackerError, 7.0, True),
        (Fault(status=409), RetryableTrackerError, None, True),
        (Fault(drop=True), RetryableTrackerError, None, False),
        (Fault(delay=1.0), RetryableTrackerError, None, False),
        (Fault(status=400), PermanentTrackerError, None, True),
        (Fault(status=401), PermanentTrackerError, None, True),
        (Fault(status=403), PermanentTrackerError, None, True),
        (Fault(status=404), PermanentTrackerError, None, True),
    ],
    ids=["500", "503", "429", "409", "dropped", "timeout", "400", "401", "403", "404"],
)
async def test_failures_are_classified(
    jira: FakeJira, fault: Fault, error: type[TrackerError], retry_after: float | None, refused: bool
) -> None:
    """`refused`: Jira answered with a 4xx, so the create made nothing; after a 5xx or no answer it may have."""
    jira.faults.append(fault)

    async with httpx.AsyncClient(timeout=0.2) as client:
        with pytest.raises(error) as raised:
            await adapter(jira, client).create_issue(draft())

    assert getattr(raised.value, "retry_after", None) == retry_after
    assert (raised.value.refused, raised.value.created_issue_id) == (refused, None)
    if not fault.delay:  # a slow answer still creates the issue, after the caller gave up
        assert jira.issues == {}


async def test_a_create_whose_status_step_fails_names_the_issue_it_made(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    jira.faults.append(Fault(status=503, method="GET", path_contains="/rest/api/3/issue/"))

    with pytest.raises(RetryableTrackerError) as raised:
        await adapter(jira, client).create_issue(draft())

    assert raised.value.created_issue_id == next(iter(jira.issues))


async def test_fetch_issue_failures_other_than_gone_still_raise(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira.faults.extend([Fault(status=500), Fault(status=403)])
    jira_adapter = adapter(jira, client)

    with pytest.raises(RetryableTrackerError):
        await jira_adapter.fetch_issue("10001")
    with pytest.raises(PermanentTrackerError):
        await jira_adapter.fetch_issue("10001")


async def test_wrong_credentials_are_permanent(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = JiraAdapter(replace(config(jira), token="revoked"), client)

    with pytest.raises(PermanentTrackerError, match="HTTP 401"):
        await jira_adapter.create_issue(draft())


async def test_an_issue_type_the_project_lacks_is_permanent(jira: FakeJira, client: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentTrackerError, match="issue type selected is invalid"):
        await adapter(jira, client, issue_type="Incident").create_issue(draft())


# -- the fake enforces the contract ---------------------------------------------------------------------
VALID_FIELDS = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "S"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/rest/api/3/issue", {"fields": {**VALID_FIELDS, "labels": ["two words"]}}, 400),
        ("POST", "/rest/api/3/issue", {"fields": {**VALID_FIELDS, "description": "plain text"}}, 400),
        ("POST", "/rest/api/3/issue", {"fields": {**VALID_FIELDS, "summary": "x" * 256}}, 400),
        ("POST", "/rest/api/3/issue", {"fields": {**VALID_FIELDS, "priority": {"name": "High"}}}, 400),
        ("POST", "/rest/api/3/issue", {"fields": {**VALID_FIELDS, "duedate": "01/02/2025"}}, 400),
        ("POST", "/rest/api/3/issue", {"fields": [VALID_FIELDS]}, 400),
        ("POST", "/rest/api/3/issue?notify=true", {"fields": VALID_FIELDS}, 400),
        ("POST", "/rest/api/2/issue", {"fields": VALID_FIELDS}, 404),
        ("GET", "/rest/api/3/search/jql?jql=project%20%3D%20OPS&reconcileIssues=OPS-1", None, 400),
        ("GET", "/rest/api/3/search/jql?jql=project%20%3D%20OPS" + "&reconcileIssues=1" * 51, None, 400),
    ],
)
async def test_the_fake_refuses_requests_that_break_the_contract(
    jira: FakeJira, client: httpx.AsyncClient, method: str, path: str, body: Any, status: int
) -> None:
    response = await client.request(method, jira.base_url + path, json=body, auth=(jira.email, jira.token))

    assert response.status_code == status
    assert len(jira.violations) == 1
    jira.violations.clear()


async def test_the_fake_refuses_read_only_properties_and_missing_auth(
    jira: FakeJira, client: httpx.AsyncClient
) -> None:
    created = await adapter(jira, client).create_issue(draft())
    url = f"{jira.base_url}/rest/api/3/issue/{created.id}/transitions"

    read_only = await client.post(url, json={"transition": {"id": "21", "name": "x"}}, auth=(jira.email, jira.token))
    anonymous = await client.get(url)

    assert (read_only.status_code, anonymous.status_code) == (400, 401)
    assert len(jira.violations) == 2
    jira.violations.clear()


# -- webhooks -------------------------------------------------------------------------------------------
SIGNED_HEADERS, SIGNED_BODY = signed_webhook({"webhookEvent": "jira:issue_updated"}, SECRET)
DIGEST = SIGNED_HEADERS["X-Hub-Signature"].removeprefix("sha256=")


def test_a_signed_delivery_verifies() -> None:
    JiraWebhooks().verify_webhook(SIGNED_HEADERS, SIGNED_BODY, SECRET, NOW)
    JiraWebhooks().verify_webhook({k.lower(): v for k, v in SIGNED_HEADERS.items()}, SIGNED_BODY, SECRET, NOW)


@pytest.mark.parametrize(
    ("signature", "body", "secret"),
    [
        (f"sha256={DIGEST}", SIGNED_BODY, "another-secret"),
        (f"sha256={DIGEST}", SIGNED_BODY, ""),
        (f"sha256={DIGEST}", SIGNED_BODY + b" ", SECRET),
        (None, SIGNED_BODY, SECRET),
        (DIGEST, SIGNED_BODY, SECRET),
        (f"sha1={DIGEST}", SIGNED_BODY, SECRET),
        (f"sha256={DIGEST[:-1]}", SIGNED_BODY, SECRET),
        ("sha256=" + "z" * 64, SIGNED_BODY, SECRET),
    ],
    ids=["wrong-secret", "no-secret", "tampered-body", "missing", "no-prefix", "sha1", "short", "not-hex"],
)
def test_a_delivery_that_is_not_signed_right_is_refused(signature: str | None, body: bytes, secret: str) -> None:
    headers = {**SIGNED_HEADERS, "X-Hub-Signature": signature} if signature else {"Content-Type": "application/json"}

    with pytest.raises(InvalidSignature):
        JiraWebhooks().verify_webhook(headers, body, secret, NOW)


EXAMPLE_EVENTS = {
    "webhook-cloud-issue-created-many-fields.json": ("10509", "KT-22", False, "To Do", ItemStatus.OPEN),
    "webhook-issue-created.json": ("10040", "TES-41", False, "To Do", ItemStatus.OPEN),
    "webhook-issue-deleted.json": ("10303", None, True, "", None),
    "webhook-issue-updated-assigned.json": ("10040", "TES-41", False, "To Do", ItemStatus.OPEN),
    "webhook-issue-updated-reopened.json": ("10040", "TES-41", False, "To Do", ItemStatus.OPEN),
    "webhook-issue-updated-resolved.json": ("10040", "TES-41", False, "Done", ItemStatus.DONE),
    "webhook-issue-updated-started-working.json": ("10040", "TES-41", False, "In Progress", ItemStatus.IN_PROGRESS),
}


def test_every_example_payload_is_covered() -> None:
    assert {path.name for path in EXAMPLES.glob("*.json")} == set(EXAMPLE_EVENTS)


@pytest.mark.parametrize("name", sorted(EXAMPLE_EVENTS))
def test_example_payloads_are_verified_and_mapped(name: str) -> None:
    issue_id, key, deleted, state, status = EXAMPLE_EVENTS[name]
    site = TrackerConfig("jira", "https://some-site.atlassian.net", {"project_key": "TES"}, token="t")
    headers, body = signed_webhook((EXAMPLES / name).read_bytes(), SECRET, delivery_id=f"delivery-{name}")

    JiraWebhooks().verify_webhook(headers, body, SECRET, NOW)
    event = JiraWebhooks().parse_webhook(headers, body, site)

    assert (event.delivery_id, event.issue_id, event.deleted) == (f"delivery-{name}", issue_id, deleted)
    if key is None:
        assert event.issue is None
    else:
        assert event.issue == RemoteIssue(issue_id, key, f"https://some-site.atlassian.net/browse/{key}", state, status)


def resolved_example(resolution: str) -> bytes:
    payload = json.loads((EXAMPLES / "webhook-issue-updated-resolved.json").read_bytes())
    payload["issue"]["fields"]["resolution"]["name"] = resolution
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("resolution", "settings", "status_map", "expected"),
    [
        ("Won't Do", {}, {}, ItemStatus.WONT_DO),
        ("Won\u2019t Fix", {}, {}, ItemStatus.WONT_DO),
        ("DUPLICATE", {}, {}, ItemStatus.WONT_DO),
        ("Cannot Reproduce", {}, {}, ItemStatus.WONT_DO),
        ("Fixed", {}, {}, ItemStatus.DONE),
        ("Obsolete", {"wont_do_resolutions": ["Obsolete"]}, {}, ItemStatus.WONT_DO),
        ("Duplicate", {"wont_do_resolutions": ["Obsolete"]}, {}, ItemStatus.DONE),
        ("Won't Do", {}, {"Done": ItemStatus.DONE}, ItemStatus.DONE),
    ],
)
def test_done_with_a_wont_do_resolution_maps_to_wont_do(
    resolution: str, settings: dict[str, Any], status_map: dict[str, ItemStatus], expected: ItemStatus
) -> None:
    site = TrackerConfig("jira", "https://x.atlassian.net", settings, token="t", status_map=status_map)
    headers, body = signed_webhook(resolved_example(resolution), SECRET)

    event = JiraWebhooks().parse_webhook(headers, body, site)

    assert event.issue is not None
    assert event.issue.status is expected


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"webhookEvent": "comment_created", "issue": {"id": "10040", "key": "TES-41"}}',
        b'{"webhookEvent": "jira:issue_updated"}',
        b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "TES-41"}}',
        b'{"webhookEvent": "jira:issue_updated", "issue": "10040"}',
    ],
    ids=["text", "binary", "array", "other-event", "no-issue", "no-id", "issue-not-object"],
)
def test_other_or_unreadable_events_carry_no_issue(body: bytes) -> None:
    headers, _ = signed_webhook(body, SECRET, delivery_id="d-1")

    event = JiraWebhooks().parse_webhook(headers, body, TrackerConfig("jira", "https://x", {}, token="t"))

    assert (event.delivery_id, event.issue_id, event.deleted, event.issue) == ("d-1", None, False, None)


def test_an_issue_without_status_or_known_category_is_unmapped() -> None:
    site = TrackerConfig("jira", "https://x.atlassian.net", {}, token="t")
    bodies = [
        {"webhookEvent": "jira:issue_updated", "issue": {"id": 10040, "key": "TES-41", "fields": {}}},
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"id": "10040", "key": "TES-41", "fields": {"status": {"name": "Parked", "statusCategory": {}}}},
        },
    ]

    events = [JiraWebhooks().parse_webhook(*signed_webhook(body, SECRET), site) for body in bodies]

    assert [(e.issue_id, e.issue and (e.issue.state, e.issue.status)) for e in events] == [
        ("10040", ("", None)),
        ("10040", ("Parked", None)),
    ]


def test_a_delivery_without_identifier_is_identified_by_its_body() -> None:
    headers, body = signed_webhook(resolved_example("Done"), SECRET)
    del headers["X-Atlassian-Webhook-Identifier"]
    site = TrackerConfig("jira", "https://x.atlassian.net", {}, token="t")

    first = JiraWebhooks().parse_webhook(headers, body, site)
    again = JiraWebhooks().parse_webhook(headers, body, site)
    other = JiraWebhooks().parse_webhook(headers, resolved_example("Fixed"), site)

    assert first.delivery_id == again.delivery_id
    assert first.delivery_id.startswith("sha256:")
    assert other.delivery_id != first.delivery_id


async def test_webhooks_from_the_fake_site_round_trip(jira: FakeJira, client: httpx.AsyncClient) -> None:
    jira_adapter = adapter(jira, client)
    created = await jira_adapter.create_issue(draft())
    jira.move(created.key, "Done", "Cannot Reproduce")
    codec, site = JiraWebhooks(), config(jira)

    updated = signed_webhook(jira.webhook(created.key), SECRET, retry=1)
    codec.verify_webhook(*updated, SECRET, NOW)
    jira.delete_issue(created.key)
    deleted = signed_webhook(jira.webhook(created.id, "jira:issue_deleted"), SECRET)

    assert codec.parse_webhook(*updated, site).issue == replace(created, state="Done", status=ItemStatus.WONT_DO)
    assert json.loads(updated[1])["issue"]["fields"]["description"].startswith("Fail the deploy")
    event = codec.parse_webhook(*deleted, site)
    assert (event.issue_id, event.deleted) == (created.id, True)
