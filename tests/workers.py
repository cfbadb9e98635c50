"""`postmortems worker` as a user runs it: a subprocess with its own environment, its log in a file."""

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.backends import secret_settings
from tests.servers import POSTMORTEMS


async def start_worker(database_url: str, log: Path, **settings: str) -> asyncio.subprocess.Process:
    """`postmortems worker` on the database, polling every 50 ms, logging everything (DEBUG) to `log`.

    `settings` are further `POSTMORTEMS_*` variables, named without the prefix: `outbox_lease_seconds="1"`.
    It opens secrets with the key the test apps on this database use (`secret_settings`).
    """
    environment = {name: value for name, value in os.environ.items() if not name.startswith("POSTMORTEMS_")}
    environment |= {
        "POSTMORTEMS_DATABASE_URL": database_url,
        "POSTMORTEMS_WORKER_POLL_SECONDS": "0.05",
        "POSTMORTEMS_LOG_LEVEL": "DEBUG",
        "POSTMORTEMS_WORKER_METRICS_PORT": "0",  # several may run at once
    }
    environment |= {
        f"POSTMORTEMS_{name.upper()}": value for name, value in (secret_settings(database_url) | settings).items()
    }
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            POSTMORTEMS, "worker", stdout=output, stderr=subprocess.STDOUT, env=environment
        )


def log_records(log: Path) -> list[dict[str, Any]]:
    """The lines of a worker's log (one JSON object each)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def messages(log: Path, level: str, containing: str = "") -> list[str]:
    """The messages logged at `level` that contain `containing`."""
    return [r["message"] for r in log_records(log) if r["level"] == level and containing in r["message"]]
