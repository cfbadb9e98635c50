"""Postmortem deadlines over HTTP: due times derived from resolved_at, the overdue flags and `?overdue=`."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from service.core.clock import utc_now
from service.postmortems import deadlines
from service.postmortems.enums import Severity, Status, Template
from service.postmortems.models import Postmortem
from tests.database import committed_session
from tests.factories import add_action_item, add_event, create_postmortem
from tests.paging import every_item
from tests.problems import assert_invalid

DUE_FIELDS = ("draft_due_at", "review_due_at", "complete_due_at")
FLAGS = ("draft_overdue", "review_overdue", "complete_overdue", "overdue")
HOUR = timedelta(hours=1)
MONTH = timedelta(days=30)


def due_times(postmortem: dict[str, Any]) -> tuple[str | None, ...]:
    return tuple(postmortem[field] for field in DUE_FIELDS)


def flags(postmortem: dict[str, Any]) -> tuple[bool, ...]:
    return tuple(postmortem[flag] for flag in FLAGS)


def iso(instant: datetime) -> str:
    return instant.isoformat()


async def fetch(client: httpx.AsyncClient, postmortem_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/postmortems/{postmortem_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def patch(client: httpx.AsyncClient, postmortem_id: str, **changes: Any) -> dict[str, Any]:
    response = await client.patch(f"/v1/postmortems/{postmortem_id}", json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def step(client: httpx.AsyncClient, postmortem_id: str, action: str) -> dict[str, Any]:
    response = await client.post(f"/v1/postmortems/{postmortem_id}/{action}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def listed(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    return await every_item(client, "/v1/postmortems", **params)


async def postmortem_in(
    status: str,
    resolved_at: datetime,
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    **fields: Any,
) -> dict[str, Any]:
    """A postmortem resolved at `resolved_at`, moved to `status`; the answer of the last step taken."""
    answer = await create_postmortem(
        client,
        summary="Checkout failed for 45 minutes after a bad config push.",
        started_at=iso(resolved_at - timedelta(minutes=45)),
        detected_at=iso(resolved_at - timedelta(minutes=35)),
        mitigated_at=iso(resolved_at - timedelta(minutes=15)),
        resolved_at=iso(resolved_at),
        impact={"users_affected": 1200, "description": "Checkout returned 500s"},
        root_cause="The payment client's timeout was set to 0 by the config push.",
        **fields,
    )
    if status == "draft":
        return answer
    await add_event(client, answer["id"])
    await add_action_item(client, answer["id"])
    answer = await step(client, answer["id"], "submit")
    if status == "in_review":
        return answer
    await step(admin_client, answer["id"], "approve")
    return await step(client, answer["id"], "complete")


# --- due times -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolved_at", "draft_due_at", "review_due_at", "complete_due_at"),
    [
        # Friday: the weekend is skipped, so five business days later is the next Friday, same time
        ("2025-01-17T10:00:00Z", "2025-01-18T10:00:00Z", "2025-01-20T10:00:00Z", "2025-01-24T10:00:00Z"),
        # Saturday and Sunday: counting starts on Monday, so completion is due on Friday too
        ("2025-01-18T10:00:00Z", "2025-01-19T10:00:00Z", "2025-01-21T10:00:00Z", "2025-01-24T10:00:00Z"),
        ("2025-01-19T23:59:59Z", "2025-01-20T23:59:59Z", "2025-01-22T23:59:59Z", "2025-01-24T23:59:59Z"),
        # Monday to the next Monday, keeping the microseconds
        (
            "2025-01-13T09:35:30.250000Z",
            "2025-01-14T09:35:30.250000Z",
            "2025-01-16T09:35:30.250000Z",
            "2025-01-20T09:35:30.250000Z",
        ),
        # Wednesday, across a month end
        ("2025-01-29T16:45:00Z", "2025-01-30T16:45:00Z", "2025-02-01T16:45:00Z", "2025-02-05T16:45:00Z"),
        # Friday evening in New York is Saturday in UTC, and business days are counted in UTC
        ("2025-01-17T23:00:00-05:00", "2025-01-19T04:00:00Z", "2025-01-21T04:00:00Z", "2025-01-24T04:00:00Z"),
        # holidays are not known: Christmas and New Year's Day count as business days
        ("2025-12-24T12:00:00Z", "2025-12-25T12:00:00Z", "2025-12-27T12:00:00Z", "2025-12-31T12:00:00Z"),
    ],
)
async def test_due_times_are_derived_from_resolved_at(
    client: httpx.AsyncClient,
    reader_client: httpx.AsyncClient,
    resolved_at: str,
    draft_due_at: str,
    review_due_at: str,
    complete_due_at: str,
) -> None:
    expected = (draft_due_at, review_due_at, complete_due_at)

    created = await create_postmortem(client, resolved_at=resolved_at)

    assert due_times(created) == expected
    assert due_times(await fetch(reader_client, created["id"])) == expected
    assert [due_times(item) for item in await listed(reader_client)] == [expected]


async def test_nothing_is_due_while_resolved_at_is_unknown(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    created = await create_postmortem(client)
    assert due_times(created) == (None, None, None)
    assert flags(created) == (False, False, False, False)

    resolved = await patch(client, created["id"], resolved_at="2025-01-17T10:00:00Z")
    assert due_times(resolved) == ("2025-01-18T10:00:00Z", "2025-01-20T10:00:00Z", "2025-01-24T10:00:00Z")
    assert flags(resolved) == (True, True, True, True)

    cleared = await patch(client, created["id"], resolved_at=None)
    assert due_times(cleared) == (None, None, None)
    assert flags(cleared) == (False, False, False, False)
    assert flags(await fetch(reader_client, created["id"])) == (False, False, False, False)


async def test_moving_resolved_at_moves_the_due_times(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client, resolved_at="2025-01-17T10:00:00Z")

    moved = await patch(client, created["id"], resolved_at="2025-01-20T08:00:00+01:00")

    assert due_times(moved) == ("2025-01-21T07:00:00Z", "2025-01-23T07:00:00Z", "2025-01-27T07:00:00Z")


# --- overdue flags ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "resolved_ago", "expected"),
    [
        # (draft_overdue, review_overdue, complete_overdue, overdue)
        ("draft", HOUR, (False, False, False, False)),
        ("draft", 25 * HOUR, (True, False, False, True)),
        ("draft", 73 * HOUR, (True, True, False, True)),
        ("draft", MONTH, (True, True, True, True)),
        ("in_review", HOUR, (False, False, False, False)),
        ("in_review", 25 * HOUR, (False, False, False, False)),
        ("in_review", 73 * HOUR, (False, True, False, True)),
        ("in_review", MONTH, (False, True, True, True)),
        ("complete", 25 * HOUR, (False, False, False, False)),
        ("complete", MONTH, (False, False, False, False)),
    ],
)
async def test_overdue_flags_by_status(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    reader_client: httpx.AsyncClient,
    status: str,
    resolved_ago: timedelta,
    expected: tuple[bool, ...],
) -> None:
    answer = await postmortem_in(status, utc_now() - resolved_ago, client, admin_client)

    assert answer["status"] == status
    assert flags(answer) == expected
    assert flags(await fetch(reader_client, answer["id"])) == expected
    assert [flags(item) for item in await listed(reader_client)] == [expected]


async def test_a_complete_postmortem_is_never_overdue_until_reopened(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    completed = await postmortem_in("complete", utc_now() - MONTH, client, admin_client)
    assert completed["overdue"] is False
    assert await listed(client, overdue="true") == []
    assert [item["id"] for item in await listed(client, overdue="false")] == [completed["id"]]

    reopened = await step(admin_client, completed["id"], "reopen")

    assert reopened["status"] == "in_review"
    assert flags(reopened) == (False, True, True, True)
    assert [item["id"] for item in await listed(client, overdue="true")] == [completed["id"]]


async def test_submitting_a_late_draft_leaves_only_the_later_deadlines(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    draft = await postmortem_in("draft", utc_now() - 25 * HOUR, client, admin_client)
    assert flags(draft) == (True, False, False, True)
    await add_event(client, draft["id"])
    await add_action_item(client, draft["id"])

    submitted = await step(client, draft["id"], "submit")

    assert flags(submitted) == (False, False, False, False)


# --- GET /v1/postmortems?overdue= ------------------------------------------------------------------------------------


@pytest.fixture
async def catalogue(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    """Postmortems on both sides of every deadline, created in this order."""
    now = utc_now()
    for title, status, resolved_ago, severity in [
        ("late completion", "in_review", MONTH, "P1"),
        ("fresh draft", "draft", HOUR, "P1"),
        ("late draft", "draft", 25 * HOUR, "P2"),
        ("completed late", "complete", MONTH, "P1"),
        ("review on time", "in_review", 25 * HOUR, "P2"),
        ("late review", "in_review", 73 * HOUR, "P2"),
    ]:
        await postmortem_in(status, now - resolved_ago, client, admin_client, title=title, severity=severity)
    await create_postmortem(client, title="unresolved", severity="P1")


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"overdue": "true"}, ["late review", "late draft", "late completion"]),
        ({"overdue": "false"}, ["unresolved", "review on time", "completed late", "fresh draft"]),
        ({"overdue": "true", "status": "in_review"}, ["late review", "late completion"]),
        ({"overdue": "true", "status": "draft"}, ["late draft"]),
        ({"overdue": "true", "status": "complete"}, []),
        ({"overdue": "false", "status": "draft"}, ["unresolved", "fresh draft"]),
        ({"overdue": "true", "severity": "P1"}, ["late completion"]),
        ({"overdue": "false", "severity": "P1"}, ["unresolved", "completed late", "fresh draft"]),
        ({"overdue": "true", "limit": 1}, ["late review", "late draft", "late completion"]),
        ({"overdue": "false", "limit": 3}, ["unresolved", "review on time", "completed late", "fresh draft"]),
    ],
)
async def test_list_by_overdue(reader_client: httpx.AsyncClient, params: dict[str, Any], expected: list[str]) -> None:
    items = await listed(reader_client, **params)

    assert [item["title"] for item in items] == expected
    assert {item["overdue"] for item in items} <= {params["overdue"] == "true"}


async def test_the_first_page_of_overdue_postmortems_is_full(client: httpx.AsyncClient) -> None:
    now = utc_now()
    for n in range(5):
        await create_postmortem(client, title=f"late {n}", resolved_at=iso(now - 25 * HOUR))
        await create_postmortem(client, title=f"fresh {n}", resolved_at=iso(now - HOUR))

    response = await client.get("/v1/postmortems", params={"overdue": "true", "limit": 3})

    assert response.status_code == 200, response.text
    assert [item["title"] for item in response.json()["items"]] == ["late 4", "late 3", "late 2"]
    assert response.json()["next_cursor"] is not None


@pytest.mark.parametrize("value", ["maybe", "2", "overdue", ""])
async def test_a_bad_overdue_value_is_named(reader_client: httpx.AsyncClient, value: str) -> None:
    response = await reader_client.get("/v1/postmortems", params={"overdue": value})

    assert_invalid(response, "overdue", location="query")


@pytest.mark.parametrize("field", [*DUE_FIELDS, *FLAGS])
async def test_derived_fields_cannot_be_written(client: httpx.AsyncClient, field: str) -> None:
    value = "2025-01-18T10:00:00Z" if field in DUE_FIELDS else False
    created = await create_postmortem(client)

    assert_invalid(await client.post("/v1/postmortems", json={"title": "t", "severity": "P2", field: value}), field)
    assert_invalid(await client.patch(f"/v1/postmortems/{created['id']}", json={field: value}), field)


# --- the rule in Python and in SQL -----------------------------------------------------------------------------------

NOW = datetime(2025, 1, 24, 10, 0, tzinfo=UTC)  # a Friday
TICK = timedelta(microseconds=1)
RESOLUTIONS = {
    "unresolved": None,
    "just resolved": NOW - HOUR,
    "draft due now": NOW - 24 * HOUR,
    "draft due a tick ago": NOW - 24 * HOUR - TICK,
    "review due now": NOW - 72 * HOUR,
    "review due a tick ago": NOW - 72 * HOUR - TICK,
    "complete due now": datetime(2025, 1, 17, 10, 0, tzinfo=UTC),
    "complete due a tick ago": datetime(2025, 1, 17, 10, 0, tzinfo=UTC) - TICK,
    "resolved later": NOW + HOUR,
}
OVERDUE_AT_NOW = {
    Status.DRAFT: {
        "draft due a tick ago",
        "review due now",
        "review due a tick ago",
        "complete due now",
        "complete due a tick ago",
    },
    Status.IN_REVIEW: {"review due a tick ago", "complete due now", "complete due a tick ago"},
    Status.COMPLETE: set(),
}


@pytest.mark.parametrize("status", list(Status))
async def test_python_and_sql_agree_on_overdue_to_the_microsecond(app: FastAPI, status: Status) -> None:
    assert {name for name, at in RESOLUTIONS.items() if deadlines.overdue(status, at, NOW)} == OVERDUE_AT_NOW[status]
    async with committed_session(app.state.engine) as session:
        for name, at in RESOLUTIONS.items():
            session.add(
                Postmortem(title=name, severity=Severity.P2, template=Template.STANDARD, status=status, resolved_at=at)
            )
        await session.flush()
        clause = deadlines.overdue_clause(col(Postmortem.resolved_at), col(Postmortem.status), NOW)
        overdue = set((await session.exec(select(Postmortem.title).where(clause))).all())
        others = set((await session.exec(select(Postmortem.title).where(~clause))).all())

    assert overdue == OVERDUE_AT_NOW[status]
    assert others == set(RESOLUTIONS) - OVERDUE_AT_NOW[status]


@pytest.mark.parametrize(
    ("flag", "resolved_at"),
    [
        (deadlines.draft_overdue, NOW - 24 * HOUR),
        (deadlines.review_overdue, NOW - 72 * HOUR),
        (deadlines.complete_overdue, datetime(2025, 1, 17, 10, 0, tzinfo=UTC)),
    ],
)
def test_each_flag_turns_true_only_after_its_deadline(flag: Any, resolved_at: datetime) -> None:
    """Resolved so that the deadline falls exactly at NOW: not yet overdue; a microsecond earlier: overdue."""
    assert flag(Status.DRAFT, resolved_at, NOW) is False
    assert flag(Status.DRAFT, resolved_at - TICK, NOW) is True
