from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.auth.models import Scope
from service.settings import Settings
from tests.factories import (
    SUBMITTABLE_STANDARD,
    add_action_item,
    add_event,
    create_postmortem,
    submittable_postmortem,
)
from tests.problems import UNKNOWN_ID, assert_problem

STANDARD_REQUIREMENTS = ("summary", "started_at", "resolved_at", "impact", "timeline", "root_cause", "action_items")
QUICK_REQUIREMENTS = ("summary", "root_cause", "action_items")
QUICK_CONTENT = {"summary": SUBMITTABLE_STANDARD["summary"], "root_cause": SUBMITTABLE_STANDARD["root_cause"]}

VALID_TRANSITIONS = {
    "submit": ("draft", "in_review"),
    "request-changes": ("in_review", "draft"),
    "approve": ("in_review", "in_review"),
    "complete": ("in_review", "complete"),
    "reopen": ("complete", "in_review"),
}
WRONG_STATE_TRANSITIONS = [
    (action, state)
    for action, (source, _) in VALID_TRANSITIONS.items()
    for state in ("draft", "in_review", "complete")
    if state != source
]


def error_fields(response: httpx.Response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def transition(
    client: httpx.AsyncClient, postmortem_id: str, action: str, comment: str | None = None
) -> httpx.Response:
    body = {"comment": comment} if comment is not None else None
    return await client.post(f"/v1/postmortems/{postmortem_id}/{action}", json=body)


async def step(
    client: httpx.AsyncClient, postmortem_id: str, action: str, comment: str | None = None
) -> dict[str, Any]:
    response = await transition(client, postmortem_id, action, comment)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def fetch(client: httpx.AsyncClient, postmortem_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/postmortems/{postmortem_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def postmortem_in(status: str, client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> dict[str, Any]:
    """A submittable postmortem moved to `status`, approved by "admin" on the way to complete."""
    postmortem = await submittable_postmortem(client)
    if status == "draft":
        return postmortem
    postmortem = await step(client, postmortem["id"], "submit")
    if status == "in_review":
        return postmortem
    await step(admin_client, postmortem["id"], "approve")
    return await step(client, postmortem["id"], "complete")


async def standard_postmortem_without(client: httpx.AsyncClient, missing: set[str]) -> dict[str, Any]:
    postmortem = await create_postmortem(
        client, template="standard", **{k: v for k, v in SUBMITTABLE_STANDARD.items() if k not in missing}
    )
    if "timeline" not in missing:
        await add_event(client, postmortem["id"])
    if "action_items" not in missing:
        await add_action_item(client, postmortem["id"])
    return postmortem


@pytest.mark.parametrize("action", list(VALID_TRANSITIONS))
async def test_each_transition_from_its_state_answers_the_updated_postmortem(
    action: str, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    source, target = VALID_TRANSITIONS[action]
    before = await postmortem_in(source, client, admin_client)
    if action == "complete":
        before = await step(admin_client, before["id"], "approve")
    actor = admin_client if action == "reopen" else client

    response = await transition(
        actor, before["id"], action, "Please add detail." if action == "request-changes" else None
    )

    assert response.status_code == 200, response.text
    after = response.json()
    assert after["id"] == before["id"]
    assert after["status"] == target
    assert after["version"] == before["version"] + 1
    assert parse_time(after["updated_at"]) >= parse_time(before["updated_at"])
    fetched = await client.get(f"/v1/postmortems/{before['id']}")
    assert (fetched.json(), fetched.headers["etag"]) == (after, response.headers["etag"])


@pytest.mark.parametrize(("action", "state"), WRONG_STATE_TRANSITIONS)
async def test_transition_from_a_wrong_state_is_a_conflict(
    action: str, state: str, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await postmortem_in(state, client, admin_client)
    before = await fetch(client, postmortem["id"])

    response = await transition(admin_client, postmortem["id"], action, "Please add detail.")

    body = assert_problem(response, 409)
    assert body["errors"] == [
        {
            "field": "status",
            "location": "resource",
            "message": f"must be {VALID_TRANSITIONS[action][0]}",
            "code": "invalid_transition",
        }
    ]
    assert await fetch(client, postmortem["id"]) == before


async def test_review_cycle_sets_timestamps_and_bumps_the_etag_at_every_step(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client)
    pid = postmortem["id"]
    assert postmortem["submitted_at"] is None
    assert postmortem["completed_at"] is None
    etags = [(await client.get(f"/v1/postmortems/{pid}")).headers["etag"]]
    versions = [postmortem["version"]]

    async def take(actor: httpx.AsyncClient, action: str, comment: str | None = None) -> dict[str, Any]:
        response = await transition(actor, pid, action, comment)
        assert response.status_code == 200, response.text
        etags.append(response.headers["etag"])
        versions.append(response.json()["version"])
        return dict(response.json())

    submitted = await take(client, "submit")
    assert submitted["submitted_at"] is not None
    assert submitted["completed_at"] is None
    sent_back = await take(admin_client, "request-changes", "Add the detection gap.")
    assert sent_back["status"] == "draft"
    resubmitted = await take(client, "submit")
    assert parse_time(resubmitted["submitted_at"]) >= parse_time(submitted["submitted_at"])
    await take(admin_client, "approve")
    completed = await take(client, "complete")
    assert completed["status"] == "complete"
    assert parse_time(completed["completed_at"]) >= parse_time(resubmitted["submitted_at"])
    reopened = await take(admin_client, "reopen")
    assert reopened["status"] == "in_review"
    assert reopened["completed_at"] is None
    assert reopened["submitted_at"] == resubmitted["submitted_at"]
    assert [approval["name"] for approval in reopened["approvals"]] == ["admin"]
    recompleted = await take(client, "complete")
    assert recompleted["completed_at"] is not None

    assert versions == list(range(versions[0], versions[0] + len(versions)))
    assert len(set(etags)) == len(etags)
    assert (await client.get(f"/v1/postmortems/{pid}")).headers["etag"] == etags[-1]


@pytest.mark.parametrize(
    "missing",
    [{requirement} for requirement in STANDARD_REQUIREMENTS] + [set(STANDARD_REQUIREMENTS)],
    ids=[*STANDARD_REQUIREMENTS, "everything"],
)
async def test_standard_submission_lists_every_unmet_requirement(missing: set[str], client: httpx.AsyncClient) -> None:
    postmortem = await standard_postmortem_without(client, missing)

    response = await transition(client, postmortem["id"], "submit")

    body = assert_problem(response, 409)
    assert error_fields(response) == missing
    assert all(error["code"] == "required" and error["location"] == "resource" for error in body["errors"])
    after = await fetch(client, postmortem["id"])
    assert (after["status"], after["version"], after["submitted_at"]) == ("draft", postmortem["version"], None)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"summary": "   ", "impact": {}}, {"summary", "impact"}),
        ({"root_cause": "", "impact": {"description": "", "users_affected": None}}, {"root_cause", "impact"}),
    ],
    ids=["blank-summary-and-empty-impact", "empty-root-cause-and-impact"],
)
async def test_blank_content_does_not_count_for_submission(
    content: dict[str, Any], expected: set[str], client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client, **content)

    response = await transition(client, postmortem["id"], "submit")

    assert_problem(response, 409)
    assert error_fields(response) == expected


@pytest.mark.parametrize(
    "missing",
    [{requirement} for requirement in QUICK_REQUIREMENTS] + [set(QUICK_REQUIREMENTS)],
    ids=[*QUICK_REQUIREMENTS, "everything"],
)
async def test_quick_submission_lists_every_unmet_requirement(missing: set[str], client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(
        client, severity="P3", **{k: v for k, v in QUICK_CONTENT.items() if k not in missing}
    )
    assert postmortem["template"] == "quick"
    if "action_items" not in missing:
        await add_action_item(client, postmortem["id"])

    response = await transition(client, postmortem["id"], "submit")

    assert_problem(response, 409)
    assert error_fields(response) == missing
    assert (await fetch(client, postmortem["id"]))["status"] == "draft"


async def test_quick_postmortem_needs_only_summary_root_cause_and_an_action_item(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, severity="P1", template="quick", **QUICK_CONTENT)
    await add_action_item(client, postmortem["id"])

    submitted = await step(client, postmortem["id"], "submit")

    assert submitted["status"] == "in_review"
    assert submitted["started_at"] is None
    assert submitted["impact"] is None


async def test_complete_needs_an_approval(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    postmortem = await postmortem_in("in_review", client, admin_client)

    refused = await transition(client, postmortem["id"], "complete")

    body = assert_problem(refused, 409)
    assert body["errors"] == [
        {
            "field": "approvals",
            "location": "resource",
            "message": "1 approval(s) required, 0 given",
            "code": "insufficient",
        }
    ]
    assert (await fetch(client, postmortem["id"]))["status"] == "in_review"
    await step(client, postmortem["id"], "approve")
    assert (await step(client, postmortem["id"], "complete"))["status"] == "complete"


async def test_complete_names_each_action_items_missing_details(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client)
    pid = postmortem["id"]
    no_owner = await add_action_item(client, pid, title="Add a canary stage", owner=None)
    bare = await add_action_item(client, pid, title="Write a runbook", owner=None, priority=None, due_date=None)
    await step(client, pid, "submit")
    await step(admin_client, pid, "approve")

    refused = await transition(client, pid, "complete")

    assert_problem(refused, 409)
    assert error_fields(refused) == {
        f"action_items[{no_owner['id']}].owner",
        f"action_items[{bare['id']}].owner",
        f"action_items[{bare['id']}].priority",
        f"action_items[{bare['id']}].due_date",
    }
    for item in (no_owner, bare):
        fixed = await client.patch(
            f"/v1/action-items/{item['id']}", json={"owner": "@sre", "priority": "P2", "due_date": "2099-03-01"}
        )
        assert fixed.status_code == 200, fixed.text
    assert (await step(client, pid, "complete"))["status"] == "complete"


async def test_complete_rechecks_the_submission_requirements(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await postmortem_in("in_review", client, admin_client)
    edited = await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"summary": None, "resolved_at": None})
    assert edited.status_code == 200, edited.text

    refused = await transition(client, postmortem["id"], "complete")

    assert_problem(refused, 409)
    assert error_fields(refused) == {"summary", "resolved_at", "approvals"}


@pytest.fixture
async def strict_app(app: FastAPI, database_url: str) -> AsyncIterator[FastAPI]:
    """An app on the shared database whose P1 postmortems need two approvals."""
    strict = create_app(Settings(database_url=database_url, required_approvals={"P1": 2}))
    yield strict
    await strict.state.engine.dispose()


@pytest.fixture
async def strict_clients(
    strict_app: FastAPI, api_keys: dict[Scope, str]
) -> AsyncIterator[Callable[[Scope], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def for_scope(scope: Scope) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=strict_app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {api_keys[scope]}"},
        )
        clients.append(client)
        return client

    yield for_scope
    for client in clients:
        await client.aclose()


async def test_required_approvals_follow_the_severity_setting(
    strict_clients: Callable[[Scope], httpx.AsyncClient],
) -> None:
    writer, admin = strict_clients(Scope.WRITE), strict_clients(Scope.ADMIN)
    p1 = await submittable_postmortem(writer, severity="P1")
    p2 = await submittable_postmortem(writer, severity="P2")
    for postmortem in (p1, p2):
        await step(writer, postmortem["id"], "submit")
        await step(writer, postmortem["id"], "approve")

    refused = await transition(writer, p1["id"], "complete")

    body = assert_problem(refused, 409)
    assert [(e["field"], e["message"]) for e in body["errors"]] == [("approvals", "2 approval(s) required, 1 given")]
    readiness = (await writer.get(f"/v1/postmortems/{p1['id']}/readiness")).json()
    assert readiness["errors"] == body["errors"]
    assert (await step(writer, p2["id"], "complete"))["status"] == "complete"
    await step(admin, p1["id"], "approve")
    assert (await step(writer, p1["id"], "complete"))["status"] == "complete"


async def test_approve_records_each_key_name_once(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    postmortem = await postmortem_in("in_review", client, admin_client)
    pid = postmortem["id"]

    approved = await step(client, pid, "approve")
    assert [approval["name"] for approval in approved["approvals"]] == ["writer"]
    approved_at = parse_time(approved["approvals"][0]["approved_at"])
    assert approved_at.utcoffset() is not None
    assert parse_time(postmortem["submitted_at"]) <= approved_at

    again = await transition(client, pid, "approve")
    body = assert_problem(again, 409)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("approvals", "duplicate_approval")]

    same_name = await admin_client.post("/v1/api-keys", json={"name": "writer", "scope": "write"})
    assert same_name.status_code == 201, same_name.text
    other_key = {"Authorization": f"Bearer {same_name.json()['key']}"}
    assert_problem(await client.post(f"/v1/postmortems/{pid}/approve", headers=other_key), 409)

    second = await step(admin_client, pid, "approve")
    assert [approval["name"] for approval in second["approvals"]] == ["writer", "admin"]
    assert second["approvals"][0] == approved["approvals"][0]
    assert (await fetch(client, pid))["approvals"] == second["approvals"]


async def test_request_changes_clears_approvals(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    postmortem = await postmortem_in("in_review", client, admin_client)
    pid = postmortem["id"]
    await step(admin_client, pid, "approve")

    sent_back = await step(client, pid, "request-changes", "The timeline misses the rollback.")

    assert sent_back["approvals"] == []
    await step(client, pid, "submit")
    refused = await transition(client, pid, "complete")
    assert_problem(refused, 409)
    assert error_fields(refused) == {"approvals"}
    assert [a["name"] for a in (await step(admin_client, pid, "approve"))["approvals"]] == ["admin"]


@pytest.mark.parametrize(
    "body",
    [None, {}, {"comment": ""}, {"comment": None}, {"comment": 5}, {"comment": "ok", "reason": "x"}],
    ids=["no-body", "empty-object", "empty-comment", "null-comment", "number", "unknown-field"],
)
async def test_request_changes_needs_a_comment(
    body: dict[str, Any] | None, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await postmortem_in("in_review", client, admin_client)

    response = await client.post(f"/v1/postmortems/{postmortem['id']}/request-changes", json=body)

    problem = assert_problem(response, 422)
    assert problem["errors"]
    assert (await fetch(client, postmortem["id"]))["status"] == "in_review"


async def test_reopen_needs_the_admin_scope(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    postmortem = await postmortem_in("complete", client, admin_client)

    assert_problem(await transition(client, postmortem["id"], "reopen"), 403)

    assert await fetch(client, postmortem["id"]) == postmortem


@pytest.mark.parametrize("action", ["submit", "approve", "complete", "reopen"])
async def test_readers_cannot_take_workflow_steps(
    action: str, reader_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client)

    assert_problem(await transition(reader_client, postmortem["id"], action), 403)

    after = await fetch(reader_client, postmortem["id"])
    assert (after["status"], after["version"]) == ("draft", postmortem["version"])


async def test_workflow_on_an_unknown_postmortem_is_404(client: httpx.AsyncClient) -> None:
    for path in ("submit", "approve", "complete"):
        assert_problem(await client.post(f"/v1/postmortems/{UNKNOWN_ID}/{path}"), 404)
    for path in ("readiness", "history"):
        assert_problem(await client.get(f"/v1/postmortems/{UNKNOWN_ID}/{path}"), 404)


async def test_readiness_of_a_draft_is_the_submission_checklist(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(client, summary="Checkout failed.")
    url = f"/v1/postmortems/{postmortem['id']}/readiness"
    etag = (await client.get(f"/v1/postmortems/{postmortem['id']}")).headers["etag"]

    readiness = await reader_client.get(url)

    assert readiness.status_code == 200, readiness.text
    checklist = readiness.json()
    refused = await transition(client, postmortem["id"], "submit")
    assert_problem(refused, 409)
    assert checklist == {
        "status": "draft",
        "next_action": "submit",
        "ready": False,
        "errors": refused.json()["errors"],
    }
    assert {error["field"] for error in checklist["errors"]} == set(STANDARD_REQUIREMENTS) - {"summary"}
    unchanged = await client.get(f"/v1/postmortems/{postmortem['id']}")
    assert unchanged.json() == postmortem
    assert unchanged.headers["etag"] == etag


async def test_readiness_reports_ready_without_acting(client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client)
    before = await fetch(client, postmortem["id"])

    readiness = await client.get(f"/v1/postmortems/{postmortem['id']}/readiness")

    assert readiness.json() == {"status": "draft", "next_action": "submit", "ready": True, "errors": []}
    assert await fetch(client, postmortem["id"]) == before


async def test_readiness_in_review_is_the_completion_checklist(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await postmortem_in("in_review", client, admin_client)
    await add_action_item(client, postmortem["id"], owner=None)
    before = await fetch(client, postmortem["id"])

    checklist = (await client.get(f"/v1/postmortems/{postmortem['id']}/readiness")).json()

    assert await fetch(client, postmortem["id"]) == before
    refused = await transition(client, postmortem["id"], "complete")
    assert_problem(refused, 409)
    assert checklist["errors"] == refused.json()["errors"]
    assert (checklist["status"], checklist["next_action"], checklist["ready"]) == ("in_review", "complete", False)
    assert {error["field"].split(".")[-1] for error in checklist["errors"]} == {"approvals", "owner"}


async def test_readiness_of_a_complete_postmortem_has_no_next_step(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await postmortem_in("complete", client, admin_client)

    checklist = (await client.get(f"/v1/postmortems/{postmortem['id']}/readiness")).json()

    assert checklist == {"status": "complete", "next_action": None, "ready": False, "errors": []}


async def test_history_lists_every_transition_in_order(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client)
    pid = postmortem["id"]
    assert (await reader_client.get(f"/v1/postmortems/{pid}/history")).json()["items"] == []
    await step(client, pid, "submit")
    await step(admin_client, pid, "request-changes", "Add the rollback to the timeline.")
    assert_problem(await transition(client, pid, "complete"), 409)
    resubmitted = await step(client, pid, "submit")
    await step(admin_client, pid, "approve")
    completed = await step(client, pid, "complete")
    await step(admin_client, pid, "reopen")

    response = await reader_client.get(f"/v1/postmortems/{pid}/history")

    assert response.status_code == 200, response.text
    history = response.json()["items"]
    assert [(h["action"], h["from_status"], h["to_status"], h["actor"], h["comment"]) for h in history] == [
        ("submit", "draft", "in_review", "writer", None),
        ("request-changes", "in_review", "draft", "admin", "Add the rollback to the timeline."),
        ("submit", "draft", "in_review", "writer", None),
        ("approve", "in_review", "in_review", "admin", None),
        ("complete", "in_review", "complete", "writer", None),
        ("reopen", "complete", "in_review", "admin", None),
    ]
    times = [parse_time(h["at"]) for h in history]
    assert times == sorted(times)
    assert all(time.utcoffset() is not None for time in times)
    assert times[2] == parse_time(resubmitted["submitted_at"])
    assert times[4] == parse_time(completed["completed_at"])
    assert len({h["id"] for h in history}) == len(history)


FROZEN_REQUESTS = [
    ("PATCH", "/v1/postmortems/{pm}", {"title": "Renamed"}, "frozen"),
    ("DELETE", "/v1/postmortems/{pm}", None, "not_draft"),
    ("POST", "/v1/postmortems/{pm}/timeline", {"occurred_at": "2025-01-15T09:40:00Z", "description": "Late"}, "frozen"),
    ("PATCH", "/v1/postmortems/{pm}/timeline/{event}", {"description": "Edited"}, "frozen"),
    ("DELETE", "/v1/postmortems/{pm}/timeline/{event}", None, "frozen"),
    ("POST", "/v1/postmortems/{pm}/action-items", {"title": "One more thing"}, "frozen"),
    ("DELETE", "/v1/action-items/{item}", None, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"title": "Edited"}, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"description": "More"}, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"owner": "@someone-else"}, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"priority": "P0"}, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"due_date": "2099-12-31"}, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"kind": "detect"}, "frozen"),
    ("PATCH", "/v1/action-items/{item}", {"status": "done", "owner": "@someone-else"}, "frozen"),
]


async def complete_postmortem_with_children(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> dict[str, str]:
    postmortem = await create_postmortem(client, **SUBMITTABLE_STANDARD)
    event = await add_event(client, postmortem["id"])
    item = await add_action_item(client, postmortem["id"])
    await step(client, postmortem["id"], "submit")
    await step(admin_client, postmortem["id"], "approve")
    await step(client, postmortem["id"], "complete")
    return {"pm": postmortem["id"], "event": event["id"], "item": item["id"]}


async def snapshot(client: httpx.AsyncClient, ids: dict[str, str]) -> list[Any]:
    return [
        (await client.get(f"/v1/postmortems/{ids['pm']}")).json(),
        (await client.get(f"/v1/postmortems/{ids['pm']}/timeline")).json(),
        (await client.get(f"/v1/postmortems/{ids['pm']}/action-items")).json(),
    ]


@pytest.mark.parametrize(("method", "path", "body", "code"), FROZEN_REQUESTS)
async def test_a_complete_postmortem_is_frozen(
    method: str,
    path: str,
    body: dict[str, Any] | None,
    code: str,
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
) -> None:
    ids = await complete_postmortem_with_children(client, admin_client)
    before = await snapshot(client, ids)

    response = await client.request(method, path.format(**ids), json=body)

    problem = assert_problem(response, 409)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("status", code)]
    assert await snapshot(client, ids) == before


async def test_action_item_status_stays_changeable_when_complete(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    ids = await complete_postmortem_with_children(client, admin_client)
    postmortem = await fetch(client, ids["pm"])

    response = await client.patch(f"/v1/action-items/{ids['item']}", json={"status": "done"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"
    assert response.json()["completed_at"] is not None
    after = await fetch(client, ids["pm"])
    assert after["status"] == "complete"
    assert after["action_items_summary"] == {"total": 1, "open": 0, "done": 1, "overdue": 0}
    assert after["completed_at"] == postmortem["completed_at"]


async def test_reopening_unfreezes_the_postmortem(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    ids = await complete_postmortem_with_children(client, admin_client)
    await step(admin_client, ids["pm"], "reopen")

    edited = await client.patch(f"/v1/postmortems/{ids['pm']}", json={"title": "Renamed"})
    event = await client.patch(f"/v1/postmortems/{ids['pm']}/timeline/{ids['event']}", json={"description": "Edited"})
    item = await client.patch(f"/v1/action-items/{ids['item']}", json={"owner": "@someone-else"})

    assert [edited.status_code, event.status_code, item.status_code] == [200, 200, 200]
    assert edited.json()["title"] == "Renamed"
