"""`postmortems worker`'s own small HTTP server: `/metrics` to scrape, `/healthz` for a liveness probe.

It runs on a thread of its own, so that a scrape never waits on the deliveries; `/healthz` tells
whether the worker's event loop still runs (its heartbeat is recent), which a server on another
thread could not tell by answering alone.
"""

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.observability.metrics import CONTENT_TYPE, Metrics

HEARTBEAT_SECONDS = 1.0
STALE_AFTER_SECONDS = 30.0  # no heartbeat for this long: the loop is stuck, restart the process


class LoopMonitor:
    """Measures how late the event loop wakes up (its lag) and when it last did (its heartbeat)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.last_beat = time.monotonic()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.metrics.loop_lag.set(max(0.0, loop.time() - asked - HEARTBEAT_SECONDS))
            self.last_beat = time.monotonic()

    def alive(self) -> bool:
        return time.monotonic() - self.last_beat < STALE_AFTER_SECONDS


def _app(metrics: Metrics, monitor: LoopMonitor) -> Starlette:
    async def metrics_endpoint(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def healthz(_: Request) -> JSONResponse:
        if monitor.alive():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "stuck"}, status_code=503)

    return Starlette(routes=[Route("/metrics", metrics_endpoint), Route("/healthz", healthz)])


@asynccontextmanager
async def serving(metrics: Metrics, *, host: str, port: int) -> AsyncIterator[None]:
    """The server and the loop monitor for the duration of the block."""
    monitor = LoopMonitor(metrics)
    beating = asyncio.create_task(monitor.run())
    config = uvicorn.Config(
        _app(metrics, monitor), host=host, port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="worker-http", daemon=True)  # off the main thread:
    thread.start()  # uvicorn then leaves the process's signal handlers to the worker
    try:
        yield
    finally:
        server.should_exit = True
        beating.cancel()
        await asyncio.to_thread(thread.join)
