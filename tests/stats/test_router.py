"""GET /v1/stats over HTTP: every figure on a small data set whose answers are worked out by hand.

The same expectations run on SQLite and on PostgreSQL, so both compute the same figures. Timestamps the
API does not let a client set (status, `completed_at`, `created_at`) are written straight to the database.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import SQLModel, col

from service.action_items.models import ActionItem
from service.core import clock
from service.core.business_days import add_business_days
from service.postmortems.models import Postmortem
from tests.database import committed_session
from tests.factories import add_action_item, create_postmortem, submittable_postmortem
from tests.problems import assert_invalid, assert_problem

URL = "/v1/stats"
MARCH = {"from": "2025-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}
"""The window of most tests; the previous window of the same length is 2025-01-29 to 2025-03-01."""

Store = Callable[..., Awaitable[None]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def stats(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get(URL, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def store(app: FastAPI) -> Store:
    """Writes columns of a stored row, as the workflow or the clock would have."""

    async def write(table: type[SQLModel], row_id: str, **values: Any) -> None:
        async with committed_session(app.state.engine) as session:
            id_column = col(table.id)  # type: ignore[attr-defined]
            await session.exec(sa.update(table).where(id_column == uuid.UUID(row_id)).values(**values))

    return write


async def postmortem(
    client: httpx.AsyncClient,
    store: Store,
    *,
    status: str = "draft",
    completed_at: str | None = None,
    created_at: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A postmortem created through the API, then given a status and the times the API sets by itself."""
    created = await create_postmortem(client, **fields)
    stored: dict[str, Any] = {"status": status}
    if completed_at is not None:
        stored["completed_at"] = at(completed_at)
    if created_at is not None:
        stored["created_at"] = at(created_at)
    await store(Postmortem, created["id"], **stored)
    return created


async def action_item(
    client: httpx.AsyncClient,
    store: Store,
    postmortem_id: str,
    *,
    due_date: str | None,
    status: str = "open",
    completed_at: str | None = None,
) -> None:
    created = await add_action_item(client, postmortem_id, due_date=due_date)
    await store(
        ActionItem, created["id"], status=status, completed_at=None if completed_at is None else at(completed_at)
    )


def ratio_target(value: float | None) -> dict[str, Any]:
    return {"comparison": "above", "value": value, "unit": "ratio"}


# --- access and validation ---------------------------------------------------------------------------------------


async def test_a_request_without_a_key_is_refused(anonymous_client: httpx.AsyncClient) -> None:
    assert_problem(await anonymous_client.get(URL), 401)


@pytest.fixture
def callers(
    reader_client: httpx.AsyncClient, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> dict[str, httpx.AsyncClient]:
    return {"read": reader_client, "write": client, "admin": admin_client}


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
async def test_every_scope_may_read_the_stats(
    callers: dict[str, httpx.AsyncClient], client: httpx.AsyncClient, scope: str
) -> None:
    """`read` is the lowest scope and every key has it, so no key is refused with 403 here."""
    await create_postmortem(client, started_at="2025-03-10T09:00:00Z")

    body = await stats(callers[scope], **MARCH)

    assert body["postmortems"]["total"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-04-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}, "from"),
        ({"from": "2025-04-02T00:00:00Z", "to": "2025-04-01T00:00:00Z"}, "from"),
        ({"from": "2999-01-01T00:00:00Z"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2025-03-01T00:00:00"}, "from"),
        ({"from": "1740787200"}, "from"),
        ({"to": "2025-13-01T00:00:00Z"}, "to"),
        ({"severity": "P4"}, "severity"),
        ({"service": ""}, "service"),
        ({"service": "x" * 101}, "service"),
        ({"service": "check\x00out"}, "service"),
        ({"servce": "checkout"}, "servce"),
    ],
)
async def test_invalid_parameters_are_named(
    reader_client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    assert_invalid(await reader_client.get(URL, params=params), field, location="query")


async def test_an_empty_window_explains_itself(reader_client: httpx.AsyncClient) -> None:
    response = await reader_client.get(URL, params={"from": "2025-04-01T00:00:00Z", "to": "2025-03-01T00:00:00Z"})

    [error] = assert_problem(response, 422)["errors"]
    assert error == {"field": "from", "location": "query", "message": "must be before `to`", "code": "empty_window"}


# --- the window ---------------------------------------------------------------------------------------------------


async def test_without_data_every_figure_is_zero_or_null_and_no_target_is_met(reader_client: httpx.AsyncClient) -> None:
    body = await stats(reader_client, **MARCH)

    assert body == {
        "window": {
            "from": "2025-03-01T00:00:00Z",
            "to": "2025-04-01T00:00:00Z",
            "previous_from": "2025-01-29T00:00:00Z",
            "service": None,
            "severity": None,
        },
        "postmortems": {"draft": 0, "in_review": 0, "complete": 0, "total": 0},
        "completion_within_sla": {
            "resolved": 0,
            "on_time": 0,
            "rate": None,
            "target": ratio_target(0.9),
            "met": None,
        },
        "time_to_postmortem": {
            "completed": 0,
            "median_hours": None,
            "p90_hours": None,
            "target": {"comparison": "below", "value": 5.0, "unit": "business_days"},
            "met": None,
        },
        "mttd": {"count": 0, "median_minutes": None, "mean_minutes": None, "target": None, "met": None},
        "mttr": {"count": 0, "median_minutes": None, "mean_minutes": None, "target": None, "met": None},
        "action_item_completion": {
            "due": 0,
            "done_by_due_date": 0,
            "rate": None,
            "target": ratio_target(0.7),
            "met": None,
        },
        "overdue_action_items": 0,
        "repeat_incidents": {
            "postmortems": 0,
            "repeats": 0,
            "rate": None,
            "previous_postmortems": 0,
            "previous_repeats": 0,
            "previous_rate": None,
            "target": {"comparison": "below", "value": None, "unit": "ratio"},
            "met": None,
        },
        "top_failure_modes": [],
    }


async def test_counts_postmortems_by_status_from_the_start_of_the_window_up_to_its_end(
    client: httpx.AsyncClient, store: Store
) -> None:
    await postmortem(client, store, started_at="2025-03-01T00:00:00Z")  # the first instant: in
    await postmortem(client, store, started_at="2025-03-15T12:00:00Z")
    await postmortem(client, store, status="in_review", started_at="2025-03-31T23:59:59.999999Z")  # the last: in
    for day in ("02", "03", "04"):
        await postmortem(client, store, status="complete", started_at=f"2025-03-{day}T09:00:00+01:00")
    await postmortem(client, store, started_at="2025-02-28T23:59:59.999999Z")  # before: out
    await postmortem(client, store, status="complete", started_at="2025-04-01T00:00:00Z")  # the end: out
    await postmortem(client, store, status="complete", started_at="2025-04-01T01:00:00+02:00")  # 23:00 UTC: in

    body = await stats(client, **MARCH)

    assert body["postmortems"] == {"draft": 2, "in_review": 1, "complete": 4, "total": 7}


async def test_the_incident_time_is_started_at_else_resolved_at_else_created_at(
    client: httpx.AsyncClient, store: Store
) -> None:
    await postmortem(client, store, started_at="2025-03-31T23:00:00Z", resolved_at="2025-04-01T02:00:00Z")  # in
    await postmortem(client, store, started_at="2025-02-28T23:00:00Z", resolved_at="2025-03-01T02:00:00Z")  # out
    await postmortem(client, store, resolved_at="2025-03-10T09:00:00Z", created_at="2025-04-20T09:00:00Z")  # in
    await postmortem(client, store, resolved_at="2025-02-10T09:00:00Z", created_at="2025-03-10T09:00:00Z")  # out
    await postmortem(client, store, created_at="2025-03-20T09:00:00Z")  # in
    await postmortem(client, store, created_at="2025-04-20T09:00:00Z")  # out

    body = await stats(client, **MARCH)

    assert body["postmortems"]["total"] == 3


async def test_the_window_defaults_to_the_90_days_before_now(
    client: httpx.AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = at("2025-06-30T12:00:00Z")
    monkeypatch.setattr(clock, "utc_now", lambda: now)
    await postmortem(client, store, started_at="2025-04-01T12:00:00Z")  # exactly 90 days before: in
    await postmortem(client, store, started_at="2025-06-30T11:59:59Z")
    await postmortem(client, store, started_at="2025-04-01T11:59:59Z")  # out
    await postmortem(client, store, started_at="2025-06-30T12:00:00Z")  # now: out

    body = await stats(client)
    only_to = await stats(client, to="2025-04-01T12:00:00Z")
    only_from = await stats(client, **{"from": "2025-04-01T11:00:00Z"})

    assert body["window"] == {
        "from": "2025-04-01T12:00:00Z",
        "to": "2025-06-30T12:00:00Z",
        "previous_from": "2025-01-01T12:00:00Z",
        "service": None,
        "severity": None,
    }
    assert body["postmortems"]["total"] == 2
    assert (only_to["window"]["from"], only_to["window"]["to"]) == ("2025-01-01T12:00:00Z", "2025-04-01T12:00:00Z")
    assert only_to["postmortems"]["total"] == 1
    assert (only_from["window"]["from"], only_from["window"]["to"]) == ("2025-04-01T11:00:00Z", "2025-06-30T12:00:00Z")
    assert only_from["postmortems"]["total"] == 3


async def test_the_window_is_echoed_in_utc(reader_client: httpx.AsyncClient) -> None:
    body = await stats(
        reader_client, **{"from": "2025-03-01T00:00:00+01:00", "to": "2025-03-02T00:00:00-05:00"}, severity="P1"
    )

    assert body["window"] == {
        "from": "2025-02-28T23:00:00Z",
        "to": "2025-03-02T05:00:00Z",
        "previous_from": "2025-02-27T17:00:00Z",
        "service": None,
        "severity": "P1",
    }


async def test_service_and_severity_select_the_postmortems_and_their_action_items(
    client: httpx.AsyncClient, store: Store
) -> None:
    both = await create_postmortem(
        client, severity="P1", services=["checkout", "payments"], started_at="2025-03-02T09:00:00Z"
    )
    payments = await create_postmortem(client, severity="P2", services=["payments"], started_at="2025-03-03T09:00:00Z")
    checkout = await create_postmortem(client, severity="P2", services=["checkout"], started_at="2025-03-04T09:00:00Z")
    await create_postmortem(client, severity="P2", services=["checkout-v2"], started_at="2025-03-05T09:00:00Z")
    for owner, items in ((both, 1), (payments, 2), (checkout, 4)):
        for _ in range(items):
            await action_item(client, store, owner["id"], due_date="2025-03-20")

    by_service = await stats(client, **MARCH, service="checkout")
    by_severity = await stats(client, **MARCH, severity="P2")
    by_both = await stats(client, **MARCH, service="checkout", severity="P2")

    assert [by_service["postmortems"]["total"], by_service["action_item_completion"]["due"]] == [2, 5]
    assert [by_severity["postmortems"]["total"], by_severity["action_item_completion"]["due"]] == [3, 6]
    assert [by_both["postmortems"]["total"], by_both["action_item_completion"]["due"]] == [1, 4]
    assert by_both["window"]["service"] == "checkout"
    assert by_both["window"]["severity"] == "P2"


# --- completion within the SLA and time to postmortem -------------------------------------------------------------


async def test_completion_within_sla_counts_five_business_days_from_resolution(
    client: httpx.AsyncClient, store: Store
) -> None:
    cases = [
        ("2025-03-05T10:00:00Z", "2025-03-12T10:00:00Z", True),  # Wednesday: the next Wednesday, to the second
        ("2025-03-05T10:00:00Z", "2025-03-12T10:00:01Z", False),
        ("2025-03-07T16:30:00Z", "2025-03-14T16:30:00Z", True),  # Friday: the next Friday
        ("2025-03-08T10:00:00Z", "2025-03-14T10:00:00Z", True),  # Saturday: the Friday after, 6 days
        ("2025-03-08T10:00:00Z", "2025-03-14T10:00:00.000001Z", False),
        ("2025-03-09T23:59:00Z", "2025-03-14T23:59:00Z", True),  # Sunday: the Friday after, 5 days
        ("2025-03-09T23:59:00Z", "2025-03-15T00:00:00Z", False),
        ("2025-03-10T10:00:00Z", "2025-03-10T09:00:00Z", True),  # completed before the resolution it records
    ]
    for resolved_at, completed_at, _ in cases:
        await postmortem(
            client, store, status="complete", resolved_at=resolved_at, started_at=resolved_at, completed_at=completed_at
        )
    await postmortem(client, store, resolved_at="2025-03-28T10:00:00Z")  # a draft, still within its 5 days
    await postmortem(client, store, status="complete", started_at="2025-03-11T10:00:00Z", completed_at=MARCH["to"])

    body = await stats(client, **MARCH)

    assert body["completion_within_sla"] == {
        "resolved": 9,
        "on_time": 5,
        "rate": 5 / 9,
        "target": ratio_target(0.9),
        "met": False,
    }


@pytest.mark.parametrize("weekday", range(7))
async def test_the_sla_deadline_is_add_business_days_on_every_weekday(
    client: httpx.AsyncClient, store: Store, weekday: int
) -> None:
    resolved = datetime(2025, 3, 3, 14, 7, 31, 250_000, tzinfo=UTC) + timedelta(days=weekday)  # from a Monday
    deadline = add_business_days(resolved, 5)
    for completed in (deadline, deadline + timedelta(microseconds=1), deadline - timedelta(days=1)):
        await postmortem(
            client,
            store,
            status="complete",
            resolved_at=resolved.isoformat(),
            completed_at=completed.isoformat(),
        )

    body = await stats(client, **MARCH)

    assert (body["completion_within_sla"]["resolved"], body["completion_within_sla"]["on_time"]) == (3, 2)


async def test_a_full_sla_record_meets_its_target(client: httpx.AsyncClient, store: Store) -> None:
    for _ in range(2):
        await postmortem(
            client, store, status="complete", resolved_at="2025-03-05T10:00:00Z", completed_at="2025-03-06T10:00:00Z"
        )

    body = await stats(client, **MARCH)

    assert (body["completion_within_sla"]["rate"], body["completion_within_sla"]["met"]) == (1.0, True)


async def test_time_to_postmortem_median_and_p90_over_complete_postmortems(
    client: httpx.AsyncClient, store: Store
) -> None:
    resolved = "2025-03-03T08:00:00Z"
    for completed in ("2025-03-03T18:00:00Z", "2025-03-04T04:00:00Z", "2025-03-04T14:00:00Z", "2025-03-07T12:00:00Z"):
        await postmortem(client, store, status="complete", resolved_at=resolved, completed_at=completed)
    await postmortem(client, store, status="in_review", resolved_at=resolved)  # not complete: no time yet
    await postmortem(client, store, status="complete", started_at=resolved, completed_at="2025-03-20T08:00:00Z")

    body = await stats(client, **MARCH)

    # 10, 20, 30 and 100 hours: the median lies halfway between 20 and 30, the 90th percentile 70 % of the
    # way from 30 to 100 (position 0.9 x 3 = 2.7 in the sorted sample).
    assert body["time_to_postmortem"] == {
        "completed": 4,
        "median_hours": 25.0,
        "p90_hours": 79.0,
        "target": {"comparison": "below", "value": 5.0, "unit": "business_days"},
        "met": True,
    }


async def test_time_to_postmortem_of_an_odd_sample_is_its_middle_value(client: httpx.AsyncClient, store: Store) -> None:
    for completed in ("2025-03-10T08:30:00Z", "2025-03-10T08:00:00Z", "2025-03-11T02:00:00Z"):
        await postmortem(client, store, status="complete", resolved_at="2025-03-10T07:00:00Z", completed_at=completed)

    body = await stats(client, **MARCH)

    # 1.5, 1 and 19 hours; the 90th percentile is at position 1.8: 1.5 + 0.8 x (19 - 1.5).
    assert (body["time_to_postmortem"]["median_hours"], body["time_to_postmortem"]["p90_hours"]) == (1.5, 15.5)


async def test_percentiles_of_a_larger_sample_with_ties(client: httpx.AsyncClient, store: Store) -> None:
    resolved = at("2025-03-03T08:00:00Z")
    hours = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 55, 89]
    for hour in reversed(hours):
        completed = resolved + timedelta(hours=hour)
        await postmortem(
            client, store, status="complete", resolved_at=resolved.isoformat(), completed_at=completed.isoformat()
        )

    body = await stats(client, **MARCH)

    # Positions 5.5 and 9.9 in the sorted sample: halfway from 8 to 13, and 90 % of the way from 55 to 55.
    assert (body["time_to_postmortem"]["median_hours"], body["time_to_postmortem"]["p90_hours"]) == (10.5, 55.0)


async def test_the_last_instant_of_a_day_still_belongs_to_that_day(client: httpx.AsyncClient, store: Store) -> None:
    """SQLite reads its timestamps to the millisecond, so the last half millisecond of a day is where its
    date functions and PostgreSQL's could disagree."""
    thursday_night = "2025-03-06T23:59:59.999900Z"  # due a week later, on Thursday, not on Friday
    await postmortem(client, store, status="complete", resolved_at=thursday_night, completed_at="2025-03-14T10:00:00Z")
    owner = (await postmortem(client, store, resolved_at="2025-03-10T10:00:00Z"))["id"]
    await action_item(
        client, store, owner, due_date="2025-03-10", status="done", completed_at="2025-03-10T23:59:59.9999Z"
    )

    body = await stats(client, **MARCH)

    assert (body["completion_within_sla"]["resolved"], body["completion_within_sla"]["on_time"]) == (2, 0)
    assert (body["action_item_completion"]["due"], body["action_item_completion"]["done_by_due_date"]) == (1, 1)


@pytest.mark.parametrize(
    ("hours", "target_days", "met"),
    [(167, 5, True), (168, 5, False), (33, 1, True), (34, 1, False)],
)
async def test_the_median_target_is_a_business_week_of_hours_per_five_business_days(
    client: httpx.AsyncClient, store: Store, configure: Callable[..., None], hours: int, target_days: int, met: bool
) -> None:
    configure(stats_time_to_postmortem_target_business_days=target_days)
    completed = at("2025-03-03T00:00:00Z") + timedelta(hours=hours)
    await postmortem(
        client, store, status="complete", resolved_at="2025-03-03T00:00:00Z", completed_at=completed.isoformat()
    )

    body = await stats(client, **MARCH)

    assert body["time_to_postmortem"]["target"]["value"] == target_days
    assert (body["time_to_postmortem"]["median_hours"], body["time_to_postmortem"]["met"]) == (hours, met)


async def test_a_postmortem_completed_through_the_workflow_is_timed_from_its_resolution(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    created = await submittable_postmortem(client, what_went_well=["The rollback took two minutes"])
    for action, caller in (("submit", client), ("approve", admin_client), ("complete", client)):
        response = await caller.post(f"/v1/postmortems/{created['id']}/{action}")
        assert response.status_code == 200, response.text
    completed_at = at((await client.get(f"/v1/postmortems/{created['id']}")).json()["completed_at"])

    body = await stats(client, **{"from": "2025-01-15T00:00:00Z", "to": "2025-01-16T00:00:00Z"})

    assert body["postmortems"] == {"draft": 0, "in_review": 0, "complete": 1, "total": 1}
    assert body["completion_within_sla"] | {"target": None} == {
        "resolved": 1,
        "on_time": 0,
        "rate": 0.0,
        "target": None,
        "met": False,
    }
    hours = (completed_at - at("2025-01-15T09:35:00Z")).total_seconds() / 3600
    assert body["time_to_postmortem"]["completed"] == 1
    assert body["time_to_postmortem"]["median_hours"] == pytest.approx(hours, abs=0.01)
    assert body["time_to_postmortem"]["met"] is False


# --- MTTD and MTTR ------------------------------------------------------------------------------------------------


async def test_mttd_and_mttr_in_minutes(client: httpx.AsyncClient, store: Store) -> None:
    timings = [  # started, detected, resolved: detect in 5, 15, 10, 40 minutes; restore in 60, 30, 180, 50
        ("2025-03-03T09:00:00Z", "2025-03-03T09:05:00Z", "2025-03-03T10:00:00Z"),
        ("2025-03-04T09:00:00Z", "2025-03-04T09:15:00Z", "2025-03-04T09:30:00Z"),
        ("2025-03-05T23:00:00Z", "2025-03-05T23:10:00Z", "2025-03-06T02:00:00Z"),
        ("2025-03-06T09:00:00+01:00", "2025-03-06T08:40:00Z", "2025-03-06T08:50:00Z"),
    ]
    for started, detected, resolved in timings:
        await postmortem(client, store, started_at=started, detected_at=detected, resolved_at=resolved)
    await postmortem(client, store, started_at="2025-03-07T09:00:00Z")  # neither detected nor resolved
    await postmortem(client, store, detected_at="2025-03-07T09:00:00Z", resolved_at="2025-03-07T10:00:00Z")

    body = await stats(client, **MARCH)

    assert body["mttd"] == {"count": 4, "median_minutes": 12.5, "mean_minutes": 17.5, "target": None, "met": None}
    assert body["mttr"] == {"count": 4, "median_minutes": 55.0, "mean_minutes": 80.0, "target": None, "met": None}


async def test_mttd_and_mttr_targets_are_met_by_a_mean_below_them(
    client: httpx.AsyncClient, store: Store, configure: Callable[..., None]
) -> None:
    configure(stats_mttd_target_minutes=20, stats_mttr_target_minutes=90.5)
    for detect, restore in ((10, 100), (25, 81)):
        started = at("2025-03-03T09:00:00Z")
        await postmortem(
            client,
            store,
            started_at=started.isoformat(),
            detected_at=(started + timedelta(minutes=detect)).isoformat(),
            resolved_at=(started + timedelta(minutes=restore)).isoformat(),
        )

    body = await stats(client, **MARCH)

    assert body["mttd"] | {"count": None} == {
        "count": None,
        "median_minutes": 17.5,
        "mean_minutes": 17.5,
        "target": {"comparison": "below", "value": 20.0, "unit": "minutes"},
        "met": True,
    }
    assert body["mttr"]["mean_minutes"] == 90.5
    assert body["mttr"]["target"] == {"comparison": "below", "value": 90.5, "unit": "minutes"}
    assert body["mttr"]["met"] is False


# --- action items -------------------------------------------------------------------------------------------------


async def test_action_items_due_in_the_window_done_by_their_due_date(client: httpx.AsyncClient, store: Store) -> None:
    # The postmortem's own incident is outside the window: items count by their due date.
    owner = (await postmortem(client, store, started_at="2024-12-01T09:00:00Z"))["id"]
    items = [
        ("2025-03-01", "done", "2025-03-01T23:59:59.999999Z"),  # the first due date of the window, done that day
        ("2025-03-20", "done", "2025-03-05T10:00:00Z"),  # done early
        ("2025-03-10", "done", "2025-03-11T00:00:00Z"),  # done a day late
        ("2025-03-15", "wont_do", None),
        ("2025-03-31", "in_progress", None),  # the last due date of the window
        ("2025-02-28", "done", "2025-02-20T00:00:00Z"),  # due before the window
        ("2025-04-01", "done", "2025-03-20T00:00:00Z"),  # due on the date of `to`: after the window
        (None, "done", "2025-03-20T00:00:00Z"),
    ]
    for due_date, status, completed_at in items:
        await action_item(client, store, owner, due_date=due_date, status=status, completed_at=completed_at)

    body = await stats(client, **MARCH)

    assert body["action_item_completion"] == {
        "due": 5,
        "done_by_due_date": 2,
        "rate": 0.4,
        "target": ratio_target(0.7),
        "met": False,
    }


async def test_action_item_due_dates_are_counted_from_the_utc_dates_of_the_window(
    client: httpx.AsyncClient, store: Store, configure: Callable[..., None]
) -> None:
    configure(stats_action_item_target=0.5)
    owner = (await create_postmortem(client))["id"]
    for due_date in ("2025-03-09", "2025-03-10", "2025-03-11", "2025-03-12"):
        await action_item(client, store, owner, due_date=due_date, status="done", completed_at="2025-03-01T00:00:00Z")

    body = await stats(client, **{"from": "2025-03-10T23:00:00Z", "to": "2025-03-12T01:00:00+02:00"})

    assert body["action_item_completion"] == {
        "due": 1,
        "done_by_due_date": 1,
        "rate": 1.0,
        "target": ratio_target(0.5),
        "met": True,
    }


async def test_overdue_action_items_are_counted_whatever_the_window(client: httpx.AsyncClient, store: Store) -> None:
    today = datetime.now(UTC).date()
    yesterday, long_ago = (today - timedelta(days=1)).isoformat(), (today - timedelta(days=400)).isoformat()
    checkout = (await create_postmortem(client, services=["checkout"], started_at="2020-01-01T00:00:00Z"))["id"]
    payments = (await create_postmortem(client, services=["payments"]))["id"]
    for owner, due_date, status in [
        (checkout, yesterday, "open"),
        (checkout, long_ago, "in_progress"),
        (checkout, today.isoformat(), "open"),  # due today: not overdue yet
        (checkout, yesterday, "done"),
        (checkout, long_ago, "wont_do"),
        (checkout, None, "open"),
        (payments, yesterday, "open"),
    ]:
        await action_item(client, store, owner, due_date=due_date, status=status)

    everything = await stats(client, **MARCH)
    checkout_only = await stats(client, **MARCH, service="checkout")

    assert (everything["overdue_action_items"], checkout_only["overdue_action_items"]) == (3, 2)
    listed = await client.get("/v1/action-items", params={"overdue": "true"})
    assert len(listed.json()["items"]) == everything["overdue_action_items"]


async def test_an_item_becomes_overdue_when_the_day_turns_while_the_service_runs(
    client: httpx.AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = (await create_postmortem(client, services=["checkout"]))["id"]
    await action_item(client, store, checkout, due_date="2025-03-10", status="open")
    monkeypatch.setattr(clock, "utc_now", lambda: at("2025-03-10T23:59:59Z"))
    on_the_due_date = await stats(client, **MARCH)
    monkeypatch.setattr(clock, "utc_now", lambda: at("2025-03-11T00:00:00Z"))
    the_day_after = await stats(client, **MARCH)

    assert (on_the_due_date["overdue_action_items"], the_day_after["overdue_action_items"]) == (0, 1)


# --- repeat incidents ---------------------------------------------------------------------------------------------


async def repeat_history(client: httpx.AsyncClient) -> None:
    """Incidents around MARCH; comments name the repeats, with the earlier incident each one repeats."""
    incidents = [
        ("config-push", "2025-02-10T09:00:00Z", "P3"),  # previous window, nothing earlier
        ("config-push", "2025-03-05T09:00:00Z", "P1"),  # repeat (2025-02-10)
        ("capacity", "2024-12-09T09:59:59Z", "P2"),  # before the previous window: never counted
        ("capacity", "2025-03-09T10:00:00Z", "P2"),  # 90 days and 1 second later: not a repeat
        ("capacity", "2025-03-20T10:00:00Z", "P2"),  # repeat (2025-03-09)
        ("dns", "2024-12-14T08:30:00Z", "P2"),
        ("dns", "2025-03-14T08:30:00Z", "P2"),  # exactly 90 days later: repeat
        ("disk", "2025-03-25T10:00:00Z", "P2"),  # two at the same time: neither comes before the other
        ("disk", "2025-03-25T10:00:00Z", "P2"),
        (None, "2025-03-26T10:00:00Z", "P2"),  # no failure mode: not counted
        ("network", "2025-01-15T09:00:00Z", "P2"),
        ("network", "2025-02-01T09:00:00Z", "P2"),  # previous window, repeat (2025-01-15)
        ("queue", "2025-02-20T09:00:00Z", "P2"),  # previous window
        ("queue", "2025-04-01T00:00:00Z", "P2"),  # after the window
    ]
    for failure_mode, started_at, severity in incidents:
        await create_postmortem(client, failure_mode=failure_mode, started_at=started_at, severity=severity)


async def test_repeat_incidents_have_an_earlier_one_of_the_same_failure_mode_within_90_days(
    client: httpx.AsyncClient,
) -> None:
    await repeat_history(client)

    body = await stats(client, **MARCH)

    assert body["repeat_incidents"] == {
        "postmortems": 6,
        "repeats": 3,
        "rate": 0.5,
        "previous_postmortems": 3,
        "previous_repeats": 1,
        "previous_rate": 1 / 3,
        "target": {"comparison": "below", "value": 1 / 3, "unit": "ratio"},
        "met": False,
    }


async def test_a_repeat_of_an_incident_outside_the_filters_is_still_a_repeat(client: httpx.AsyncClient) -> None:
    await repeat_history(client)

    body = await stats(client, **MARCH, severity="P1")

    assert body["repeat_incidents"] | {"target": None} == {
        "postmortems": 1,
        "repeats": 1,
        "rate": 1.0,
        "previous_postmortems": 0,
        "previous_repeats": 0,
        "previous_rate": None,
        "target": None,
        "met": None,
    }


async def test_an_incident_at_the_same_moment_outside_the_filters_is_not_an_earlier_one(
    client: httpx.AsyncClient,
) -> None:
    for started_at, severity in [
        ("2025-03-05T09:00:00Z", "P1"),
        ("2025-03-05T09:00:00Z", "P2"),  # at the same moment: neither repeats the other
        ("2025-03-05T09:00:00.000001Z", "P1"),  # a microsecond later: repeats both
        ("2025-03-20T09:00:00Z", "P2"),
    ]:
        await create_postmortem(client, failure_mode="dns", started_at=started_at, severity=severity)

    p1 = await stats(client, **MARCH, severity="P1")
    everything = await stats(client, **MARCH)

    assert (p1["repeat_incidents"]["postmortems"], p1["repeat_incidents"]["repeats"]) == (2, 1)
    assert (everything["repeat_incidents"]["postmortems"], everything["repeat_incidents"]["repeats"]) == (4, 2)


async def test_a_falling_repeat_rate_meets_its_target(client: httpx.AsyncClient) -> None:
    for failure_mode, started_at in [
        ("dns", "2025-01-30T09:00:00Z"),
        ("dns", "2025-02-02T09:00:00Z"),  # previous window: 1 repeat of 2
        ("dns", "2025-03-02T09:00:00Z"),  # this window: 1 repeat of 3
        ("disk", "2025-03-03T09:00:00Z"),
        ("queue", "2025-03-04T09:00:00Z"),
    ]:
        await create_postmortem(client, failure_mode=failure_mode, started_at=started_at)

    body = await stats(client, **MARCH)

    repeats = body["repeat_incidents"]
    assert (repeats["rate"], repeats["previous_rate"], repeats["met"]) == (1 / 3, 0.5, True)


# --- top failure modes --------------------------------------------------------------------------------------------


async def test_top_failure_modes_by_count_then_name(client: httpx.AsyncClient) -> None:
    counts = {"config-push": 3, "dns": 3, "Capacity": 2, "capacity": 2, "disk": 1}
    counts |= {f"mode-{letter}": 1 for letter in "abcdefg"}
    for failure_mode, count in counts.items():
        for _ in range(count):
            await create_postmortem(client, failure_mode=failure_mode, started_at="2025-03-10T09:00:00Z")
    await create_postmortem(client, failure_mode="config-push", started_at="2025-04-10T09:00:00Z")  # outside
    await create_postmortem(client, started_at="2025-03-10T09:00:00Z")  # none

    body = await stats(client, **MARCH)

    assert body["top_failure_modes"] == [
        {"failure_mode": "config-push", "count": 3},
        {"failure_mode": "dns", "count": 3},
        {"failure_mode": "Capacity", "count": 2},  # code point order: capitals first, on every backend
        {"failure_mode": "capacity", "count": 2},
        {"failure_mode": "disk", "count": 1},
        *({"failure_mode": f"mode-{letter}", "count": 1} for letter in "abcde"),
    ]


async def test_top_failure_modes_count_the_postmortems_the_filters_select(client: httpx.AsyncClient) -> None:
    for failure_mode, services in [
        ("dns", ["checkout"]),
        ("dns", ["payments"]),
        ("dns", ["payments"]),
        ("disk", ["checkout", "payments"]),
        ("queue", ["search"]),
    ]:
        await create_postmortem(client, failure_mode=failure_mode, services=services, started_at="2025-03-10T09:00:00Z")

    body = await stats(client, **MARCH, service="payments")

    assert body["top_failure_modes"] == [
        {"failure_mode": "dns", "count": 2},
        {"failure_mode": "disk", "count": 1},
    ]


async def test_action_items_without_filters_count_items_of_every_postmortem(
    client: httpx.AsyncClient, store: Store
) -> None:
    for services in (["checkout"], []):
        owner = (await create_postmortem(client, services=services))["id"]
        await action_item(client, store, owner, due_date=date(2025, 3, 10).isoformat())

    body = await stats(client, **MARCH)

    assert body["action_item_completion"]["due"] == 2
