"""Running the outbox worker: inside `serve` (the SQLite default) or as `postmortems worker`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from service.core.database import Database
from service.db import is_sqlite
from service.integrations.secrets import SecretBox
from service.observability.metrics import Metrics
from service.outbox.clients import TrackerClients
from service.outbox.worker import Worker
from service.settings import Settings
from service.sync.handlers import Context


def worker_enabled_in_serve(settings: Settings) -> bool:
    if settings.run_worker is not None:
        return settings.run_worker
    return is_sqlite(settings.database_url)


@contextlib.asynccontextmanager
async def worker_context(
    database: Database, settings: Settings, box: SecretBox, metrics: Metrics | None = None
) -> AsyncIterator[Worker]:
    """A worker and its tracker clients; it opens secrets with `box` and counts its deliveries in `metrics`
    (else in its own)."""
    clients = TrackerClients(in_flight=settings.worker_concurrency, timeout_seconds=settings.tracker_timeout_seconds)
    try:
        context = Context(database, clients, settings, box)
        yield Worker(context, metrics or Metrics())
    finally:
        await clients.aclose()


@contextlib.asynccontextmanager
async def background_worker(
    database: Database, settings: Settings, metrics: Metrics, box: SecretBox
) -> AsyncIterator[None]:
    """Run a worker for the duration of the block; on exit it finishes or releases its deliveries in flight."""
    async with worker_context(database, settings, box, metrics) as worker:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task
