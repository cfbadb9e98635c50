"""A database that cannot be reached at all (a SQLite file that cannot be opened, a PostgreSQL server
that does not listen): every `/v1` request answers 503 problem+json with `Retry-After`, never 500."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from service.app import create_app
from service.settings import Settings
from tests.problems import UNKNOWN_ID, assert_problem
from tests.test_health import unreachable_database


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=unreachable_database(tmp_path)))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # an error escaping the app would raise here
            base_url="http://testserver",
            headers={"Authorization": "Bearer pm_some-key"},
        ) as client:
            yield client
    finally:
        await app.state.database.dispose()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/postmortems/{UNKNOWN_ID}"),
        ("GET", "/v1/action-items"),
        ("POST", "/v1/postmortems"),
        ("POST", f"/v1/webhooks/github/{UNKNOWN_ID}"),  # no API key: the route's own statements fail
    ],
)
async def test_requests_answer_503_with_retry_after(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={"title": "Checkout errors", "severity": "P2"})

    problem = assert_problem(response, 503)
    assert problem["type"] == "urn:postmortems:problem:service-unavailable"
    assert problem["instance"] == path
    assert int(response.headers["Retry-After"]) > 0
