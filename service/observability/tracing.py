"""OpenTelemetry traces of the HTTP API: on when its packages are installed (`postmortems[tracing]`)
and an OTLP endpoint is configured, off otherwise, at no cost.

Configured the standard way, by `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`),
`OTEL_SERVICE_NAME` (default `postmortems`) and `OTEL_SDK_DISABLED=true` to turn it off.
"""

import importlib.util
import os
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
NOT_TRACED = "healthz,readyz,metrics"  # probes and scrapes would be most of the spans and tell nothing
REQUIRED_MODULES = ("opentelemetry.sdk.trace", "opentelemetry.instrumentation.fastapi")


def available() -> bool:
    return all(_importable(module) for module in REQUIRED_MODULES)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ModuleNotFoundError, ValueError):  # a parent package is missing, or the module is blocked
        return False


def install(app: FastAPI, exporter: "SpanExporter | None" = None) -> "TracerProvider | None":
    """Trace every request of `app` to `exporter` (default: OTLP over HTTP as configured); the provider
    to shut down when the app stops, or None when tracing is off."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or not available():
        return None
    if exporter is None:
        if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
            return None
        exporter = _otlp_exporter()
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes: dict[str, Any] = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "postmortems"}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=NOT_TRACED)
    return provider


def _otlp_exporter() -> "SpanExporter":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()
