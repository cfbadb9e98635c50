import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from service.postmortems.models import Postmortem
from tests.database import committed_session
from tests.factories import SUBMITTABLE_STANDARD, add_action_item, add_event, create_postmortem, submittable_postmortem
from tests.paging import ids_in_pages_of
from tests.problems import UNKNOWN_ID, assert_invalid, assert_problem, problem_errors

FULL = {
    "title": "Checkout outage after config push",
    "severity": "P1",
    "incident_ref": "https://incidents.example.com/INC-4711",
    "authors": ["alice", "bob"],
    "services": ["checkout", "payments"],
    "tags": ["config", "payments"],
    "started_at": "2025-01-15T10:50:00+02:00",
    "detected_at": "2025-01-15T09:00:00Z",
    "mitigated_at": "2025-01-15T04:20:00-05:00",
    "resolved_at": "2025-01-15T09:35:30.250000+00:00",
    "summary": "Checkout failed for 45 minutes after a bad config push.",
    "impact": {
        "users_affected": 1200,
        "revenue_impact": "~$4k in failed orders",
        "sla_impact": "99.9% monthly SLA breached",
        "description": "Checkout returned 500s",
    },
    "root_cause": "The payment client's timeout was set to 0 by the config push.",
    "five_whys": [{"question": "Why did checkout fail?", "answer": "The payment client timed out."}],
    "contributing_factors": ["No canary for config pushes"],
    "what_went_well": ["Rollback took two minutes"],
    "what_went_poorly": ["Alert fired ten minutes late"],
    "lessons_learned": "Config is code.",
    "failure_mode": "config-push",
    "links": [{"title": "Latency dashboard", "url": "https://grafana.example.com/d/abc"}],
}
UTC_TIMESTAMPS = {
    "started_at": datetime(2025, 1, 15, 8, 50, tzinfo=UTC),
    "detected_at": datetime(2025, 1, 15, 9, 0, tzinfo=UTC),
    "mitigated_at": datetime(2025, 1, 15, 9, 20, tzinfo=UTC),
    "resolved_at": datetime(2025, 1, 15, 9, 35, 30, 250000, tzinfo=UTC),
}
TIMESTAMP_FIELDS = tuple(UTC_TIMESTAMPS)
READ_ONLY_FIELDS = {
    "id": UNKNOWN_ID,
    "status": "complete",
    "version": 7,
    "created_at": "2025-01-15T09:00:00Z",
    "updated_at": "2025-01-15T09:00:00Z",
    "submitted_at": "2025-01-15T09:00:00Z",
    "completed_at": "2025-01-15T09:00:00Z",
    "approvals": [],
    "action_items_summary": {"total": 0, "open": 0, "done": 0, "overdue": 0},
    "duration_minutes": 5,
}


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


async def fetch(client: httpx.AsyncClient, postmortem_id: str) -> httpx.Response:
    response = await client.get(f"/v1/postmortems/{postmortem_id}")
    assert response.status_code == 200, response.text
    return response


async def list_all(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/postmortems", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    return list(body["items"])


async def titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [item["title"] for item in await list_all(client, **params)]


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- create and get ---------------------------------------------------------------------------------------------


async def test_create_echoes_every_field_in_utc(client: httpx.AsyncClient) -> None:
    related = await create_postmortem(client)
    body = FULL | {"related_postmortem_ids": [related["id"]]}

    response = await client.post("/v1/postmortems", json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/postmortems/{created['id']}"
    assert created["version"] == 1
    for field, value in body.items():
        if field not in UTC_TIMESTAMPS:
            assert created[field] == value, field
    for field, instant in UTC_TIMESTAMPS.items():
        assert utc(created[field]) == instant, field
    assert created["template"] == "standard"
    assert created["status"] == "draft"
    assert created["version"] == 1
    assert created["duration_minutes"] == 45
    assert created["time_to_detect_minutes"] == 10
    assert created["time_to_resolve_minutes"] == 35
    assert created["submitted_at"] is None
    assert created["completed_at"] is None
    assert created["approvals"] == []
    assert created["action_items_summary"] == {"total": 0, "open": 0, "done": 0, "overdue": 0}
    assert utc(created["created_at"]) <= utc(created["updated_at"])


async def test_create_with_only_the_required_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/postmortems", json={"title": "Login latency", "severity": "P2"})

    assert response.status_code == 201, response.text
    created = response.json()
    for field in ("authors", "services", "tags", "five_whys", "contributing_factors", "related_postmortem_ids"):
        assert created[field] == [], field
    for field in ("incident_ref", "summary", "impact", "root_cause", "failure_mode", *TIMESTAMP_FIELDS):
        assert created[field] is None, field
    for field in ("duration_minutes", "time_to_detect_minutes", "time_to_resolve_minutes"):
        assert created[field] is None, field


@pytest.mark.parametrize(("severity", "template"), [("P1", "standard"), ("P2", "standard"), ("P3", "quick")])
async def test_template_defaults_by_severity(client: httpx.AsyncClient, severity: str, template: str) -> None:
    created = await create_postmortem(client, severity=severity)
    assert created["template"] == template


@pytest.mark.parametrize(("severity", "template"), [("P1", "quick"), ("P3", "standard")])
async def test_explicit_template_is_kept(client: httpx.AsyncClient, severity: str, template: str) -> None:
    created = await create_postmortem(client, severity=severity, template=template)
    assert created["template"] == template


async def test_get_returns_what_create_returned(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/postmortems", json=FULL)
    created = response.json()

    fetched = await fetch(reader_client, created["id"])

    assert fetched.json() == created
    assert fetched.headers["etag"] == response.headers["etag"]


async def test_durations_round_down_to_whole_minutes(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(
        client,
        started_at="2025-01-15T09:00:00Z",
        detected_at="2025-01-15T09:00:59Z",
        resolved_at="2025-01-15T11:01:00Z",
    )
    assert created["time_to_detect_minutes"] == 0
    assert created["duration_minutes"] == 121
    assert created["time_to_resolve_minutes"] == 120


async def test_get_unknown_postmortem_is_404(client: httpx.AsyncClient) -> None:
    errors = problem_errors(await client.get(f"/v1/postmortems/{UNKNOWN_ID}"), 404)
    assert errors == []


async def test_get_with_a_malformed_id_names_the_path_parameter(client: httpx.AsyncClient) -> None:
    assert_invalid(await client.get("/v1/postmortems/not-a-uuid"), "postmortem_id", location="path")


# --- partial update ---------------------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    created = (await client.post("/v1/postmortems", json=FULL)).json()

    response = await client.patch(
        f"/v1/postmortems/{created['id']}", json={"title": "Checkout outage", "tags": ["config"]}
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Checkout outage"
    assert updated["tags"] == ["config"]
    unchanged = set(created) - {"title", "tags", "version", "updated_at"}
    assert {field: updated[field] for field in unchanged} == {field: created[field] for field in unchanged}
    assert utc(updated["updated_at"]) > utc(created["updated_at"])
    assert (await fetch(client, created["id"])).json() == updated


async def test_every_patch_bumps_the_version_and_etag(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client)
    url = f"/v1/postmortems/{created['id']}"
    etags = [(await fetch(client, created["id"])).headers["etag"]]

    for expected_version in (2, 3, 4):
        response = await client.patch(url, json={"summary": f"take {expected_version}"})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == expected_version
        etags.append(response.headers["etag"])
    assert len(set(etags)) == 4
    assert (await fetch(client, created["id"])).headers["etag"] == etags[-1]


async def test_patch_can_set_every_field(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client, severity="P3")
    changes = FULL | {"template": "standard"}

    response = await client.patch(f"/v1/postmortems/{created['id']}", json=changes)

    assert response.status_code == 200, response.text
    updated = response.json()
    for field, value in changes.items():
        if field not in UTC_TIMESTAMPS:
            assert updated[field] == value, field
    for field, instant in UTC_TIMESTAMPS.items():
        assert utc(updated[field]) == instant, field
    assert updated["duration_minutes"] == 45


@pytest.mark.parametrize(
    "field",
    [
        "incident_ref",
        *TIMESTAMP_FIELDS,
        "summary",
        "impact",
        "root_cause",
        "lessons_learned",
        "failure_mode",
    ],
)
async def test_patch_null_clears_an_optional_field(client: httpx.AsyncClient, field: str) -> None:
    created = (await client.post("/v1/postmortems", json=FULL)).json()

    response = await client.patch(f"/v1/postmortems/{created['id']}", json={field: None})

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated[field] is None
    assert (await fetch(client, created["id"])).json()[field] is None
    others = set(FULL) - {field}
    assert {name: updated[name] for name in others} == {name: created[name] for name in others}


async def test_clearing_a_timestamp_clears_the_durations_derived_from_it(client: httpx.AsyncClient) -> None:
    created = (await client.post("/v1/postmortems", json=FULL)).json()

    updated = (await client.patch(f"/v1/postmortems/{created['id']}", json={"started_at": None})).json()

    assert updated["duration_minutes"] is None
    assert updated["time_to_detect_minutes"] is None
    assert updated["time_to_resolve_minutes"] == 35


@pytest.mark.parametrize(
    "field",
    [
        "title",
        "severity",
        "template",
        "authors",
        "services",
        "tags",
        "five_whys",
        "contributing_factors",
        "what_went_well",
        "what_went_poorly",
        "related_postmortem_ids",
        "links",
    ],
)
async def test_patch_null_for_a_required_field_is_refused(client: httpx.AsyncClient, field: str) -> None:
    created = (await client.post("/v1/postmortems", json=FULL)).json()

    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json={field: None}), field)

    assert (await fetch(client, created["id"])).json() == created


async def test_patch_of_an_unknown_postmortem_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.patch(f"/v1/postmortems/{UNKNOWN_ID}", json={"title": "x"}), 404)


# --- delete -----------------------------------------------------------------------------------------------------


async def test_delete_a_draft_removes_it_with_its_timeline_and_action_items(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client)
    item = await add_action_item(client, created["id"])
    await add_event(client, created["id"])

    response = await client.delete(f"/v1/postmortems/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"/v1/postmortems/{created['id']}"), 404)
    assert_problem(await client.get(f"/v1/postmortems/{created['id']}/timeline"), 404)
    assert_problem(await client.get(f"/v1/action-items/{item['id']}"), 404)
    assert_problem(await client.delete(f"/v1/postmortems/{created['id']}"), 404)
    assert await list_all(client) == []


async def test_delete_after_submission_is_a_conflict(client: httpx.AsyncClient) -> None:
    created = await submittable_postmortem(client)
    submitted = await client.post(f"/v1/postmortems/{created['id']}/submit")
    assert submitted.status_code == 200, submitted.text

    errors = problem_errors(await client.delete(f"/v1/postmortems/{created['id']}"), 409)

    assert [(error["field"], error["location"]) for error in errors] == [("status", "resource")]
    assert (await fetch(client, created["id"])).json() == submitted.json()


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", TIMESTAMP_FIELDS)
@pytest.mark.parametrize("value", ["2025-01-15T09:00:00", "2025-01-15 09:00:00", "2025-01-15"])
async def test_timestamp_without_offset_is_refused(client: httpx.AsyncClient, field: str, value: str) -> None:
    assert_invalid(await client.post("/v1/postmortems", json={"title": "x", "severity": "P1", field: value}), field)
    created = await create_postmortem(client)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json={field: value}), field)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_timestamp_outside_the_utc_range_is_refused(client: httpx.AsyncClient, value: str) -> None:
    body = {"title": "x", "severity": "P1", "started_at": value}
    assert_invalid(await client.post("/v1/postmortems", json=body), "started_at")


@pytest.mark.parametrize(
    ("earlier", "later"),
    [(a, b) for i, a in enumerate(TIMESTAMP_FIELDS) for b in TIMESTAMP_FIELDS[i + 1 :]],
)
async def test_create_refuses_timestamps_out_of_order(client: httpx.AsyncClient, earlier: str, later: str) -> None:
    body = {"title": "x", "severity": "P1", earlier: "2025-01-15T10:00:00Z", later: "2025-01-15T09:59:59Z"}

    errors = problem_errors(await client.post("/v1/postmortems", json=body), 422)

    assert [(error["field"], error["code"]) for error in errors] == [(later, "out_of_order")]
    assert earlier in errors[0]["message"]
    assert await list_all(client) == []


async def test_equal_timestamps_are_in_order(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client, **dict.fromkeys(TIMESTAMP_FIELDS, "2025-01-15T09:00:00Z"))
    assert created["duration_minutes"] == 0


async def test_ordering_compares_instants_not_local_times(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(
        client, started_at="2025-01-15T10:00:00+02:00", resolved_at="2025-01-15T09:00:00+00:00"
    )
    assert created["duration_minutes"] == 60


@pytest.mark.parametrize(
    "change",
    [
        {"started_at": "2025-01-15T09:05:00Z"},
        {"detected_at": "2025-01-15T08:40:00Z"},
        {"detected_at": "2025-01-15T09:25:00Z"},
        {"mitigated_at": "2025-01-15T09:40:00Z"},
        {"resolved_at": "2025-01-15T09:10:00Z"},
        {"resolved_at": "2025-01-15T08:00:00Z", "mitigated_at": None, "detected_at": None},
    ],
)
async def test_patch_checks_order_against_the_stored_timestamps(
    client: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    created = await create_postmortem(client, **SUBMITTABLE_STANDARD)
    sent = {field for field, value in change.items() if value is not None}

    errors = problem_errors(await client.patch(f"/v1/postmortems/{created['id']}", json=change), 422)

    assert {error["code"] for error in errors} == {"out_of_order"}
    named = {error["field"] for error in errors} | {
        field for error in errors for field in TIMESTAMP_FIELDS if field in error["message"]
    }
    assert sent <= named
    assert (await fetch(client, created["id"])).json() == created


async def test_patch_may_move_timestamps_together(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client, **SUBMITTABLE_STANDARD)
    moved = dict.fromkeys(TIMESTAMP_FIELDS, "2025-01-16T00:00:00Z")

    response = await client.patch(f"/v1/postmortems/{created['id']}", json=moved)

    assert response.status_code == 200, response.text
    assert response.json()["duration_minutes"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"titel": "typo"}, "titel"),
        ({"duration": 5}, "duration"),
        ({"impact": {"users": 3}}, "impact.users"),
        ({"five_whys": [{"question": "q", "answer": "a", "why": "w"}]}, "five_whys.0.why"),
        ({"links": [{"title": "t", "url": "https://example.com", "kind": "dash"}]}, "links.0.kind"),
    ],
)
async def test_unknown_fields_are_refused(client: httpx.AsyncClient, extra: dict[str, Any], field: str) -> None:
    assert_invalid(await client.post("/v1/postmortems", json={"title": "x", "severity": "P1"} | extra), field)
    created = await create_postmortem(client)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json=extra), field)
    assert (await fetch(client, created["id"])).json() == created


@pytest.mark.parametrize(("field", "value"), list(READ_ONLY_FIELDS.items()))
async def test_read_only_fields_cannot_be_written(client: httpx.AsyncClient, field: str, value: Any) -> None:
    assert_invalid(await client.post("/v1/postmortems", json={"title": "x", "severity": "P1", field: value}), field)
    created = await create_postmortem(client)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json={field: value}), field)


@pytest.mark.parametrize(
    ("field", "value"),
    [("severity", "P4"), ("severity", "p1"), ("severity", "critical"), ("template", "long"), ("template", "Quick")],
)
async def test_unknown_enum_values_are_refused(client: httpx.AsyncClient, field: str, value: str) -> None:
    errors = problem_errors(
        await client.post("/v1/postmortems", json={"title": "x", "severity": "P1", field: value}), 422
    )
    assert [(error["field"], error["code"]) for error in errors] == [(field, "enum")]
    created = await create_postmortem(client)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json={field: value}), field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": 123}, "title"),
        ({"title": True}, "title"),
        ({"title": ["x"]}, "title"),
        ({"severity": 1}, "severity"),
        ({"authors": "alice"}, "authors"),
        ({"authors": [1]}, "authors.0"),
        ({"tags": {"a": 1}}, "tags"),
        ({"impact": "big"}, "impact"),
        ({"impact": {"users_affected": "many"}}, "impact.users_affected"),
        ({"impact": {"users_affected": 1.5}}, "impact.users_affected"),
        ({"impact": {"users_affected": -1}}, "impact.users_affected"),
        ({"impact": {"users_affected": False}}, "impact.users_affected"),
        ({"impact": {"users_affected": "12"}}, "impact.users_affected"),
        ({"five_whys": [{"question": "Why?"}]}, "five_whys.0.answer"),
        ({"five_whys": ["Why?"]}, "five_whys.0"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": 0}, "started_at"),
        ({"started_at": 1736931600}, "started_at"),
        ({"started_at": "1736931600"}, "started_at"),
        ({"started_at": "2025-02-30T09:00:00Z"}, "started_at"),
        ({"related_postmortem_ids": ["not-a-uuid"]}, "related_postmortem_ids.0"),
        ({"related_postmortem_ids": UNKNOWN_ID}, "related_postmortem_ids"),
        ({"links": [{"title": "dashboard"}]}, "links.0.url"),
        ({"links": "https://example.com"}, "links"),
    ],
)
async def test_wrong_types_are_refused(client: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    assert_invalid(await client.post("/v1/postmortems", json={"title": "x", "severity": "P1"} | change), field)
    created = await create_postmortem(client)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json=change), field)


@pytest.mark.parametrize("missing", ["title", "severity"])
async def test_required_fields_must_be_sent(client: httpx.AsyncClient, missing: str) -> None:
    body = {"title": "x", "severity": "P1"}
    del body[missing]
    errors = problem_errors(await client.post("/v1/postmortems", json=body), 422)
    assert [(error["field"], error["code"]) for error in errors] == [(missing, "missing")]


@pytest.mark.parametrize("body", [[], "title", 42, [{"title": "x", "severity": "P1"}]])
async def test_body_must_be_an_object(client: httpx.AsyncClient, body: Any) -> None:
    assert_problem(await client.post("/v1/postmortems", json=body), 422)
    assert await list_all(client) == []


@pytest.mark.parametrize(
    ("field", "too_long", "longest"),
    [
        ("title", "t" * 201, "t" * 200),
        ("title", "", None),
        ("incident_ref", "i" * 501, "i" * 500),
        ("summary", "s" * 20_001, "s" * 20_000),
        ("root_cause", "r" * 20_001, None),
        ("lessons_learned", "l" * 20_001, None),
        ("failure_mode", "f" * 101, "f" * 100),
        ("failure_mode", "", None),
        ("authors", ["a" * 101], ["a" * 100]),
        ("services", [""], None),
        ("tags", [f"tag-{n}" for n in range(51)], [f"tag-{n}" for n in range(50)]),
        ("contributing_factors", ["c" * 2_001], ["c" * 2_000]),
        ("what_went_well", [f"w{n}" for n in range(101)], [f"w{n}" for n in range(100)]),
        ("what_went_poorly", [""], None),
        ("five_whys", [{"question": "q", "answer": "a"}] * 21, [{"question": "q", "answer": "a"}] * 20),
        ("links", [{"title": "t", "url": "https://example.com"}] * 51, None),
        ("related_postmortem_ids", [UNKNOWN_ID] * 51, None),
    ],
)
async def test_oversized_values_are_refused(client: httpx.AsyncClient, field: str, too_long: Any, longest: Any) -> None:
    base = {"title": "x", "severity": "P1"}
    errors = problem_errors(await client.post("/v1/postmortems", json=base | {field: too_long}), 422)
    assert {error["field"].split(".")[0] for error in errors} == {field}
    if longest is not None:
        created = await create_postmortem(client, **{field: longest})
        assert created[field] == longest


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"impact": {"revenue_impact": "r" * 501}}, "impact.revenue_impact"),
        ({"impact": {"sla_impact": "s" * 501}}, "impact.sla_impact"),
        ({"impact": {"description": "d" * 20_001}}, "impact.description"),
        ({"impact": {"users_affected": 10**12 + 1}}, "impact.users_affected"),
        ({"five_whys": [{"question": "q" * 2_001, "answer": "a"}]}, "five_whys.0.question"),
        ({"five_whys": [{"question": "q", "answer": ""}]}, "five_whys.0.answer"),
        ({"links": [{"title": "t" * 201, "url": "https://example.com"}]}, "links.0.title"),
        ({"links": [{"title": "t", "url": "https://example.com/" + "p" * 2_000}]}, "links.0.url"),
    ],
)
async def test_oversized_nested_values_are_refused(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    assert_invalid(await client.post("/v1/postmortems", json={"title": "x", "severity": "P1"} | change), field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "check\x00out"}, "title"),
        ({"incident_ref": "\x00"}, "incident_ref"),
        ({"summary": "a\x00b"}, "summary"),
        ({"authors": ["alice", "b\x00b"]}, "authors"),
        ({"impact": {"description": "x\x00"}}, "impact.description"),
        ({"five_whys": [{"question": "why\x00", "answer": "a"}]}, "five_whys.0.question"),
        ({"links": [{"title": "d\x00sh", "url": "https://example.com"}]}, "links.0.title"),
    ],
)
async def test_nul_characters_are_refused(client: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    assert_invalid(await client.post("/v1/postmortems", json={"title": "x", "severity": "P1"} | change), field)
    created = await create_postmortem(client)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json=change), field)
    assert (await fetch(client, created["id"])).json() == created


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example.com/log",
        "javascript:alert(1)",
        "grafana.example.com/d/abc",
        "https://",
        "https://exa mple.com",
        "mailto:oncall@example.com",
        "",
    ],
)
async def test_link_urls_must_be_http(client: httpx.AsyncClient, url: str) -> None:
    body = {
        "title": "x",
        "severity": "P1",
        "links": [{"title": "ok", "url": "http://example.com"}, {"title": "bad", "url": url}],
    }
    assert_invalid(await client.post("/v1/postmortems", json=body), "links.1.url")


async def test_related_postmortems_must_exist(client: httpx.AsyncClient) -> None:
    existing = await create_postmortem(client)
    body = {"title": "x", "severity": "P1", "related_postmortem_ids": [existing["id"], UNKNOWN_ID]}

    errors = problem_errors(await client.post("/v1/postmortems", json=body), 422)

    assert [(error["field"], error["code"]) for error in errors] == [("related_postmortem_ids", "unknown_id")]
    assert UNKNOWN_ID in errors[0]["message"]
    assert [item["id"] for item in await list_all(client)] == [existing["id"]]


async def test_patch_refuses_a_related_postmortem_that_does_not_exist(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client)
    change = {"related_postmortem_ids": [UNKNOWN_ID]}
    errors = problem_errors(await client.patch(f"/v1/postmortems/{created['id']}", json=change), 422)
    assert [(error["field"], error["code"]) for error in errors] == [("related_postmortem_ids", "unknown_id")]


async def test_a_postmortem_cannot_relate_to_itself(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client)
    change = {"related_postmortem_ids": [created["id"]]}
    errors = problem_errors(await client.patch(f"/v1/postmortems/{created['id']}", json=change), 422)
    assert [(error["field"], error["code"]) for error in errors] == [("related_postmortem_ids", "self_reference")]
    assert (await fetch(client, created["id"])).json() == created


async def test_related_postmortems_round_trip(client: httpx.AsyncClient) -> None:
    first = await create_postmortem(client)
    second = await create_postmortem(client)
    created = await create_postmortem(client, related_postmortem_ids=[first["id"]])

    response = await client.patch(
        f"/v1/postmortems/{created['id']}", json={"related_postmortem_ids": [second["id"], first["id"]]}
    )

    assert response.status_code == 200, response.text
    assert (await fetch(client, created["id"])).json()["related_postmortem_ids"] == [second["id"], first["id"]]


async def test_validation_lists_every_field_at_fault(client: httpx.AsyncClient) -> None:
    body = {"title": "", "severity": "P9", "tags": "x", "colour": "red"}
    errors = problem_errors(await client.post("/v1/postmortems", json=body), 422)
    assert {error["field"] for error in errors} == {"title", "severity", "tags", "colour"}
    assert all(error["message"] and error["code"] for error in errors)


# --- list -------------------------------------------------------------------------------------------------------


async def test_empty_list(reader_client: httpx.AsyncClient) -> None:
    response = await reader_client.get("/v1/postmortems")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_list_is_newest_first_and_items_match_get(client: httpx.AsyncClient) -> None:
    created = [await create_postmortem(client, title=f"pm {n}") for n in range(3)]
    await add_action_item(client, created[0]["id"])

    items = await list_all(client)

    assert [item["title"] for item in items] == ["pm 2", "pm 1", "pm 0"]
    for item in items:
        assert item == (await fetch(client, item["id"])).json()
    assert items[-1]["action_items_summary"]["total"] == 1


@pytest.fixture
async def catalogue(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Postmortems that differ in every filterable field, by title."""
    in_review = await submittable_postmortem(
        client, title="reviewed", severity="P1", services=["checkout"], tags=["payments"], failure_mode="config-push"
    )
    assert (await client.post(f"/v1/postmortems/{in_review['id']}/submit")).status_code == 200
    made = [
        await create_postmortem(client, title="checkout-p2", severity="P2", services=["checkout", "search"]),
        await create_postmortem(client, title="search-p3", severity="P3", services=["search"], tags=["pay"]),
        await create_postmortem(
            client,
            title="tagged",
            severity="P2",
            tags=["payments", "db"],
            failure_mode="capacity",
            services=["o'brien"],
        ),
    ]
    return {pm["title"]: pm for pm in [in_review, *made]}


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["tagged", "search-p3", "checkout-p2", "reviewed"]),
        ({"status": "in_review"}, ["reviewed"]),
        ({"status": "draft"}, ["tagged", "search-p3", "checkout-p2"]),
        ({"status": "complete"}, []),
        ({"severity": "P2"}, ["tagged", "checkout-p2"]),
        ({"severity": "P3"}, ["search-p3"]),
        ({"service": "checkout"}, ["checkout-p2", "reviewed"]),
        ({"service": "search"}, ["search-p3", "checkout-p2"]),
        ({"service": "o'brien"}, ["tagged"]),
        ({"service": "check"}, []),
        ({"tag": "payments"}, ["tagged", "reviewed"]),
        ({"tag": "pay"}, ["search-p3"]),
        ({"tag": "%"}, []),
        ({"failure_mode": "config-push"}, ["reviewed"]),
        ({"failure_mode": "capacity"}, ["tagged"]),
        ({"failure_mode": "config"}, []),
        ({"severity": "P2", "tag": "payments"}, ["tagged"]),
        ({"service": "checkout", "status": "draft"}, ["checkout-p2"]),
        ({"service": "search", "severity": "P1"}, []),
    ],
)
async def test_list_filters(reader_client: httpx.AsyncClient, params: dict[str, str], expected: list[str]) -> None:
    assert await titles(reader_client, **params) == expected


async def test_list_filters_by_creation_time(
    reader_client: httpx.AsyncClient, catalogue: dict[str, dict[str, Any]]
) -> None:
    pivot = catalogue["search-p3"]["created_at"]

    assert await titles(reader_client, created_after=pivot) == ["tagged", "search-p3"]
    assert await titles(reader_client, created_before=pivot) == ["checkout-p2", "reviewed"]
    assert await titles(reader_client, created_after=catalogue["checkout-p2"]["created_at"], created_before=pivot) == [
        "checkout-p2"
    ]
    shifted = utc(pivot).astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert await titles(reader_client, created_after=shifted) == ["tagged", "search-p3"]
    assert await titles(reader_client, created_after="2999-01-01T00:00:00Z") == []


async def test_filters_apply_across_pages(client: httpx.AsyncClient) -> None:
    wanted = [(await create_postmortem(client, severity="P1" if n % 3 == 0 else "P2"))["id"] for n in range(10)]
    p1_newest_first = [pid for n, pid in enumerate(wanted) if n % 3 == 0][::-1]
    assert await ids_in_pages_of(client, "/v1/postmortems", 1, severity="P1") == p1_newest_first


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"severity": "P9"}, "severity"),
        ({"created_after": "2025-01-15T09:00:00"}, "created_after"),
        ({"created_before": "last week"}, "created_before"),
        ({"created_after": "0.5"}, "created_after"),
        ({"created_before": "1736931600"}, "created_before"),
        ({"tag": "t" * 101}, "tag"),
        ({"service": "a\x00b"}, "service"),
        ({"failure_mode": "\x00"}, "failure_mode"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sort": "title"}, "sort"),
        ({"page": 2}, "page"),
    ],
)
async def test_invalid_query_parameters_are_named(
    reader_client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    assert_invalid(await reader_client.get("/v1/postmortems", params=params), field, location="query")


async def test_default_page_size_is_50(client: httpx.AsyncClient) -> None:
    ids = [(await create_postmortem(client, title=f"pm {n}"))["id"] for n in range(51)]

    first = (await client.get("/v1/postmortems")).json()
    assert [item["id"] for item in first["items"]] == ids[:0:-1]
    assert first["next_cursor"] is not None
    second = (await client.get("/v1/postmortems", params={"cursor": first["next_cursor"]})).json()
    assert [item["id"] for item in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None


async def test_largest_page_is_200(client: httpx.AsyncClient) -> None:
    await create_postmortem(client)
    response = await client.get("/v1/postmortems", params={"limit": 200})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


@pytest.mark.parametrize("limit", [1, 3, 7, 12, 13])
async def test_walking_the_pages_returns_every_postmortem_once(client: httpx.AsyncClient, limit: int) -> None:
    ids = [(await create_postmortem(client, title=f"pm {n}"))["id"] for n in range(12)]
    assert await ids_in_pages_of(client, "/v1/postmortems", limit) == ids[::-1]


async def test_pages_stay_stable_while_postmortems_are_added(client: httpx.AsyncClient) -> None:
    ids = [(await create_postmortem(client))["id"] for _ in range(9)]
    seen: list[str] = []
    cursor = None
    while True:
        page = (
            await client.get("/v1/postmortems", params={"limit": 4} | ({"cursor": cursor} if cursor else {}))
        ).json()
        seen.extend(item["id"] for item in page["items"])
        await create_postmortem(client, title="added while paging")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


async def test_deleting_the_last_item_of_a_page_does_not_break_the_next_page(client: httpx.AsyncClient) -> None:
    ids = [(await create_postmortem(client))["id"] for _ in range(5)]
    page = (await client.get("/v1/postmortems", params={"limit": 2})).json()
    assert (await client.delete(f"/v1/postmortems/{page['items'][-1]['id']}")).status_code == 204

    rest = (await client.get("/v1/postmortems", params={"limit": 10, "cursor": page["next_cursor"]})).json()

    assert [item["id"] for item in rest["items"]] == ids[2::-1]


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "not a cursor",
        "e30",  # {}
        cursor_of({"id": UNKNOWN_ID}),
        cursor_of([]),
        cursor_of(["not-a-uuid"]),
        cursor_of([1]),
        cursor_of([UNKNOWN_ID, UNKNOWN_ID]),
        cursor_of(["2025-01-15T09:00:00+00:00", UNKNOWN_ID]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "c" * 501,
    ],
)
async def test_malformed_cursor_names_the_cursor(client: httpx.AsyncClient, cursor: str) -> None:
    await create_postmortem(client)
    assert_invalid(await client.get("/v1/postmortems", params={"cursor": cursor}), "cursor", location="query")


async def test_a_cursor_from_another_list_is_refused(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    for n in range(2):
        await add_event(client, postmortem["id"], description=f"event {n}")
    timeline = (await client.get(f"/v1/postmortems/{postmortem['id']}/timeline", params={"limit": 1})).json()
    assert timeline["next_cursor"] is not None

    response = await client.get("/v1/postmortems", params={"cursor": timeline["next_cursor"]})

    assert_invalid(response, "cursor", location="query")


# --- customer data and the review meeting -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, "unknown"])
async def test_customer_data_affected_is_true_false_or_unknown(client: httpx.AsyncClient, value: bool | str) -> None:
    created = await create_postmortem(client)
    assert created["customer_data_affected"] == "unknown"

    patched = await client.patch(f"/v1/postmortems/{created['id']}", json={"customer_data_affected": value})

    assert patched.status_code == 200, patched.text
    assert (await fetch(client, created["id"])).json()["customer_data_affected"] == value
    listed = (await client.get("/v1/postmortems")).json()["items"]
    assert [item["customer_data_affected"] for item in listed] == [value]


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, []])
async def test_customer_data_affected_takes_nothing_else(client: httpx.AsyncClient, value: Any) -> None:
    created = await create_postmortem(client, customer_data_affected=False)
    body = {"title": "x", "severity": "P2", "customer_data_affected": value}

    assert_invalid(await client.post("/v1/postmortems", json=body), "customer_data_affected")
    patch = {"customer_data_affected": value}
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json=patch), "customer_data_affected")
    assert (await fetch(client, created["id"])).json() == created


async def test_the_review_meeting_is_stored_in_utc_and_cleared_with_null(client: httpx.AsyncClient) -> None:
    meeting = {
        "scheduled_at": "2025-01-17T15:00:00+01:00",
        "facilitator": "carol",
        "attendees": ["alice", "bob", "dave"],
        "notes": "Walk through the timeline first.",
    }
    created = await create_postmortem(client, review_meeting=meeting)

    assert created["review_meeting"] == meeting | {"scheduled_at": "2025-01-17T14:00:00Z"}
    assert (await fetch(client, created["id"])).json()["review_meeting"] == created["review_meeting"]
    cleared = await client.patch(f"/v1/postmortems/{created['id']}", json={"review_meeting": None})
    assert cleared.json()["review_meeting"] is None
    minimal = await client.patch(
        f"/v1/postmortems/{created['id']}", json={"review_meeting": {"scheduled_at": "2025-01-18T10:00:00Z"}}
    )
    assert minimal.json()["review_meeting"] == {
        "scheduled_at": "2025-01-18T10:00:00Z",
        "facilitator": None,
        "attendees": [],
        "notes": None,
    }


@pytest.mark.parametrize(
    ("meeting", "field"),
    [
        ({"facilitator": "carol"}, "review_meeting.scheduled_at"),
        ({"scheduled_at": "2025-01-17T15:00:00"}, "review_meeting.scheduled_at"),
        ({"scheduled_at": "2025-01-17T15:00:00Z", "room": "4.01"}, "review_meeting.room"),
        ({"scheduled_at": "2025-01-17T15:00:00Z", "attendees": "alice"}, "review_meeting.attendees"),
    ],
)
async def test_a_malformed_review_meeting_is_refused(
    client: httpx.AsyncClient, meeting: dict[str, Any], field: str
) -> None:
    created = await create_postmortem(client)

    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json={"review_meeting": meeting}), field)
    assert (await fetch(client, created["id"])).json() == created


async def test_the_service_and_tag_filters_follow_every_change_of_the_lists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The database keeps a row per label (`postmortem_label`): it follows a PATCH, a change made straight in
    the table, a label listed twice, and a deletion."""
    postmortem = await create_postmortem(client, title="moving", services=["checkout", "checkout"], tags=["db"])
    assert await titles(client, service="checkout") == ["moving"]

    patched = await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"services": ["search"], "tags": []})
    assert patched.status_code == 200
    assert (await titles(client, service="checkout"), await titles(client, tag="db")) == ([], [])
    assert await titles(client, service="search") == ["moving"]

    async with committed_session(app.state.engine) as session:
        await session.exec(sa.update(Postmortem).values(tags=["payments"]))
    assert await titles(client, tag="payments") == ["moving"]

    assert (await client.delete(f"/v1/postmortems/{postmortem['id']}")).status_code == 204
    assert await titles(client, service="search") == []
