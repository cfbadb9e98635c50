"""How every HTTP server of this project runs: uvicorn with uvloop and httptools.

`postmortems serve` runs the service through `run`, and the benchmark runs its baseline app
through it too, so that both are measured with the same server settings.
"""

import math
import os
import signal
import sys

import uvicorn


def run(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    access_log: bool = False,
    log_level: str = "info",
    shutdown_grace_seconds: float | None = None,
) -> None:
    """Serve the ASGI app that `factory` ("module:function") builds, in `workers` processes.

    uvloop and httptools are the fastest event loop and HTTP parser uvicorn offers. The request log
    is the app's own (a JSON line with the request id, route template and duration), written only
    when `access_log` is asked for, as a line per request costs about as much CPU as a small request.

    On SIGTERM (or SIGINT) the server stops accepting connections, lets the requests in progress
    finish for up to `shutdown_grace_seconds`, and the process exits 0.
    """
    if access_log:
        os.environ["POSTMORTEMS_ACCESS_LOG"] = "true"  # read by each server process's app (`asgi.create`)
    _exit_cleanly_after_shutdown()
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=log_level.lower(),
        log_config=None,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=None if shutdown_grace_seconds is None else math.ceil(shutdown_grace_seconds),
    )


def _exit_cleanly_after_shutdown() -> None:
    """Once uvicorn has shut down gracefully, it raises the signal that stopped it again with the
    handler it found; with the default handler the process would die of SIGTERM (status 143), which
    process managers count as a failure. This handler makes it the clean exit it is."""
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: sys.exit(0))
