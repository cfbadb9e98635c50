import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from service.auth.models import Scope
from tests.factories import add_action_item, add_event, create_postmortem, submittable_postmortem
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


async def test_etag_names_the_version(client: httpx.AsyncClient, resource: Resource) -> None:
    fetched = await current(client, resource)
    assert fetched.headers["etag"] == '"1"'
    assert fetched.json()["version"] == 1


async def test_patch_with_the_current_etag_succeeds(client: httpx.AsyncClient, resource: Resource) -> None:
    etag = (await current(client, resource)).headers["etag"]

    response = await client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": etag})

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["version"] == 2
    fetched = await current(client, resource)
    assert fetched.headers["etag"] == '"2"'
    assert fetched.json()[resource.field] == "edited"


@pytest.mark.parametrize("if_match", ["*", '"7", "1"', ' "1" '])
async def test_if_match_accepts_a_wildcard_or_a_list(
    client: httpx.AsyncClient, resource: Resource, if_match: str
) -> None:
    response = await client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": if_match})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ['"2"', '"0"', "1", '"1', "garbage", '"7", "8"'])
async def test_patch_with_a_stale_etag_is_refused(client: httpx.AsyncClient, resource: Resource, if_match: str) -> None:
    before = (await current(client, resource)).json()

    response = await client.patch(resource.url, json={resource.field: "edited"}, headers={"If-Match": if_match})

    assert_precondition_failed(response)
    assert (await current(client, resource)).json() == before


async def test_patch_without_if_match_applies(client: httpx.AsyncClient, resource: Resource) -> None:
    response = await client.patch(resource.url, json={resource.field: "edited"})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


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
    assert retried.headers["etag"] == '"3"'


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
    assert fetched.headers["etag"] == '"2"'


async def test_delete_with_a_stale_etag_is_refused(client: httpx.AsyncClient, resource: Resource) -> None:
    assert (await client.patch(resource.url, json={resource.field: "edited"})).status_code == 200

    assert_precondition_failed(await client.delete(resource.url, headers={"If-Match": '"1"'}))

    assert (await current(client, resource)).json()[resource.field] == "edited"


@pytest.mark.parametrize("if_match", ['"1"', "*"])
async def test_delete_with_a_matching_etag_succeeds(
    client: httpx.AsyncClient, resource: Resource, if_match: str
) -> None:
    response = await client.delete(resource.url, headers={"If-Match": if_match})

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
    assert submitted.headers["etag"] == f'"{submitted.json()["version"]}"'
    assert_precondition_failed(await client.patch(url, json={"title": "late edit"}, headers={"If-Match": etag}))
