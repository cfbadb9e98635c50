"""Load benchmark: start the service, seed it, and measure throughput and latency per operation.

    .venv/bin/python -m bench.run                       # SQLite, 10 s per scenario
    .venv/bin/python -m bench.run --database-url postgresql://postgres@127.0.0.1/pm_bench --seconds 5

The server runs in its own process (`postmortems serve`). Load comes from `wrk` (Debian/Ubuntu:
`apt-get install wrk`) with one thread and a fixed number of connections over loopback, so the
client costs little CPU next to the server. Every run is bounded by its duration.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

LUA_TEMPLATE = """
local ids = {ids}
local counter = 0
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  {body}
end
"""

SCENARIOS = {
    "GET /v1/postmortems/{id}": 'return wrk.format("GET", "/v1/postmortems/" .. id)',
    "GET /v1/postmortems?limit=50": 'return wrk.format("GET", "/v1/postmortems?limit=50&service=checkout")',
    "GET /v1/action-items?owner=": 'return wrk.format("GET", "/v1/action-items?owner=%40sre&limit=50")',
    "GET /v1/postmortems/{id}/timeline": 'return wrk.format("GET", "/v1/postmortems/" .. id .. "/timeline")',
    "POST /v1/postmortems": (
        'return wrk.format("POST", "/v1/postmortems", nil, \'{"title": "Load \' .. counter .. \'", "severity": "P3"}\')'
    ),
    "PATCH /v1/postmortems/{id}": (
        'return wrk.format("PATCH", "/v1/postmortems/" .. id, nil, \'{"summary": "revision \' .. counter .. \'"}\')'
    ),
}


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50: str
    p99: str
    errors: int

    def line(self) -> str:
        return (
            f"{self.name:<36} {self.requests_per_second:>8.0f} req/s   p50 {self.p50:>8}   p99 {self.p99:>8}"
            f"   non-2xx {self.errors}"
        )


def _environment(database_url: str) -> dict[str, str]:
    return os.environ | {"POSTMORTEMS_DATABASE_URL": database_url, "POSTMORTEMS_LOG_LEVEL": "WARNING"}


def _postmortems(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "postmortems"), *args]


def _wait_until_ready(base_url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base_url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def _seed(client: httpx.Client, count: int) -> list[str]:
    ids = []
    for number in range(count):
        body = {"title": f"Incident {number}", "severity": "P2", "services": ["checkout"], "tags": ["bench"]}
        response = client.post("/v1/postmortems", json=body)
        response.raise_for_status()
        postmortem_id = response.json()["id"]
        ids.append(postmortem_id)
        item = {"title": "Add a canary stage", "owner": "@sre", "priority": "P1", "due_date": "2030-01-01"}
        client.post(f"/v1/postmortems/{postmortem_id}/action-items", json=item).raise_for_status()
        for minute in range(3):
            event = {"occurred_at": f"2025-01-15T09:0{minute}:00Z", "kind": "action", "description": "step"}
            client.post(f"/v1/postmortems/{postmortem_id}/timeline", json=event).raise_for_status()
    return ids


def _wrk(base_url: str, script: Path, *, seconds: float, connections: int) -> str:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), base_url]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout  # noqa: S603


def _parse(name: str, output: str) -> Result:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(name, rate, p50, p99, int(errors.group(1)) if errors else 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=300, help="postmortems created before measuring")
    parser.add_argument("--port", type=int, default=8911)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite:///{directory}/bench.db"
        environment = _environment(database_url)
        subprocess.run(_postmortems("migrate"), env=environment, check=True)  # noqa: S603
        created = subprocess.run(  # noqa: S603
            _postmortems("apikey", "create", "--name", "bench", "--scope", "write"),
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        key = created.stdout.strip().splitlines()[-1]
        base_url = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen(_postmortems("serve", "--port", str(args.port)), env=environment)  # noqa: S603
        try:
            _wait_until_ready(base_url)
            with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}) as client:
                ids = _seed(client, args.seed)
            results = []
            for name, body in SCENARIOS.items():
                script = Path(directory) / "scenario.lua"
                script.write_text(
                    LUA_TEMPLATE.format(ids="{" + ",".join(json.dumps(i) for i in ids) + "}", key=key, body=body)
                )
                results.append(_parse(name, _wrk(base_url, script, seconds=args.seconds, connections=args.connections)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    backend = database_url.split("://")[0]
    print(f"backend: {backend}  connections: {args.connections}  seconds per scenario: {args.seconds:g}")
    for result in results:
        print(result.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
