"""Search latency: seed postmortems with realistic text, then time `GET /v1/postmortems?q=...`.

    .venv/bin/python -m bench.search                                  # SQLite, 10,000 postmortems
    .venv/bin/python -m bench.search --database-url postgresql://postgres@127.0.0.1/pm_search_bench

A database without postmortems is seeded first (a new SQLite file when no URL is given); one
that has them is measured as it is, so a seeded database can be measured again. Postmortems and
their timelines are written through the service layer, so the search index is maintained as in
production; the searches then go through the whole app in-process (ASGI, no network), one at a
time, and the latency of each kind of search is reported with how many postmortems it finds.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select

from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import Scope
from service.core.database import Database
from service.db import make_engine
from service.migrate import upgrade
from service.postmortems import service as postmortems_service
from service.postmortems.models import Postmortem, PostmortemCreate
from service.settings import Settings
from service.timeline import service as timeline_service
from service.timeline.models import TimelineEventCreate

SERVICES = ["checkout", "payments", "search", "auth", "inventory", "shipping", "email", "ledger", "cdn", "gateway"]
SYMPTOMS = ["timeouts", "errors", "latency", "outage", "degradation", "data loss", "failed logins", "stale reads"]
CAUSES = [
    "config push",
    "certificate expiry",
    "connection pool exhaustion",
    "kafka consumer lag",
    "dns resolution failure",
    "disk full",
    "memory leak",
    "schema migration",
    "rate limit",
    "cache stampede",
    "bad deploy",
    "expired credentials",
]
_FILLER = (
    "the a service request requests error errors rate alert alerts fired paged on-call engineer team rolled back "
    "deploy deployed release version traffic users customers region cluster node nodes pod pods database replica "
    "primary failover queue worker workers job jobs retry retries timeout latency p99 dashboard metric metrics log "
    "logs investigation mitigation restored recovered increased decreased spike dropped saturated upstream "
    "downstream dependency client server load balancer health check threshold config flag feature canary "
    "monitoring runbook escalation incident impact minutes hours after before during while because since"
)
FILLER = _FILLER.split()

NEEDLE_EVERY = 1_000  # one postmortem in this many mentions the airship in its timeline

SEARCHES = {
    "list, no q": {},
    "rare word": {"q": "zeppelin"},
    "uncommon word": {"q": "stampede"},
    "common word": {"q": "errors"},
    "two words": {"q": "kafka lag"},
    "phrase": {"q": '"connection pool"'},
    "or": {"q": "certificate or credentials"},
    "exclusion": {"q": "timeouts -checkout"},
    "with filters": {"q": "errors", "severity": "P1", "service": "checkout"},
    "limit 200": {"q": "errors", "limit": 200},
    "no match": {"q": "unicorn"},
}


def _prose(rng: random.Random, words: int, *topics: str) -> str:
    chosen = rng.choices(FILLER, k=words)
    for topic in topics:
        chosen.insert(rng.randrange(len(chosen) + 1), topic)
    return " ".join(chosen).capitalize() + "."


async def _seed(database_url: str, count: int, events: int) -> bool:
    """Write `count` postmortems unless the database has some already; whether it wrote them."""
    rng = random.Random(4711)  # noqa: S311 - reproducible text, not security
    database = Database(make_engine(database_url))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    try:
        async with database.unit(write=False) as unit:
            if (await (await unit.session()).exec(select(func.count()).select_from(Postmortem))).one():
                return False
        for batch in range(0, count, 200):
            async with database.unit(write=True) as unit:
                session = await unit.session()
                for _ in range(min(200, count - batch)):
                    service, symptom, cause = rng.choice(SERVICES), rng.choice(SYMPTOMS), rng.choice(CAUSES)
                    created = await postmortems_service.create(
                        unit,
                        PostmortemCreate(
                            title=f"{service.capitalize()} {symptom} after {cause}",
                            severity=rng.choice(["P1", "P2", "P3"]),
                            services=[service],
                            summary=_prose(rng, 40, service, symptom),
                            root_cause=_prose(rng, 30, cause),
                            contributing_factors=[_prose(rng, 12) for _ in range(3)],
                            lessons_learned=_prose(rng, 25),
                        ),
                        actor=None,
                    )
                    postmortem = await postmortems_service.get(session, created.id)
                    for minute in range(events):
                        needle = ["zeppelin"] if minute == 0 and rng.randrange(NEEDLE_EVERY) == 0 else []
                        occurred_at = start + timedelta(minutes=minute)
                        description = _prose(rng, 15, *needle)
                        await timeline_service.add(
                            session, postmortem, TimelineEventCreate(occurred_at=occurred_at, description=description)
                        )
                await unit.commit()
    finally:
        await database.dispose()
    return True


async def _measure(database_url: str, repeat: int) -> list[tuple[str, int, list[float]]]:
    app = create_app(Settings(database_url=database_url))
    results = []
    try:
        async with app.state.database.unit(write=True) as unit:
            _, key = await auth_service.create(await unit.session(), name="bench-search", scope=Scope.READ)
            await unit.commit()
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
            first = (await client.get("/v1/postmortems", params={"q": "errors", "limit": 50})).json()
            searches: dict[str, dict[str, Any]] = SEARCHES | {
                "page 2 (cursor)": {"q": "errors", "limit": 50, "cursor": first["next_cursor"]}
            }
            for name, params in searches.items():
                found = await _count(client, params)
                timings = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    response = await client.get("/v1/postmortems", params=params)
                    timings.append((time.perf_counter() - began) * 1000)
                    response.raise_for_status()
                results.append((name, found, timings))
    finally:
        await app.state.engine.dispose()
    return results


async def _count(client: httpx.AsyncClient, params: dict[str, Any]) -> int:
    """How many postmortems the search finds from this page on, following every cursor."""
    params, total = params | {"limit": 200}, 0
    while True:
        page = (await client.get("/v1/postmortems", params=params)).raise_for_status().json()
        total += len(page["items"])
        if page["next_cursor"] is None:
            return total
        params = params | {"cursor": page["next_cursor"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database; default: a new SQLite file")
    parser.add_argument("--postmortems", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5, help="timeline events per postmortem")
    parser.add_argument("--repeat", type=int, default=30, help="requests per search")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite:///{directory}/search-bench.db"
        upgrade(database_url)
        began = time.perf_counter()
        seeded = asyncio.run(_seed(database_url, args.postmortems, args.events))
        took = time.perf_counter() - began
        results = asyncio.run(_measure(database_url, args.repeat))

    print(f"backend: {database_url.split('://')[0]}  postmortems: {args.postmortems}  events each: {args.events}")
    if seeded:
        writes = args.postmortems * (1 + args.events)
        print(f"seeded in {took:.0f} s ({took / writes * 1000:.2f} ms per write, index included)")
    print(f"{'search':<18} {'matches':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, count, timings in results:
        p95 = statistics.quantiles(timings, n=20, method="inclusive")[-1]
        print(f"{name:<18} {count:>7} {statistics.median(timings):>8.1f} {p95:>8.1f} {max(timings):>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
