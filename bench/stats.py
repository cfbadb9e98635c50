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
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench.database import scratch_database
from bench.seed import DAYS, SERVICES, midnight_today, seed
from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import Scope
from service.migrate import upgrade
from service.settings import Settings


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
    async with app.state.database.unit(write=True) as unit:
        _, key = await auth_service.create(await unit.session(), name="bench", scope=Scope.READ)
        await unit.commit()
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server to create the scratch database on; default SQLite")
    parser.add_argument("--postmortems", type=int, default=100_000, help="about 10 action items come with each")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per scenario")
    args = parser.parse_args()

    today = midnight_today()
    with (
        tempfile.TemporaryDirectory() as directory,
        scratch_database(args.database_url, directory, "bench_stats") as url,
    ):
        upgrade(url)
        started = time.perf_counter()
        seeded = seed(url, args.postmortems, today)
        took = time.perf_counter() - started
        results = asyncio.run(measure(url, today, args.runs))
    backend = sa.make_url(url).get_backend_name()
    print(f"backend: {backend}  postmortems: {seeded.postmortems}  action items: {seeded.action_items}")
    print(f"seeded in {took:.0f} s; {args.runs} timed requests per scenario after one warm-up")
    print(f"{'scenario':<34} {'median':>9} {'p95':>9}  {'in window':>9}  digest")
    for name, median, p95, digest, total in results:
        print(f"{name:<34} {median:>6.0f} ms {p95:>6.0f} ms  {total:>9}  {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
