"""Events recorded with each change, and the change feed: in order, by a cursor that outlives the app."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.core import clock
from service.outbox.worker import Worker
from service.settings import Settings
from tests.factories import add_action_item, create_postmortem, submittable_postmortem
from tests.problems import assert_invalid, assert_problem
from tests.sync.helpers import quick_worker


async def feed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def events(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    return list((await feed(client, limit=200, **params))["items"])


async def test_a_postmortem_s_life_is_recorded(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client)
    patched = await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"title": "New title", "severity": "P2"})
    submitted = await client.post(f"/v1/postmortems/{postmortem['id']}/submit")
    assert submitted.status_code == 200, submitted.text

    recorded = [e for e in await events(reader_client) if e["type"].startswith("postmortem.")]

    assert [e["type"] for e in recorded] == ["postmortem.created", "postmortem.updated", "postmortem.status_changed"]
    created, updated, status_changed = (e["data"] for e in recorded)
    assert created["postmortem"]["id"] == postmortem["id"]
    assert created["actor"]["name"] == "writer"
    assert updated["changed"] == ["title"]  # the severity was sent unchanged
    assert updated["postmortem"] == patched.json()
    assert (status_changed["old_status"], status_changed["new_status"]) == ("draft", "in_review")
    assert status_changed["action"] == "submit"
    assert status_changed["actor"]["name"] == "writer"
    assert status_changed["postmortem"] == submitted.json()


async def test_a_patch_that_changes_nothing_records_nothing(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, title="Same")
    await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"title": "Same"})

    assert [e["type"] for e in await events(client)] == ["postmortem.created"]


async def test_action_item_changes_are_recorded(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])
    changed = await client.patch(f"/v1/action-items/{item['id']}", json={"status": "in_progress", "owner": "@sre"})
    assert changed.status_code == 200

    recorded = [e for e in await events(client) if e["type"].startswith("action_item.")]

    assert [e["type"] for e in recorded] == [
        "action_item.created",
        "action_item.updated",
        "action_item.status_changed",
    ]
    assert recorded[0]["data"]["action_item"] == item
    assert recorded[1]["data"]["changed"] == ["owner", "status"]
    status_changed = recorded[2]["data"]
    assert (status_changed["old_status"], status_changed["new_status"]) == ("open", "in_progress")
    assert (status_changed["source"], status_changed["actor"]["name"]) == ("api", "writer")
    assert status_changed["action_item"] == changed.json()


@pytest.fixture
async def worker(app: FastAPI, database_url: str) -> AsyncIterator[Worker]:
    async with quick_worker(app, database_url) as worker:
        yield worker


async def test_an_overdue_item_is_recorded_once(client: httpx.AsyncClient, worker: Worker) -> None:
    postmortem = await create_postmortem(client)
    overdue = await add_action_item(client, postmortem["id"], due_date="2020-01-31")
    await add_action_item(client, postmortem["id"], due_date="2020-01-31", status="done")
    await add_action_item(client, postmortem["id"], due_date="2099-01-31")

    assert await worker.record_overdue() == 1
    assert await worker.record_overdue() == 0

    [recorded] = await events(client, type="action_item.overdue")
    assert recorded["data"]["action_item"]["id"] == overdue["id"]
    assert recorded["data"]["action_item"]["overdue"] is True


async def test_an_item_given_a_later_due_date_is_overdue_again_when_it_passes(
    client: httpx.AsyncClient, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"], due_date="2020-01-31")
    await worker.record_overdue()
    tomorrow = (clock.utc_now() + timedelta(days=1)).date().isoformat()
    await client.patch(f"/v1/action-items/{item['id']}", json={"due_date": tomorrow})
    assert await worker.record_overdue() == 0

    two_days_later = clock.utc_now() + timedelta(days=2)
    monkeypatch.setattr(clock, "utc_now", lambda: two_days_later)

    assert await worker.record_overdue() == 1
    assert len(await events(client, type="action_item.overdue")) == 2


async def test_the_feed_is_read_in_order_by_cursor_across_app_instances(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await feed(client)
    assert first["items"] == []
    assert first["next_cursor"]
    for title in ("a", "b", "c"):
        await create_postmortem(client, title=title)

    page = await feed(client, after=first["next_cursor"], limit=2)
    assert [e["data"]["postmortem"]["title"] for e in page["items"]] == ["a", "b"]
    assert page["items"][0]["id"] < page["items"][1]["id"]

    restarted = create_app(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=restarted), base_url="http://testserver", headers=client.headers
        ) as other:
            rest = await feed(other, after=page["next_cursor"])
            assert [e["data"]["postmortem"]["title"] for e in rest["items"]] == ["c"]
            empty = await feed(other, after=rest["next_cursor"])
            assert empty["items"] == []
            assert empty["next_cursor"] == rest["next_cursor"]
            await create_postmortem(other, title="d")
            latest = await feed(other, after=empty["next_cursor"])
            assert [e["data"]["postmortem"]["title"] for e in latest["items"]] == ["d"]
    finally:
        await restarted.state.engine.dispose()


async def test_the_feed_filters_by_type(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    await add_action_item(client, postmortem["id"])

    assert [e["type"] for e in await events(client, type="action_item.created")] == ["action_item.created"]
    assert_invalid(await client.get("/v1/events", params={"type": "nope"}), "type", location="query")
    assert_invalid(await client.get("/v1/events", params={"after": "!!"}), "after", location="query")
    assert_invalid(await client.get("/v1/events", params={"after": "bm9wZQ"}), "after", location="query")


async def test_the_feed_needs_a_key(anonymous_client: httpx.AsyncClient) -> None:
    assert_problem(await anonymous_client.get("/v1/events"), 401)
