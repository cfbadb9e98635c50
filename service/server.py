"""How every HTTP server of this project runs: uvicorn with uvloop and httptools.

`postmortems serve` runs the service through `run`, and the benchmark runs its baseline app
through it too, so that both are measured with the same server settings.
"""

import logging

import uvicorn

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str) -> None:
    """The process's log format and level (each uvicorn worker process calls this for itself)."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run(
    factory: str, *, host: str, port: int, workers: int = 1, access_log: bool = False, log_level: str = "info"
) -> None:
    """Serve the ASGI app that `factory` ("module:function") builds, in `workers` processes.

    uvloop and httptools are the fastest event loop and HTTP parser uvicorn offers; the access log
    is off unless asked for, as a line per request costs about as much CPU as a small request.
    """
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=log_level.lower(),
        log_config=None,
        server_header=False,
        date_header=True,
    )
