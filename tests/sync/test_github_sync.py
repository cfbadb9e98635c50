"""Action items to GitHub issues and back, end to end: API -> outbox -> worker -> fake GitHub -> webhook."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.outbox.runner import worker_context
from service.outbox.worker import Worker
from service.settings import Settings
from tests.factories import add_action_item, create_postmortem, submittable_postmortem
from tests.fakes.github import TOKEN, FakeGitHub
from tests.fakes.server import Fault
from tests.sync.helpers import drain, item_of

SECRET = "webhook-secret-for-tests"


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def fake(github: FakeGitHub) -> Iterator[FakeGitHub]:
    github.reset()
    yield github
    assert github.violations == []


async def connect(admin_client: httpx.AsyncClient, fake: FakeGitHub, **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "github",
        "name": "followups",
        "base_url": fake.base_url,
        "settings": {"owner": fake.owner, "repo": fake.repo},
        "credentials": {"token": TOKEN},
        "webhook_secret": SECRET,
        "default": True,
    } | overrides
    response = await admin_client.post("/v1/integrations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def issue_number(item: dict[str, Any]) -> int:
    return int(item["external"]["id"])


async def test_a_new_item_becomes_exactly_one_issue_with_a_link_back(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client, title="Checkout outage", severity="P1")
    created = await add_action_item(client, postmortem["id"], title="Add a canary stage", priority="P0")
    assert created["sync_status"] == "pending"

    await drain(worker)

    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    assert len(fake.issues) == 1
    issue = fake.issues[issue_number(item)]
    assert issue["title"] == "Add a canary stage"
    assert f"/v1/postmortems/{postmortem['id']}" in issue["body"]
    assert {"severity:P1", "priority:P0"} <= set(fake.label_names(issue["number"]))
    assert item["external"]["tracker"] == "github"
    assert item["external"]["key"] == f"#{issue['number']}"
    assert item["external"]["state"] == "open"


async def test_changes_are_pushed_and_a_local_done_closes_the_issue(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)

    patched = await client.patch(f"/v1/action-items/{created['id']}", json={"title": "Renamed", "status": "done"})
    assert patched.status_code == 200
    await drain(worker)

    item = await item_of(client, created["id"])
    issue = fake.issues[issue_number(item)]
    assert (issue["title"], issue["state"], issue["state_reason"]) == ("Renamed", "closed", "completed")
    assert item["status"] == "done"
    assert len(fake.issues) == 1


async def test_a_create_whose_answer_was_lost_is_found_again_not_duplicated(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    # GitHub creates the issue, then the connection drops before the worker hears about it.
    fake.faults.append(Fault(after=True, drop=True, path_contains="/issues"))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(fake.issues) == 1
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=502),
        Fault(status=429, headers={"Retry-After": "0"}),
        Fault(drop=True),
    ],
    ids=["500", "502", "429", "dropped"],
)
async def test_transient_failures_are_retried_until_delivered(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker, fault: Fault
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    fake.faults.extend([fault, fault])
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    assert len(fake.issues) == 1
    assert (await item_of(client, created["id"]))["sync_status"] == "synced"
    deliveries = (await client.get("/v1/deliveries", params={"action_item_id": created["id"]})).json()["items"]
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("done", 3)]


async def test_a_permanent_failure_is_dead_listed_and_can_be_retried(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    fake.faults.append(Fault(status=422))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    item = await item_of(client, created["id"])
    assert item["sync_status"] == "failed"
    assert "422" in item["last_sync_error"]
    dead = (await client.get("/v1/deliveries", params={"status": "dead"})).json()["items"]
    assert [(d["action_item_id"], d["attempts"]) for d in dead] == [(created["id"], 1)]
    assert "422" in dead[0]["last_error"]
    assert fake.issues == {}

    retried = await client.post(f"/v1/deliveries/{dead[0]['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    await drain(worker)

    assert len(fake.issues) == 1
    assert (await item_of(client, created["id"]))["sync_status"] == "synced"


async def test_transient_failures_give_up_after_the_maximum_attempts(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    fake.faults.extend(Fault(status=503) for _ in range(10))
    created = await add_action_item(client, postmortem["id"])

    await drain(worker)

    dead = (await client.get("/v1/deliveries", params={"status": "dead"})).json()["items"]
    assert [d["attempts"] for d in dead] == [worker.settings.outbox_max_attempts]
    assert (await item_of(client, created["id"]))["sync_status"] == "failed"


async def test_a_signed_webhook_updates_the_item_once(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    fake: FakeGitHub,
    worker: Worker,
) -> None:
    integration = await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    number = issue_number(await item_of(client, created["id"]))

    fake.edit_on_github(number, state="closed", state_reason="not_planned")
    headers, body = fake.issue_delivery(number, "closed", SECRET)
    url = f"/v1/webhooks/github/{integration['id']}"
    first = await anonymous_client.post(url, headers=headers, content=body)
    again = await anonymous_client.post(url, headers=headers, content=body)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)

    await drain(worker)

    item = await item_of(client, created["id"])
    assert item["status"] == "wont_do"
    assert item["external"]["state"] == "closed:not_planned"
    webhook_deliveries = (await client.get("/v1/deliveries")).json()["items"]
    assert sum(d["kind"] == "webhook.apply" for d in webhook_deliveries) == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "no-signature", "changed-body"],
)
async def test_a_webhook_without_a_valid_signature_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    anonymous_client: httpx.AsyncClient,
    fake: FakeGitHub,
    worker: Worker,
    tamper: str,
) -> None:
    integration = await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    number = issue_number(await item_of(client, created["id"]))
    fake.edit_on_github(number, state="closed", state_reason="completed")
    headers, body = fake.issue_delivery(number, "closed", "another-secret" if tamper == "wrong-secret" else SECRET)
    if tamper == "no-signature":
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-hub-signature")}
    if tamper == "changed-body":
        body = body.replace(b'"closed"', b'"open"', 1)

    response = await anonymous_client.post(f"/v1/webhooks/github/{integration['id']}", headers=headers, content=body)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    await drain(worker)
    assert (await item_of(client, created["id"]))["status"] == "open"
    assert [d["kind"] for d in (await client.get("/v1/deliveries")).json()["items"]] == ["tracker.push"]


async def test_sync_reads_a_change_made_on_github_and_a_deleted_issue(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    number = issue_number(await item_of(client, created["id"]))

    fake.edit_on_github(number, state="closed", state_reason="completed")
    assert (await client.post(f"/v1/action-items/{created['id']}/sync")).status_code == 202
    await drain(worker)
    assert (await item_of(client, created["id"]))["status"] == "done"

    fake.delete_issue(number)
    assert (await client.post(f"/v1/action-items/{created['id']}/sync")).status_code == 202
    await drain(worker)
    item = await item_of(client, created["id"])
    assert item["external"]["state"] == "deleted"
    assert item["status"] == "done"


async def test_on_complete_policy_pushes_when_the_postmortem_completes(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake, push_policy="on_complete")
    postmortem = await submittable_postmortem(client)
    await drain(worker)
    assert fake.issues == {}

    for action in ("submit", "approve", "complete"):
        response = await client.post(f"/v1/postmortems/{postmortem['id']}/{action}")
        assert response.status_code == 200, response.text
    await drain(worker)

    assert len(fake.issues) == 1


async def test_integrations_never_show_their_secrets(admin_client: httpx.AsyncClient, fake: FakeGitHub) -> None:
    integration = await connect(admin_client, fake)
    listed = await admin_client.get("/v1/integrations")
    fetched = await admin_client.get(f"/v1/integrations/{integration['id']}")
    for text in (str(integration), listed.text, fetched.text):
        assert TOKEN not in text
        assert SECRET not in text
    assert integration["webhook_path"] == f"/v1/webhooks/github/{integration['id']}"
    assert integration["has_webhook_secret"] is True


async def test_two_workers_never_deliver_the_same_item_twice(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, app: FastAPI, database_url: str
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    items = [await add_action_item(client, postmortem["id"], title=f"Item {n}") for n in range(12)]
    settings = Settings(database_url=database_url)
    async with (
        worker_context(app.state.engine, settings) as first,
        worker_context(app.state.engine, settings) as second,
    ):
        await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    assert len(fake.issues) == len(items)
    creates = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/issues")]
    assert len(creates) == len(items)
    deliveries = (await client.get("/v1/deliveries", params={"limit": 100})).json()["items"]
    assert sorted(d["attempts"] for d in deliveries) == [1] * len(items)


async def test_pushing_other_fields_keeps_a_status_set_on_github(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, fake: FakeGitHub, worker: Worker
) -> None:
    await connect(admin_client, fake)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    number = issue_number(await item_of(client, created["id"]))
    fake.edit_on_github(number, state="closed", state_reason="completed")

    await client.patch(f"/v1/action-items/{created['id']}", json={"title": "Add a canary stage to deploys"})
    await drain(worker)

    issue = fake.issues[number]
    assert (issue["title"], issue["state"]) == ("Add a canary stage to deploys", "closed")
    item = await item_of(client, created["id"])
    assert item["status"] == "done"
    assert item["external"]["state"] == "closed:completed"


async def test_a_webhook_is_checked_for_its_signature_before_its_media_type(
    admin_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    integration = await connect(admin_client, fake)

    response = await anonymous_client.post(
        f"/v1/webhooks/github/{integration['id']}",
        content=b"payload=%7B%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )

    assert response.status_code == 401
    assert response.json()["type"].endswith(":invalid-signature")
