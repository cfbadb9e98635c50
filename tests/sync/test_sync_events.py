"""A status changed in the tracker is an `action_item.status_changed` event whose source is the tracker."""

from typing import Any

import httpx
import pytest

from service.outbox.worker import Worker
from tests.sync.helpers import drain, force_sync
from tests.sync.trackers import TRACKERS, Tracker, linked_item


async def status_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/events", params={"type": "action_item.status_changed"})
    assert response.status_code == 200, response.text
    return [event["data"] for event in response.json()["items"]]


@pytest.mark.parametrize("tracker", list(TRACKERS), indirect=True)
async def test_a_webhook_s_status_change_names_the_tracker(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: Tracker[Any],
    worker: Worker,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)

    payload = tracker.change_on_tracker(item["external"]["id"])
    assert (await tracker.send(anonymous_client, integration, payload)).status_code == 202
    await drain(worker)

    [changed] = await status_events(client)
    assert (changed["source"], changed["actor"]) == (tracker.kind, None)
    assert (changed["old_status"], changed["new_status"]) == ("open", tracker.remote_change[0])
    assert changed["action_item"]["status"] == tracker.remote_change[0]
    assert changed["action_item"]["version"] == (await client.get(f"/v1/action-items/{item['id']}")).json()["version"]


@pytest.mark.parametrize("tracker", ["github"], indirect=True)
async def test_a_polled_status_change_names_the_tracker(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> None:
    _, item = await linked_item(client, admin_client, tracker, worker)
    tracker.finish_on_tracker(item["external"]["id"])

    await force_sync(client, item["id"])
    await drain(worker)

    [changed] = await status_events(client)
    assert (changed["source"], changed["new_status"]) == ("github", "done")
