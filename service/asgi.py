"""The ASGI entry point of `postmortems serve`: the app as the environment configures it.

Each server worker process builds its own app (its own connection pool and, where enabled,
its own outbox worker) by calling `create`.
"""

from fastapi import FastAPI

from service.app import create_app
from service.outbox.runner import worker_enabled_in_serve
from service.server import configure_logging
from service.settings import get_settings


def create() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings, run_worker=worker_enabled_in_serve(settings))
