"""`postmortems serve` through a PostgreSQL outage: while the server is stopped every `/v1` request
answers 503 problem+json with `Retry-After` on the client's same keep-alive connection, and once it
is back the very next request succeeds, on connections pooled before the outage too."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.outage.postgres import PrivatePostgres
from tests.problems import assert_problem
from tests.servers import Server, serving

POSTMORTEM = {"title": "Checkout errors after config push", "severity": "P2"}


@pytest.fixture(scope="module")
def server(migrated_postgres: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`postmortems serve` on the private server.

    A key, once checked, is trusted for the rest of the module, so that requests reach their
    routes' own statements first rather than the key check's.
    """
    with serving(
        migrated_postgres.url, tmp_path_factory.mktemp("serve"), POSTMORTEMS_AUTH_CACHE_SECONDS="3600"
    ) as server:
        yield server


@pytest.fixture
def http(server: Server, postgres: PrivatePostgres, api_key: str) -> Iterator[httpx.Client]:
    """A client over one keep-alive connection."""
    with httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        limits=httpx.Limits(max_connections=1),
        trust_env=False,
    ) as client:
        yield client


def connection_of(response: httpx.Response) -> Any:
    """The client's address of the connection the response came on (a new connection, a new port)."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def create_postmortem(http: httpx.Client) -> httpx.Response:
    response = http.post("/v1/postmortems", json=POSTMORTEM)
    assert response.status_code == 201, response.text
    return response


def test_while_the_database_is_down_requests_answer_503_and_the_connection_stays_open(
    postgres: PrivatePostgres, http: httpx.Client
) -> None:
    created = create_postmortem(http)
    postmortem_id = created.json()["id"]

    postgres.stop()
    refused = [
        http.get(f"/v1/postmortems/{postmortem_id}"),
        http.get("/v1/postmortems"),
        http.post("/v1/postmortems", json=POSTMORTEM),
        http.get("/v1/deliveries"),
        http.post(f"/v1/postmortems/{postmortem_id}/action-items", json={"title": "Validate config pushes in CI"}),
    ]
    readiness = http.get("/readyz")
    postgres.start()
    recovered = http.get(f"/v1/postmortems/{postmortem_id}")

    for response in refused:
        problem = assert_problem(response, 503)
        assert problem["detail"] == "the database is unreachable; retry shortly"
        assert problem["instance"] == response.request.url.path
        assert int(response.headers["Retry-After"]) > 0
    assert_problem(readiness, 503)
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["title"] == POSTMORTEM["title"]
    assert {connection_of(response) for response in [created, *refused, readiness, recovered]} == {
        connection_of(created)
    }


def test_a_key_check_that_cannot_reach_the_database_answers_503(postgres: PrivatePostgres, http: httpx.Client) -> None:
    postgres.stop()
    unchecked = http.get("/v1/postmortems", headers={"Authorization": "Bearer pm_a-key-never-checked"})
    postgres.start()
    after = http.get("/v1/postmortems", headers={"Authorization": "Bearer pm_a-key-never-checked"})

    assert_problem(unchecked, 503)
    assert_problem(after, 401)
    assert connection_of(after) == connection_of(unchecked)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/postmortems/{id}"),  # a prebuilt statement on the driver connection
        ("GET", "/v1/deliveries"),  # the ORM session
        ("POST", "/v1/postmortems/{id}/timeline"),  # a write: BEGIN first
    ],
)
def test_the_first_request_after_a_restart_succeeds_on_a_connection_pooled_before_it(
    postgres: PrivatePostgres, http: httpx.Client, method: str, path: str
) -> None:
    postmortem_id = create_postmortem(http).json()["id"]
    assert http.get(f"/v1/postmortems/{postmortem_id}").status_code == 200

    postgres.stop()
    postgres.start()  # no request in between: the pool still holds the connections the server closed
    body = {"occurred_at": "2025-01-15T09:00:00Z", "kind": "alert", "description": "Error-rate alert fired"}
    response = http.request(method, path.format(id=postmortem_id), json=body if method == "POST" else None)

    assert response.status_code in (200, 201), response.text
