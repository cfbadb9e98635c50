"""`GET /metrics`: what a Prometheus server scrapes, labelled by route template, never by id."""

import uuid

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import create_postmortem


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(anonymous_client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await anonymous_client.get("/metrics")  # no API key: scrapers have none
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def requests_of(metrics: dict[tuple[str, frozenset[tuple[str, str]]], float], route: str, status: str) -> float:
    key = ("postmortems_http_requests_total", frozenset({("route", route), ("method", "GET"), ("status", status)}))
    return metrics.get(key, 0.0)


async def test_requests_are_counted_and_timed_by_route_template_method_and_status(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    template = "/v1/postmortems/{postmortem_id}"
    postmortem = await create_postmortem(client)
    before = await scrape(anonymous_client)

    for _ in range(3):
        assert (await client.get(f"/v1/postmortems/{postmortem['id']}")).status_code == 200
    assert (await client.get(f"/v1/postmortems/{uuid.uuid4()}")).status_code == 404
    after = await scrape(anonymous_client)

    assert requests_of(after, template, "200") - requests_of(before, template, "200") == 3
    assert requests_of(after, template, "404") - requests_of(before, template, "404") == 1
    latency = frozenset({("route", template), ("method", "GET"), ("status", "200")})
    assert after[("postmortems_http_request_duration_seconds_count", latency)] >= 3
    assert not any(str(postmortem["id"]) in str(labels) for _, labels in after)  # no ids in labels


async def test_requests_answered_before_routing_share_one_label(
    anonymous_client: httpx.AsyncClient,
) -> None:
    before = await scrape(anonymous_client)
    for path in ("/v1/postmortems", f"/v1/postmortems/{uuid.uuid4()}", "/no/such/path/at/all"):
        await anonymous_client.get(path)  # 401 (no key) and 404: no route template to name
    after = await scrape(anonymous_client)

    assert requests_of(after, "unmatched", "401") - requests_of(before, "unmatched", "401") == 2
    assert requests_of(after, "unmatched", "404") - requests_of(before, "unmatched", "404") == 1
    assert not any("/no/such/path" in str(labels) for _, labels in after)


async def test_an_unknown_method_is_counted_as_other(anonymous_client: httpx.AsyncClient) -> None:
    await anonymous_client.request("BREW", "/healthz")
    after = await scrape(anonymous_client)

    assert not any(("method", "BREW") in labels for _, labels in after)
    assert any(("method", "other") in labels for name, labels in after if name == "postmortems_http_requests_total")


async def test_the_pool_is_read_when_scraped(app: FastAPI, anonymous_client: httpx.AsyncClient) -> None:
    metrics = await scrape(anonymous_client)

    assert metrics[("postmortems_db_pool_size", frozenset())] == app.state.settings.db_pool_size
    assert 0 <= metrics[("postmortems_db_pool_connections_in_use", frozenset())] <= app.state.settings.db_pool_size


async def test_the_metrics_are_not_part_of_the_api_document(anonymous_client: httpx.AsyncClient) -> None:
    document = (await anonymous_client.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]
