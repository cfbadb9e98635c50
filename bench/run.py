"""Load benchmark: start the service, seed it, and measure throughput and latency per operation.

    .venv/bin/python -m bench.run                       # SQLite, 10 s per scenario
    .venv/bin/python -m bench.run --database-url postgresql://postgres@127.0.0.1/pm_bench --seconds 5

The server runs in its own process (`postmortems serve`); the load comes from this process over
loopback with a fixed number of concurrent connections. Every loop is bounded by time and count.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

Operation = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]

MAX_REQUESTS_PER_SCENARIO = 200_000


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def line(self) -> str:
        quantiles = statistics.quantiles(self.latencies_ms, n=100) if len(self.latencies_ms) > 1 else [0.0] * 99
        return (
            f"{self.name:<28} {self.requests / self.seconds:>8.0f} req/s   p50 {quantiles[49]:>6.1f} ms"
            f"   p99 {quantiles[98]:>6.1f} ms   errors {self.errors}"
        )


def _cli(database_url: str, *args: str) -> str:
    environment = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url, "POSTMORTEMS_LOG_LEVEL": "WARNING"}
    executable = Path(sys.executable).parent / "postmortems"
    completed = subprocess.run([str(executable), *args], env=environment, capture_output=True, text=True, check=True)  # noqa: S603
    return completed.stdout


def _start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    environment = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url, "POSTMORTEMS_LOG_LEVEL": "WARNING"}
    executable = Path(sys.executable).parent / "postmortems"
    return subprocess.Popen([str(executable), "serve", "--port", str(port)], env=environment)  # noqa: S603


async def _wait_until_ready(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


async def _measure(
    client: httpx.AsyncClient, name: str, operation: Operation, *, concurrency: int, seconds: float
) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(MAX_REQUESTS_PER_SCENARIO))

    async def worker() -> None:
        nonlocal errors
        for sequence in counter:
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            response = await operation(client, sequence)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += response.status_code >= 400

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), errors, time.perf_counter() - started, latencies)


async def _run(base_url: str, key: str, *, seconds: float, concurrency: int, seed: int) -> list[Result]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        await _wait_until_ready(client)
        ids = []
        for number in range(seed):
            body = {"title": f"Incident {number}", "severity": "P2", "services": ["checkout"], "tags": ["bench"]}
            response = await client.post("/v1/postmortems", json=body)
            response.raise_for_status()
            ids.append(response.json()["id"])
            await client.post(
                f"/v1/postmortems/{ids[-1]}/action-items",
                json={"title": "Add a canary stage", "owner": "@sre", "priority": "P1", "due_date": "2030-01-01"},
            )

        async def get_one(c: httpx.AsyncClient, n: int) -> httpx.Response:
            return await c.get(f"/v1/postmortems/{ids[n % len(ids)]}")

        async def list_page(c: httpx.AsyncClient, n: int) -> httpx.Response:
            return await c.get("/v1/postmortems", params={"limit": 50, "service": "checkout"})

        async def create(c: httpx.AsyncClient, n: int) -> httpx.Response:
            return await c.post("/v1/postmortems", json={"title": f"Load {n}", "severity": "P3"})

        async def patch(c: httpx.AsyncClient, n: int) -> httpx.Response:
            return await c.patch(f"/v1/postmortems/{ids[n % len(ids)]}", json={"summary": f"revision {n}"})

        async def list_items(c: httpx.AsyncClient, n: int) -> httpx.Response:
            return await c.get("/v1/action-items", params={"owner": "@sre", "limit": 50})

        scenarios: list[tuple[str, Operation]] = [
            ("GET /v1/postmortems/{id}", get_one),
            ("GET /v1/postmortems?limit=50", list_page),
            ("GET /v1/action-items?owner", list_items),
            ("POST /v1/postmortems", create),
            ("PATCH /v1/postmortems/{id}", patch),
        ]
        return [
            await _measure(client, name, operation, concurrency=concurrency, seconds=seconds)
            for name, operation in scenarios
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=500, help="postmortems created before measuring")
    parser.add_argument("--port", type=int, default=8911)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite:///{directory}/bench.db"
        _cli(database_url, "migrate")
        key = _cli(database_url, "apikey", "create", "--name", "bench", "--scope", "write").strip().splitlines()[-1]
        server = _start_server(database_url, args.port)
        try:
            results = asyncio.run(
                _run(
                    f"http://127.0.0.1:{args.port}",
                    key,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    seed=args.seed,
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"database: {database_url.split('@')[-1]}  concurrency: {args.concurrency}  seconds: {args.seconds}")
    for result in results:
        print(result.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
