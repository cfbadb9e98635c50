"""The ASGI entry point of `postmortems serve`: the app as the environment configures it.

Each server worker process builds its own app (its own connection pool, metrics and, where
enabled, its own outbox worker) by calling `create`.
"""

from fastapi import FastAPI

from service.app import create_app
from service.observability.logs import configure_logging
from service.outbox.runner import worker_enabled_in_serve
from service.settings import Settings


def create() -> FastAPI:
    settings = Settings()  # not the cached settings: `serve` sets some of the environment (`server.run`)
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, run_worker=worker_enabled_in_serve(settings))
