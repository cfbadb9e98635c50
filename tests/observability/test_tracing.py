"""OpenTelemetry: each request a span named by its route, when the packages are installed and an
exporter is configured; nothing at all otherwise."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.app import create_app
from service.auth.models import Scope
from service.observability import tracing
from service.settings import Settings
from tests.factories import create_postmortem


@asynccontextmanager
async def running(app: FastAPI, key: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as client:
        yield client
    await app.state.engine.dispose()


async def test_each_request_is_a_span_named_by_its_route(settings: Settings, api_keys: dict[Scope, str]) -> None:
    app = create_app(settings)
    exporter = InMemorySpanExporter()
    provider = tracing.install(app, exporter)
    assert provider is not None
    async with running(app, api_keys[Scope.WRITE]) as client:
        postmortem = await create_postmortem(client)
        assert (await client.get(f"/v1/postmortems/{postmortem['id']}")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200  # probes are not traced
    provider.force_flush()

    servers = [span for span in exporter.get_finished_spans() if span.kind.name == "SERVER"]
    assert [(span.name, span.attributes["http.route"]) for span in servers] == [
        ("POST /v1/postmortems", "/v1/postmortems"),
        ("GET /v1/postmortems/{postmortem_id}", "/v1/postmortems/{postmortem_id}"),
    ]
    provider.shutdown()


def test_tracing_is_off_without_an_endpoint(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in tracing.ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    assert tracing.install(create_app(settings)) is None


def test_tracing_is_off_when_disabled(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.install(create_app(settings), InMemorySpanExporter()) is None


def test_tracing_is_off_without_its_packages(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.fastapi", None)  # not installed
    assert tracing.install(create_app(settings), InMemorySpanExporter()) is None
