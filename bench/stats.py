"""Benchmark of GET /v1/stats at volume: 100k postmortems and 1M action items.

    .venv/bin/python -m bench.stats                                                   # a scratch SQLite file
    .venv/bin/python -m bench.stats --database-url postgresql://postgres@127.0.0.1/postgres

With a PostgreSQL URL a scratch database is created beside the one named, and dropped at the end.
The data is written with bulk INSERTs (not through the API), spread over the two years before today
with a fixed random seed, so both backends get the same rows. Then GET /v1/stats is timed through the
app (in process, with its middleware, authentication and transaction) for each filter combination:
one warm-up request, then `--runs` timed ones; the median and the 95th percentile are printed, with a
digest of the answer (the same digest on both backends means the same figures).
"""

import argparse
import asyncio
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa
from sqlmodel import SQLModel

from service.action_items.models import ActionItem
from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import Scope
from service.db import make_session_factories
from service.migrate import upgrade
from service.postmortems.models import Postmortem
from service.settings import Settings

DAYS = 730
SERVICES = [f"service-{number:02d}" for number in range(40)]
FAILURE_MODES = [f"failure-mode-{number:02d}" for number in range(30)]
TEXT = (
    "Checkout requests failed after a configuration change reached production without validation; "
    "the payment client's timeout was set to zero and every call to the provider failed at once. "
)
BATCH = 5_000


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _defaults(model: type[SQLModel], table: sa.Table) -> dict[str, Any]:
    """The model's defaults for the columns a row does not give, so that new columns need no change here."""
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if name in table.c and not field.is_required()
    }


def postmortem_rows(count: int, today: datetime, rng: random.Random) -> Iterator[dict[str, Any]]:
    defaults = _defaults(Postmortem, Postmortem.__table__)  # type: ignore[arg-type]
    ages = sorted((rng.uniform(0, DAYS * 86400) for _ in range(count)), reverse=True)  # written in time order
    for number, age in enumerate(ages):
        started = _seconds(today - timedelta(seconds=age))
        detected = started + timedelta(seconds=int(rng.expovariate(1 / 600)))
        resolved = detected + timedelta(seconds=int(rng.expovariate(1 / 5400)))
        age_days = (today - resolved).days
        roll = rng.random()
        if age_days > 30:
            status = "complete" if roll < 0.9 else ("in_review" if roll < 0.95 else "draft")
        else:
            status = "complete" if roll < 0.4 else ("in_review" if roll < 0.7 else "draft")
        completed = resolved + timedelta(seconds=int(rng.expovariate(1 / (5 * 86400))))
        if status == "complete" and completed > today:
            status = "in_review"
        known_start = rng.random() > 0.05
        yield defaults | {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "title": f"Incident {number}: checkout errors after a config push",
            "severity": rng.choices(["P1", "P2", "P3"], weights=[1, 3, 6])[0],
            "template": "standard",
            "status": status,
            "incident_ref": f"INC-{number}",
            "authors": ["alice", "bob"],
            "services": rng.sample(SERVICES, rng.randint(1, 3)),
            "tags": ["bench"],
            "started_at": started if known_start else None,
            "detected_at": detected if known_start else None,
            "mitigated_at": resolved - timedelta(minutes=1),
            "resolved_at": resolved,
            "summary": TEXT * 2,
            "impact": {"users_affected": rng.randint(0, 10_000), "description": TEXT},
            "root_cause": TEXT,
            "five_whys": [{"question": "Why did checkout fail?", "answer": "The payment client timed out."}],
            "contributing_factors": ["No canary stage for config pushes"],
            "what_went_well": ["The rollback took two minutes"],
            "what_went_poorly": ["The alert fired late"],
            "lessons_learned": TEXT,
            "failure_mode": rng.choices(FAILURE_MODES, weights=[1 / (rank + 1) for rank in range(30)])[0]
            if rng.random() < 0.8
            else None,
            "submitted_at": resolved + timedelta(days=1) if status != "draft" else None,
            "completed_at": completed if status == "complete" else None,
            "created_at": resolved + timedelta(hours=1),
            "updated_at": resolved + timedelta(hours=2),
            "version": 1,
        }


def action_item_rows(postmortem: dict[str, Any], today: datetime, rng: random.Random) -> Iterator[dict[str, Any]]:
    defaults = _defaults(ActionItem, ActionItem.__table__)  # type: ignore[arg-type]
    created = postmortem["created_at"]
    for number in range(rng.randint(5, 15)):
        due = created.date() + timedelta(days=rng.randint(3, 60))
        roll = rng.random()
        if due < today.date():
            status = "done" if roll < 0.75 else ("wont_do" if roll < 0.8 else rng.choice(["open", "in_progress"]))
        else:
            status = "done" if roll < 0.3 else rng.choice(["open", "in_progress"])
        completed = _seconds(datetime.combine(due, day_time(), UTC) + timedelta(days=rng.uniform(-10, 4)))
        yield defaults | {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "postmortem_id": postmortem["id"],
            "title": f"Action {number}: validate config pushes in CI",
            "owner": f"@team-{rng.randint(0, 50)}",
            "priority": rng.choice(["P0", "P1", "P2"]),
            "due_date": due,
            "status": status,
            "kind": "prevent",
            "completed_at": min(completed, today) if status == "done" else None,
            "created_at": created,
            "updated_at": created,
            "external_unmapped": 0,
            "version": 1,
        }


def seed(database_url: str, postmortems: int, today: datetime) -> tuple[int, int]:
    """Bulk INSERTs in batches, through a synchronous engine; (postmortems, action items) written."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url)
    rng = random.Random(4711)  # noqa: S311 - reproducible data, not secrets
    written = [0, 0]
    pending: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    try:
        with engine.begin() as connection:
            for row in postmortem_rows(postmortems, today, rng):
                pending.append(row)
                items.extend(action_item_rows(row, today, rng))
                if len(pending) >= BATCH:
                    _flush(connection, pending, items, written)
            _flush(connection, pending, items, written)
        if url.get_backend_name() == "postgresql":
            # As autovacuum soon would: statistics, and the visibility map that index-only scans need.
            # SQLite is left as the service leaves it.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    return written[0], written[1]


def _flush(
    connection: sa.Connection, pending: list[dict[str, Any]], items: list[dict[str, Any]], written: list[int]
) -> None:
    if pending:
        connection.execute(sa.insert(Postmortem.__table__), pending)  # type: ignore[arg-type]
    if items:
        connection.execute(sa.insert(ActionItem.__table__), items)  # type: ignore[arg-type]
    written[0] += len(pending)
    written[1] += len(items)
    pending.clear()
    items.clear()


def scenarios(today: datetime) -> dict[str, dict[str, str]]:
    def stamp(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    quarter = {"from": stamp(today - timedelta(days=90)), "to": stamp(today)}
    return {
        "default window (90 days to now)": {},
        "90 days": quarter,
        "90 days, service": quarter | {"service": SERVICES[0]},
        "90 days, severity": quarter | {"severity": "P1"},
        "90 days, service + severity": quarter | {"service": SERVICES[0], "severity": "P1"},
        "365 days": {"from": stamp(today - timedelta(days=365)), "to": stamp(today)},
        "365 days, service + severity": {
            "from": stamp(today - timedelta(days=365)),
            "to": stamp(today),
            "service": SERVICES[0],
            "severity": "P1",
        },
        "all 730 days": {"from": stamp(today - timedelta(days=DAYS + 1)), "to": stamp(today)},
    }


async def measure(database_url: str, today: datetime, runs: int) -> list[tuple[str, float, float, str, int]]:
    app = create_app(Settings(database_url=database_url))
    _, write_sessions = make_session_factories(app.state.engine)
    async with write_sessions() as session:
        _, key = await auth_service.create(session, name="bench", scope=Scope.READ)
        await session.commit()
    results = []
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        for name, params in scenarios(today).items():
            timings = []
            body: dict[str, Any] = {}
            for run in range(runs + 1):
                started = time.perf_counter()
                response = await client.get("/v1/stats", params=params, timeout=600)
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                body = response.json()
                if run:
                    timings.append(elapsed * 1000)
            median = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20, method="inclusive")[18] if len(timings) > 1 else timings[0]
            if not params:
                body.pop("window")  # the default window ends at the moment of the request
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
            results.append((name, median, p95, digest, body["postmortems"]["total"]))
    await app.state.engine.dispose()
    return results


@contextmanager
def scratch_database(database_url: str | None, directory: str) -> Iterator[str]:
    if database_url is None:
        yield f"sqlite:///{directory}/stats-bench.db"
        return
    url = sa.make_url(database_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"pm_bench_stats_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server to create the scratch database on; default SQLite")
    parser.add_argument("--postmortems", type=int, default=100_000, help="about 10 action items come with each")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per scenario")
    args = parser.parse_args()

    today = datetime.combine(datetime.now(UTC).date(), day_time(), UTC)  # the data ends at today's UTC midnight
    with tempfile.TemporaryDirectory() as directory, scratch_database(args.database_url, directory) as url:
        upgrade(url)
        started = time.perf_counter()
        postmortems, items = seed(url, args.postmortems, today)
        seeded = time.perf_counter() - started
        results = asyncio.run(measure(url, today, args.runs))
    print(f"backend: {sa.make_url(url).get_backend_name()}  postmortems: {postmortems}  action items: {items}")
    print(f"seeded in {seeded:.0f} s; {args.runs} timed requests per scenario after one warm-up")
    print(f"{'scenario':<34} {'median':>9} {'p95':>9}  {'in window':>9}  digest")
    for name, median, p95, digest, total in results:
        print(f"{name:<34} {median:>6.0f} ms {p95:>6.0f} ms  {total:>9}  {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
