"""Action item SLOs over HTTP: slo_due_date by priority, suggested_due_date, slo_breached and `?slo_breached=`."""

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import ValidationError
from sqlmodel import col, select

from service.action_items import slo
from service.action_items.models import ActionItem, ItemKind, ItemStatus, Priority
from service.app import create_app
from service.auth.models import Scope
from service.core import clock
from service.postmortems.enums import Severity, Status, Template
from service.postmortems.models import Postmortem
from service.settings import Settings
from tests.database import committed_session
from tests.factories import add_action_item, create_postmortem
from tests.paging import every_item
from tests.problems import assert_invalid

SLO_FIELDS = ("slo_due_date", "suggested_due_date", "slo_breached")
CREATED = "2025-01-15T23:30:00-02:00"
"""2025-01-16 in UTC: the SLO counts from the UTC date, not the local one."""
DEFAULT_DUE = {"P0": "2025-01-23", "P1": "2025-01-30", "P2": "2025-04-16"}


def slo_fields(item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(item[field] for field in SLO_FIELDS)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Today (UTC), held still for the test so that no midnight passes while it runs."""
    now = clock.utc_now()
    monkeypatch.setattr(clock, "utc_now", lambda: now)
    return now.date()


@pytest.fixture
def set_created_at(app: FastAPI) -> Callable[[dict[str, datetime | str]], Any]:
    """Rewrites the stored `created_at` of items, by id."""

    async def rewrite(created: dict[str, datetime | str]) -> None:
        async with committed_session(app.state.engine) as session:
            for item_id, at in created.items():
                instant = datetime.fromisoformat(at) if isinstance(at, str) else at
                await session.exec(
                    sa.update(ActionItem).where(col(ActionItem.id) == uuid.UUID(item_id)).values(created_at=instant)
                )

    return rewrite


async def get_item(client: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/action-items/{item_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def patch_item(client: httpx.AsyncClient, item_id: str, **changes: Any) -> dict[str, Any]:
    response = await client.patch(f"/v1/action-items/{item_id}", json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def listed(client: httpx.AsyncClient, url: str = "/v1/action-items", **params: Any) -> list[dict[str, Any]]:
    return await every_item(client, url, **params)


# --- slo_due_date and suggested_due_date -----------------------------------------------------------------------------


async def test_slo_due_date_by_priority_with_the_default_settings(
    client: httpx.AsyncClient, set_created_at: Callable[[dict[str, datetime | str]], Any]
) -> None:
    postmortem = await create_postmortem(client)
    items = {p: await add_action_item(client, postmortem["id"], priority=p, due_date=None) for p in DEFAULT_DUE}
    await set_created_at({item["id"]: CREATED for item in items.values()})

    for priority, due in DEFAULT_DUE.items():
        item = await get_item(client, items[priority]["id"])
        assert slo_fields(item) == (due, due, True), priority
    assert [slo_fields(item) for item in await listed(client)] == [(d, d, True) for d in DEFAULT_DUE.values()]
    per_postmortem = await listed(client, f"/v1/postmortems/{postmortem['id']}/action-items")
    assert [item["slo_due_date"] for item in per_postmortem] == list(DEFAULT_DUE.values())


@pytest.mark.parametrize(("priority", "days"), [("P0", 7), ("P1", 14), ("P2", 90)])
async def test_a_new_item_is_due_its_slo_days_after_its_creation(
    client: httpx.AsyncClient, priority: str, days: int
) -> None:
    postmortem = await create_postmortem(client)

    item = await add_action_item(client, postmortem["id"], priority=priority, due_date=None)

    due = (datetime.fromisoformat(item["created_at"]).date() + timedelta(days=days)).isoformat()
    assert slo_fields(item) == (due, due, False)
    assert slo_fields(await get_item(client, item["id"])) == (due, due, False)


async def test_an_item_without_a_priority_has_no_slo(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    item = await add_action_item(client, postmortem["id"], priority=None, due_date=None)

    assert slo_fields(item) == (None, None, False)
    assert slo_fields(await get_item(client, item["id"])) == (None, None, False)


async def test_suggested_due_date_only_while_there_is_no_due_date(
    client: httpx.AsyncClient, set_created_at: Callable[[dict[str, datetime | str]], Any]
) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"], priority="P1", due_date="2099-01-31")
    await set_created_at({item["id"]: CREATED})

    assert slo_fields(await get_item(client, item["id"])) == ("2025-01-30", None, True)
    assert slo_fields(await patch_item(client, item["id"], due_date=None)) == ("2025-01-30", "2025-01-30", True)
    assert slo_fields(await patch_item(client, item["id"], priority="P0")) == ("2025-01-23", "2025-01-23", True)
    assert slo_fields(await patch_item(client, item["id"], due_date="2025-01-20")) == ("2025-01-23", None, True)
    assert slo_fields(await patch_item(client, item["id"], priority=None)) == (None, None, False)


# --- slo_breached ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "breached"), [("open", True), ("in_progress", True), ("done", False), ("wont_do", False)]
)
async def test_only_unfinished_items_breach_their_slo(
    client: httpx.AsyncClient,
    set_created_at: Callable[[dict[str, datetime | str]], Any],
    status: str,
    breached: bool,
) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"], priority="P0", status=status)
    await set_created_at({item["id"]: CREATED})

    assert (await get_item(client, item["id"]))["slo_breached"] is breached
    assert [i["id"] for i in await listed(client, slo_breached=str(breached).lower())] == [item["id"]]
    assert await listed(client, slo_breached=str(not breached).lower()) == []


async def test_the_slo_is_breached_from_the_day_after_the_due_date(
    client: httpx.AsyncClient, set_created_at: Callable[[dict[str, datetime | str]], Any], today: date
) -> None:
    postmortem = await create_postmortem(client)
    due_today = await add_action_item(client, postmortem["id"], title="due today", priority="P0", due_date=None)
    due_yesterday = await add_action_item(client, postmortem["id"], title="due yesterday", priority="P0", due_date=None)
    first_instant = midnight(today - timedelta(days=7))
    await set_created_at(
        {due_today["id"]: first_instant, due_yesterday["id"]: first_instant - timedelta(microseconds=1)}
    )

    yesterday = (today - timedelta(days=1)).isoformat()
    assert slo_fields(await get_item(client, due_today["id"])) == (today.isoformat(), today.isoformat(), False)
    assert slo_fields(await get_item(client, due_yesterday["id"])) == (yesterday, yesterday, True)
    assert [item["title"] for item in await listed(client, slo_breached="true")] == ["due yesterday"]
    assert [item["title"] for item in await listed(client, slo_breached="false")] == ["due today"]


# --- GET /v1/action-items?slo_breached= ------------------------------------------------------------------------------

CATALOGUE = [
    # title, postmortem, owner, priority, status, created days before today (at noon UTC), due_date
    ("p0 late", "A", "alice", "P0", "open", 8, None),
    ("p0 on time", "A", "bob", "P0", "open", 3, None),
    ("p1 late", "B", "alice", "P1", "in_progress", 15, "2099-01-31"),
    ("p1 on time", "A", "alice", "P1", "open", 8, "2000-01-31"),
    ("p2 late but done", "B", "bob", "P2", "done", 100, None),
    ("p2 late", "B", "bob", "P2", "open", 100, None),
    ("no priority", "A", "alice", None, "open", 400, None),
]


@pytest.fixture
async def catalogue(
    client: httpx.AsyncClient, set_created_at: Callable[[dict[str, datetime | str]], Any], today: date
) -> dict[str, str]:
    """The items of CATALOGUE, created in order; returns postmortem ids by name."""
    postmortems = {name: (await create_postmortem(client, title=name))["id"] for name in ("A", "B")}
    created = {}
    for title, postmortem, owner, priority, status, days_ago, due_date in CATALOGUE:
        item = await add_action_item(
            client,
            postmortems[postmortem],
            title=title,
            owner=owner,
            priority=priority,
            status=status,
            due_date=due_date,
        )
        created[item["id"]] = midnight(today - timedelta(days=days_ago)) + timedelta(hours=12)
    await set_created_at(created)
    return postmortems


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"slo_breached": "true"}, ["p0 late", "p1 late", "p2 late"]),
        ({"slo_breached": "false"}, ["p0 on time", "p1 on time", "p2 late but done", "no priority"]),
        ({"slo_breached": "true", "owner": "alice"}, ["p0 late", "p1 late"]),
        ({"slo_breached": "false", "owner": "alice"}, ["p1 on time", "no priority"]),
        ({"slo_breached": "true", "priority": "P2"}, ["p2 late"]),
        ({"slo_breached": "true", "status": "in_progress"}, ["p1 late"]),
        ({"slo_breached": "true", "status": "done"}, []),
        ({"slo_breached": "true", "overdue": "true"}, []),
        ({"slo_breached": "false", "overdue": "true"}, ["p1 on time"]),
        ({"slo_breached": "true", "limit": 1}, ["p0 late", "p1 late", "p2 late"]),
        ({"slo_breached": "false", "limit": 3}, ["p0 on time", "p1 on time", "p2 late but done", "no priority"]),
    ],
)
async def test_list_by_slo_breached(
    catalogue: dict[str, str], reader_client: httpx.AsyncClient, params: dict[str, Any], expected: list[str]
) -> None:
    items = await listed(reader_client, **params)

    assert [item["title"] for item in items] == expected
    assert {item["slo_breached"] for item in items} <= {params["slo_breached"] == "true"}


async def test_slo_breached_combines_with_the_postmortem(
    catalogue: dict[str, str], reader_client: httpx.AsyncClient
) -> None:
    breached_in_b = await listed(reader_client, slo_breached="true", postmortem_id=catalogue["B"])

    assert [item["title"] for item in breached_in_b] == ["p1 late", "p2 late"]


@pytest.mark.parametrize("value", ["maybe", "2", "breached", ""])
async def test_a_bad_slo_breached_value_is_named(reader_client: httpx.AsyncClient, value: str) -> None:
    response = await reader_client.get("/v1/action-items", params={"slo_breached": value})

    assert_invalid(response, "slo_breached", location="query")


@pytest.mark.parametrize(
    ("field", "value"), [("slo_due_date", "2025-02-01"), ("suggested_due_date", "2025-02-01"), ("slo_breached", False)]
)
async def test_slo_fields_cannot_be_written(client: httpx.AsyncClient, field: str, value: Any) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])

    response = await client.post(f"/v1/postmortems/{postmortem['id']}/action-items", json={"title": "t", field: value})
    assert_invalid(response, field)
    assert_invalid(await client.patch(f"/v1/action-items/{item['id']}", json={field: value}), field)


# --- the settings ----------------------------------------------------------------------------------------------------


@pytest.fixture
async def client_with_slo(
    app: FastAPI, database_url: str, api_keys: dict[Scope, str]
) -> AsyncIterator[Callable[[dict[str, int]], httpx.AsyncClient]]:
    """A write client of an app on the shared database with its own `action_item_slo_days`."""
    apps: list[FastAPI] = []
    clients: list[httpx.AsyncClient] = []

    def make(slo_days: dict[str, int]) -> httpx.AsyncClient:
        configured = create_app(Settings(database_url=database_url, action_item_slo_days=slo_days))
        apps.append(configured)
        clients.append(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=configured),
                base_url="http://testserver",
                headers={"Authorization": f"Bearer {api_keys[Scope.WRITE]}"},
            )
        )
        return clients[-1]

    yield make
    for made in clients:
        await made.aclose()
    for configured in apps:
        await configured.state.engine.dispose()


async def test_the_settings_choose_the_slo_days(
    client: httpx.AsyncClient,
    client_with_slo: Callable[[dict[str, int]], httpx.AsyncClient],
    set_created_at: Callable[[dict[str, datetime | str]], Any],
    today: date,
) -> None:
    postmortem = await create_postmortem(client)
    items = {p: await add_action_item(client, postmortem["id"], title=p, priority=p, due_date=None) for p in Priority}
    await set_created_at({item["id"]: midnight(today - timedelta(days=5)) for item in items.values()})
    strict = client_with_slo({"P0": 1, "P2": 30})

    by_default = {item["title"]: item["slo_due_date"] for item in await listed(client)}
    configured = {item["title"]: item["slo_due_date"] for item in await listed(strict)}

    created = today - timedelta(days=5)
    assert by_default == {p: (created + timedelta(days=d)).isoformat() for p, d in [("P0", 7), ("P1", 14), ("P2", 90)]}
    assert configured == {p: (created + timedelta(days=d)).isoformat() for p, d in [("P0", 1), ("P1", 14), ("P2", 30)]}
    assert (await get_item(strict, items["P0"]["id"]))["suggested_due_date"] == configured["P0"]
    assert [item["title"] for item in await listed(client, slo_breached="true")] == []
    assert [item["title"] for item in await listed(strict, slo_breached="true")] == ["P0"]


def test_the_slo_days_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTMORTEMS_ACTION_ITEM_SLO_DAYS", raising=False)
    assert Settings().action_item_slo_days == {Priority.P0: 7, Priority.P1: 14, Priority.P2: 90}

    monkeypatch.setenv("POSTMORTEMS_ACTION_ITEM_SLO_DAYS", '{"P1": 3}')
    assert Settings().action_item_slo_days == {Priority.P0: 7, Priority.P1: 3, Priority.P2: 90}

    monkeypatch.setenv("POSTMORTEMS_ACTION_ITEM_SLO_DAYS", '{"P0": 1, "P1": 2, "P2": 36500}')
    assert Settings().action_item_slo_days == {Priority.P0: 1, Priority.P1: 2, Priority.P2: 36500}


@pytest.mark.parametrize("value", ['{"P0": 0}', '{"P1": -3}', '{"P2": 36501}', '{"P3": 5}', '{"P0": "soon"}', "7"])
def test_bad_slo_days_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("POSTMORTEMS_ACTION_ITEM_SLO_DAYS", value)

    with pytest.raises(ValidationError, match="action_item_slo_days"):
        Settings()


# --- the rule in Python and in SQL -----------------------------------------------------------------------------------

TODAY = date(2025, 3, 12)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize("priority", list(Priority))
async def test_python_and_sql_agree_on_slo_breached_to_the_microsecond(app: FastAPI, priority: Priority) -> None:
    days = {Priority.P0: 2, Priority.P1: 5, Priority.P2: 40}
    last_on_time = midnight(TODAY - timedelta(days=days[priority]))
    instants = {
        "created today": midnight(TODAY) + timedelta(hours=20),
        "due today, first instant": last_on_time,
        "due today, last instant": last_on_time + timedelta(days=1) - TICK,
        "due yesterday, last instant": last_on_time - TICK,
        "long ago": midnight(date(2001, 1, 1)),
    }
    breached = {"due yesterday, last instant", "long ago"}
    due_dates = {name: slo.slo_due_date(at, priority, days) for name, at in instants.items()}
    assert {name for name, due in due_dates.items() if due is not None and due < TODAY} == breached
    async with committed_session(app.state.engine) as session:
        postmortem = Postmortem(title="t", severity=Severity.P2, template=Template.STANDARD, status=Status.DRAFT)
        session.add(postmortem)
        await session.flush()
        for status in ItemStatus:
            for name, at in instants.items():
                for level in (priority, None):
                    session.add(
                        ActionItem(
                            postmortem_id=postmortem.id,
                            title=f"{status.value}: {name}: {level}",
                            priority=level,
                            status=status,
                            kind=ItemKind.OTHER,
                            created_at=at,
                        )
                    )
        await session.flush()
        clause = slo.breached_clause(days, TODAY)
        found = set((await session.exec(select(ActionItem.title).where(clause))).all())
        others = set((await session.exec(select(ActionItem.title).where(~clause))).all())

    expected = {f"{status}: {name}: {priority}" for status in ("open", "in_progress") for name in breached}
    assert found == expected
    assert len(others) == len(ItemStatus) * len(instants) * 2 - len(expected)
    assert not found & others
