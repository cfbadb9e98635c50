import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.auth.models import Scope
from service.core import clock
from service.core.clock import utc_now, utc_today
from tests.factories import SUBMITTABLE_STANDARD, add_action_item, add_event, create_postmortem, submittable_postmortem
from tests.problems import assert_header_refused, sole_success


@dataclass(frozen=True)
class Resource:
    url: str
    field: str
    """A text field every kind of resource lets a PATCH change."""


async def make_postmortem(client: httpx.AsyncClient) -> Resource:
    postmortem = await create_postmortem(client)
    return Resource(f"/v1/postmortems/{postmortem['id']}", "title")


async def make_event(client: httpx.AsyncClient) -> Resource:
    postmortem = await create_postmortem(client)
    event = await add_event(client, postmortem["id"])
    return Resource(f"/v1/postmortems/{postmortem['id']}/timeline/{event['id']}", "description")


async def make_action_item(client: httpx.AsyncClient) -> Resource:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])
    return Resource(f"/v1/action-items/{item['id']}", "title")


MAKERS: dict[str, Callable[[httpx.AsyncClient], Awaitable[Resource]]] = {
    "postmortem": make_postmortem,
    "timeline-event": make_event,
    "action-item": make_action_item,
}


@pytest.fixture(params=list(MAKERS))
async def resource(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> Resource:
    return await MAKERS[request.param](client)


@pytest.fixture
async def second_writer(app: FastAPI, api_keys: dict[Scope, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Another client with the same write key: a second user editing at the same time."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {api_keys[Scope.WRITE]}"},
    ) as second:
        yield second


def assert_precondition_failed(response: httpx.Response) -> None:
    assert_header_refused(response, 412, "If-Match")


async def current(client: httpx.AsyncClient, resource: Resource) -> httpx.Response:
    response = await client.get(resource.url)
    assert response.status_code == 200, response.text
    return response


async def test_the_etag_is_a_strong_tag_of_the_representation(client: httpx.AsyncClient, resource: Resource) -> None:
    fetched = await current(client, resource)
    etag = fetched.headers["etag"]

    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert (await current(client, resource)).headers["etag"] == etag
    assert fetched.json()["version"] == 1


async def test_patch_with_the_current_etag_succeeds(client: httpx.AsyncClient, resource: Resource) -> None:
    etag = (await current(client, resource)).headers["etag"]

    response = await client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": etag})

    assert response.status_code == 200, response.text
    assert response.headers["etag"] != etag
    assert response.json()["version"] == 2
    fetched = await current(client, resource)
    assert fetched.headers["etag"] == response.headers["etag"]
    assert fetched.json()[resource.field] == "edited"


@pytest.mark.parametrize("if_match", ["*", '"7", {etag}', " {etag} "])
async def test_if_match_accepts_a_wildcard_or_a_list(
    client: httpx.AsyncClient, resource: Resource, if_match: str
) -> None:
    etag = (await current(client, resource)).headers["etag"]

    response = await client.patch(
        resource.url, json={resource.field: "edited"}, headers={"If-Match": if_match.format(etag=etag)}
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == (await current(client, resource)).headers["etag"]


@pytest.mark.parametrize("if_match", ['"1"', '"0"', "{bare}", '"{bare}', "garbage", '"7", "8"'])
async def test_patch_with_a_stale_etag_is_refused(client: httpx.AsyncClient, resource: Resource, if_match: str) -> None:
    fetched = await current(client, resource)
    before, bare = fetched.json(), fetched.headers["etag"].strip('"')

    response = await client.patch(
        resource.url, json={resource.field: "edited"}, headers={"If-Match": if_match.format(bare=bare)}
    )

    assert_precondition_failed(response)
    assert (await current(client, resource)).json() == before


async def test_patch_without_if_match_applies(client: httpx.AsyncClient, resource: Resource) -> None:
    response = await client.patch(resource.url, json={resource.field: "edited"})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


async def test_an_unquoted_if_match_is_told_that_etags_are_quoted(
    client: httpx.AsyncClient, resource: Resource
) -> None:
    etag = (await current(client, resource)).headers["etag"]

    response = await client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": etag.strip('"')})

    assert_precondition_failed(response)
    [error] = response.json()["errors"]
    assert (error["code"], error["message"]) == ("etag_unquoted", f"is not a quoted ETag; the current one is {etag}")
    assert "quoted" in response.json()["detail"]
    assert (await current(client, resource)).headers["etag"] == etag


async def test_a_second_editor_with_a_stale_etag_gets_412(
    client: httpx.AsyncClient, second_writer: httpx.AsyncClient, resource: Resource
) -> None:
    first_etag = (await current(client, resource)).headers["etag"]
    second_etag = (await current(second_writer, resource)).headers["etag"]

    first = await client.patch(resource.url, json={resource.field: "first"}, headers={"If-Match": first_etag})
    second = await second_writer.patch(resource.url, json={resource.field: "second"}, headers={"If-Match": second_etag})

    assert first.status_code == 200, first.text
    assert_precondition_failed(second)
    fetched = await current(second_writer, resource)
    assert fetched.json()[resource.field] == "first"
    retried = await second_writer.patch(
        resource.url, json={resource.field: "second"}, headers={"If-Match": fetched.headers["etag"]}
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()[resource.field] == "second"
    assert retried.headers["etag"] == (await current(second_writer, resource)).headers["etag"]


async def test_concurrent_editors_with_the_same_etag_never_overwrite_each_other(
    client: httpx.AsyncClient, resource: Resource
) -> None:
    etag = (await current(client, resource)).headers["etag"]
    edits = [f"edit {n}" for n in range(5)]

    responses = await asyncio.gather(
        *(client.patch(resource.url, json={resource.field: edit}, headers={"If-Match": etag}) for edit in edits)
    )

    winner = sole_success(responses, 200, refused=412, header="If-Match")
    fetched = await current(client, resource)
    assert fetched.json()[resource.field] == winner.json()[resource.field]
    assert fetched.headers["etag"] == winner.headers["etag"]


async def test_delete_with_a_stale_etag_is_refused(client: httpx.AsyncClient, resource: Resource) -> None:
    stale = (await current(client, resource)).headers["etag"]
    assert (await client.patch(resource.url, json={resource.field: "edited"})).status_code == 200

    assert_precondition_failed(await client.delete(resource.url, headers={"If-Match": stale}))

    assert (await current(client, resource)).json()[resource.field] == "edited"


@pytest.mark.parametrize("if_match", ["{etag}", "*"])
async def test_delete_with_a_matching_etag_succeeds(
    client: httpx.AsyncClient, resource: Resource, if_match: str
) -> None:
    etag = (await current(client, resource)).headers["etag"]

    response = await client.delete(resource.url, headers={"If-Match": if_match.format(etag=etag)})

    assert response.status_code == 204, response.text
    assert (await client.get(resource.url)).status_code == 404


async def test_a_delete_racing_an_edit_with_the_same_etag_loses_or_wins_cleanly(
    client: httpx.AsyncClient, resource: Resource
) -> None:
    etag = (await current(client, resource)).headers["etag"]

    edit, delete = await asyncio.gather(
        client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": etag}),
        client.delete(resource.url, headers={"If-Match": etag}),
    )

    after = await client.get(resource.url)
    if edit.status_code == 200:
        assert delete.status_code == 412
        assert after.json()[resource.field] == "edited"
    else:
        assert delete.status_code == 204
        assert edit.status_code in (404, 412)
        assert after.status_code == 404


async def test_if_match_longer_than_200_characters_is_refused(client: httpx.AsyncClient, resource: Resource) -> None:
    response = await client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": "x" * 201})
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["If-Match"]


async def test_workflow_steps_change_the_postmortem_etag(client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client)
    url = f"/v1/postmortems/{postmortem['id']}"
    etag = (await client.get(url)).headers["etag"]

    submitted = await client.post(f"{url}/submit")

    assert submitted.status_code == 200, submitted.text
    assert submitted.headers["etag"] != etag
    assert submitted.headers["etag"] == (await client.get(url)).headers["etag"]
    assert_precondition_failed(await client.patch(url, json={"title": "late edit"}, headers={"If-Match": etag}))


# -- what a postmortem shows besides its own fields --------------------------------------------------------------


async def assert_moved(client: httpx.AsyncClient, url: str, etag: str, *, patch: dict[str, Any] | None = None) -> str:
    """The resource at `url` no longer has `etag`: polling with it gets the new representation, and a
    `patch` sent with it gets 412. Its new ETag."""
    fetched = await client.get(url, headers={"If-None-Match": etag})
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["etag"] != etag
    if patch is not None:
        assert_precondition_failed(await client.patch(url, json=patch, headers={"If-Match": etag}))
    return str(fetched.headers["etag"])


STALE_EDIT = {"title": "stale edit"}


async def test_the_postmortem_etag_moves_with_its_action_items(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    url = f"/v1/postmortems/{postmortem['id']}"
    etag = (await client.get(url)).headers["etag"]

    item = await add_action_item(client, postmortem["id"], due_date="2099-01-31")
    etag = await assert_moved(client, url, etag, patch=STALE_EDIT)
    item_url = f"/v1/action-items/{item['id']}"
    assert (await client.patch(item_url, json={"due_date": "2001-01-31"})).status_code == 200
    etag = await assert_moved(client, url, etag, patch=STALE_EDIT)
    assert (await client.patch(item_url, json={"status": "done"})).status_code == 200
    etag = await assert_moved(client, url, etag, patch=STALE_EDIT)
    assert (await client.get(url)).json()["action_items_summary"] == {"total": 1, "open": 0, "done": 1, "overdue": 0}
    assert (await client.delete(item_url)).status_code == 204
    etag = await assert_moved(client, url, etag, patch=STALE_EDIT)

    response = await client.patch(url, json={"title": "current edit"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.text


async def test_an_edit_the_summary_does_not_show_keeps_the_postmortem_etag(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"])
    url = f"/v1/postmortems/{postmortem['id']}"
    etag = (await client.get(url)).headers["etag"]

    assert (await client.patch(f"/v1/action-items/{item['id']}", json={"owner": "@sre"})).status_code == 200
    await add_event(client, postmortem["id"])

    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    assert (await client.patch(url, json={"title": "edit"}, headers={"If-Match": etag})).status_code == 200


async def test_approvals_move_the_postmortem_etag_and_its_readiness(client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client)
    url = f"/v1/postmortems/{postmortem['id']}"
    assert (await client.post(f"{url}/submit")).status_code == 200
    etag = (await client.get(url)).headers["etag"]
    readiness = await client.get(f"{url}/readiness")
    assert readiness.json()["ready"] is False

    approved = await client.post(f"{url}/approve")

    assert approved.status_code == 200, approved.text
    assert await assert_moved(client, url, etag, patch=STALE_EDIT) == approved.headers["etag"]
    await assert_moved(client, f"{url}/readiness", readiness.headers["etag"])
    assert (await client.get(f"{url}/readiness")).json()["ready"] is True


async def test_a_timeline_event_moves_the_readiness_etag(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, **SUBMITTABLE_STANDARD)
    await add_action_item(client, postmortem["id"])
    url = f"/v1/postmortems/{postmortem['id']}/readiness"
    before = await client.get(url)
    assert [error["field"] for error in before.json()["errors"]] == ["timeline"]

    await add_event(client, postmortem["id"])

    await assert_moved(client, url, before.headers["etag"])
    assert (await client.get(url)).json()["ready"] is True


async def test_the_clock_moves_the_etag_when_it_makes_an_item_overdue(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    postmortem = await create_postmortem(client)
    item = await add_action_item(client, postmortem["id"], due_date=utc_today().isoformat())
    urls = [f"/v1/postmortems/{postmortem['id']}", f"/v1/action-items/{item['id']}"]
    etags = [(await client.get(url)).headers["etag"] for url in urls]

    tomorrow = utc_now() + timedelta(days=1)
    monkeypatch.setattr(clock, "utc_now", lambda: tomorrow)

    for url, etag in zip(urls, etags, strict=True):
        await assert_moved(client, url, etag, patch=STALE_EDIT)
    assert (await client.get(urls[0])).json()["action_items_summary"]["overdue"] == 1
    assert (await client.get(urls[1])).json()["overdue"] is True
