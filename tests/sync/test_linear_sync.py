"""What only Linear does, end to end; the scenarios every tracker shares are in test_tracker_sync.py."""

import httpx
import pytest

from service.outbox.worker import Worker
from tests.fakes.linear import FakeLinear, now_ms
from tests.sync.helpers import post_webhook
from tests.sync.trackers import LinearTracker, assert_refused_and_nothing_changed, linked_item


@pytest.fixture
def tracker(linear: FakeLinear) -> LinearTracker:
    return LinearTracker(linear)


@pytest.mark.parametrize("tamper", ["prefixed", "stale", "from-the-future"])
async def test_a_webhook_with_a_prefixed_signature_or_too_old_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    tracker: LinearTracker,
    worker: Worker,
    tamper: str,
) -> None:
    integration, item = await linked_item(client, admin_client, tracker, worker)
    tracker.finish_on_tracker(item["external"]["id"])
    shift = {"stale": -120_000, "from-the-future": 120_000}.get(tamper, 0)
    payload = tracker.fake.issue_webhook(tracker.fake.issues[item["external"]["id"]], at_ms=now_ms() + shift)
    headers, body = tracker.signed(payload)
    if tamper == "prefixed":
        headers["Linear-Signature"] = "sha256=" + headers["Linear-Signature"]

    response = await post_webhook(anonymous_client, "linear", integration, headers, body)

    await assert_refused_and_nothing_changed(response, client, worker, item)
