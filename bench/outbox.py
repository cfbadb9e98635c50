"""Outbox deliveries per second: K action items pushed to the fake GitHub by `postmortems worker` processes.

The items are created through the API while no worker runs, each writing a push to the outbox;
then the workers start, and the benchmark polls the database until no delivery is pending. The
clock starts at the first delivery seen done, so the workers' start-up is not counted. Then the
fake must hold exactly one issue per item: a duplicate or a missing issue is an error.
"""

import asyncio
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench import database
from bench.operations import action_item
from bench.processes import Process, free_port, postmortems, running
from service.outbox.models import DeliveryStatus

POLL_SECONDS = 0.05
STALL_SECONDS = 120  # no delivery done for this long: give up waiting


@dataclass(frozen=True)
class OutboxResult:
    items: int
    worker_processes: int
    deliveries_per_second: float
    seconds: float  # from the first delivery done to the last
    startup_seconds: float  # from starting the workers to the first delivery done
    undelivered: int  # still pending when the wait gave up
    dead: int
    duplicates: int  # issues beyond the first for an item
    missing: int  # items without an issue
    workers_exited: int  # worker processes that stopped before they were told to
    peak_rss_mb: list[float]  # per worker process

    @property
    def errors(self) -> int:
        return self.undelivered + self.dead + self.duplicates + self.missing + self.workers_exited

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"errors": self.errors}


@dataclass(frozen=True)
class Outbox:
    """Where the pushes come from (the service's API and database) and go (the fake tracker)."""

    service_url: str
    key: str
    engine: sa.Engine
    tracker_url: str
    environment: dict[str, str]
    log_directory: Path

    def measure(self, draft_ids: list[str], items: int, workers: int, connections: int) -> OutboxResult:
        item_ids = asyncio.run(self._create_items(draft_ids, items, connections))
        pending = database.deliveries(self.engine, DeliveryStatus.PENDING)
        with ExitStack() as stack:
            started = time.monotonic()
            processes = [
                stack.enter_context(
                    running(
                        f"worker-{n}",
                        postmortems("worker"),
                        self.environment | {"POSTMORTEMS_WORKER_METRICS_PORT": str(free_port())},
                        self.log_directory,
                    )
                )
                for n in range(workers)
            ]
            progress = self._wait_until_delivered(pending, processes)
            exited = [process for process in processes if process.popen.poll() is not None]
            for process in exited:
                print(f"{process.name} exited with {process.popen.returncode}:\n{process.log_tail()}", file=sys.stderr)
        first_at = progress[0][0] if progress else started
        last_at, undelivered = progress[-1] if progress else (started, pending)
        counts = httpx.get(f"{self.tracker_url}/bench/issues-per-marker").raise_for_status().json()
        issues = [counts.get(f"postmortems-{item_id}", 0) for item_id in item_ids]
        return OutboxResult(
            items=len(item_ids),
            worker_processes=workers,
            deliveries_per_second=_rate(started, pending, progress),
            seconds=last_at - first_at,
            startup_seconds=first_at - started,
            undelivered=undelivered,
            dead=database.deliveries(self.engine, DeliveryStatus.DEAD),
            duplicates=sum(count - 1 for count in issues if count > 1),
            missing=issues.count(0),
            workers_exited=len(exited),
            peak_rss_mb=[mb for process in processes for mb in process.peak_rss_mb],
        )

    async def _create_items(self, draft_ids: list[str], count: int, connections: int) -> list[str]:
        """`count` action items spread over the drafts, `connections` requests at a time; their ids."""
        numbers = iter(range(count))
        headers = {"Authorization": f"Bearer {self.key}"}
        async with httpx.AsyncClient(base_url=self.service_url, headers=headers, timeout=60) as client:

            async def create() -> list[str]:
                created = []
                for number in numbers:
                    path = f"/v1/postmortems/{draft_ids[number % len(draft_ids)]}/action-items"
                    response = await client.post(path, json=action_item(f"Outbox item {number}"))
                    created.append(response.raise_for_status().json()["id"])
                return created

            batches = await asyncio.gather(*(create() for _ in range(connections)))
        return [item_id for batch in batches for item_id in batch]

    def _wait_until_delivered(self, pending: int, workers: list[Process]) -> list[tuple[float, int]]:
        """Poll until no delivery is pending, or none was done for STALL_SECONDS, or no worker runs;
        (time, still pending) at each poll that saw deliveries done."""
        progress: list[tuple[float, int]] = []
        left, last_change = pending, time.monotonic()
        while (
            left
            and time.monotonic() - last_change < STALL_SECONDS
            and any(worker.popen.poll() is None for worker in workers)
        ):
            time.sleep(POLL_SECONDS)
            still = database.deliveries(self.engine, DeliveryStatus.PENDING)
            if still < left:
                last_change = time.monotonic()
                progress.append((last_change, still))
            left = still
        return progress


def _rate(started: float, pending: int, progress: list[tuple[float, int]]) -> float:
    """Deliveries per second between the first and the last poll that saw progress; from the start
    of the workers when one poll saw them all done."""
    if not progress:
        return 0.0
    (first_at, first_left), (last_at, last_left) = progress[0], progress[-1]
    if len(progress) == 1:
        return (pending - last_left) / (last_at - started)
    return (first_left - last_left) / (last_at - first_at)
