"""Load benchmark of the service against a bare FastAPI baseline measured in the same run.

    .venv/bin/python -m bench.run                                   # SQLite, 100k postmortems, 10 s per run
    .venv/bin/python -m bench.run --postmortems 2000 --seconds 3    # a quick look
    .venv/bin/python -m bench.run --database-url postgresql://postgres@127.0.0.1/postgres --seconds 5
    .venv/bin/python -m bench.run --only "get postmortem,outbox" --rounds 3

What it does:

1. A scratch database: a SQLite file in a temporary directory, or with `--database-url` a new
   PostgreSQL database beside the one named (dropped at the end). `postmortems migrate`, then
   `--postmortems` postmortems with 3-6 timeline events and 5-15 action items each, written with
   bulk INSERTs (bench/seed.py), their search documents, and VACUUM ANALYZE on PostgreSQL.
2. Three servers on 127.0.0.1: the service (`postmortems serve`, port `--port`), the baseline
   (`python -m bench.baseline`, bench/baseline.py, port + 1), both through `service.server.run`
   with the same `--workers` and the same environment (database, POSTMORTEMS_DB_POOL_SIZE, log
   level WARNING, no outbox worker inside `serve`); and a fake GitHub answering after 50 ms
   (bench/fake_tracker.py, port + 2). Through the API: an admin key, and a default GitHub
   integration on the fake with a webhook secret, so that every new action item is pushed.
3. `outbox`: `--outbox-items` action items created through the API, then `--worker-processes`
   `postmortems worker` processes deliver them; deliveries/s, and one issue per item exactly.
4. Each operation of bench/operations.py with `wrk -t1 -c<connections> -d<seconds>s`: its
   baseline request, then the service's, `--rounds` times; medians over rounds, and the ratio of
   the service's req/s to its baseline's. `stats 90 days` runs with one connection, for latency.
5. Peak RSS (VmHWM) of every server and worker process, read just before each is stopped.

The table printed at the end and the JSON file (`--output`) hold every figure with its target
(bench/targets.py). Every request must succeed, and every item become exactly one issue: when
not, the count is printed as an error, recorded, and the exit status is 1. Targets not met are
reported, not errors. Needs `wrk` (Debian/Ubuntu: `apt-get install wrk`).
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench import database, prepare, processes, report, webhook, wrk
from bench.operations import OPERATIONS, Operation, Requests, ScriptOf
from bench.outbox import Outbox
from bench.processes import postmortems, python_module, running
from bench.seed import Seeded, midnight_today, seed

HOST = "127.0.0.1"
READ_IDS = 10_000  # postmortems read in turn by `get postmortem`
IDS_PER_CONNECTION = 50  # drafts patched in turn per connection, so an id comes round long after its answer
OUTBOX = "outbox"
NAMES = [operation.name for operation in OPERATIONS] + [OUTBOX]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    selected = [name.strip() for name in args.only.split(",")] if args.only else NAMES
    if unknown := set(selected) - set(NAMES):
        parser.error(f"unknown operations {sorted(unknown)}; choose from {', '.join(NAMES)}")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")

    with (
        tempfile.TemporaryDirectory(prefix="pm-bench-") as directory,
        database.scratch_database(args.database_url, directory) as url,
    ):
        environment = processes.environment(url, args.pool_size)
        subprocess.run(postmortems("migrate"), env=environment, check=True)  # noqa: S603
        started = time.perf_counter()
        seeded = seed(url, args.postmortems, midnight_today(), progress=partial(print, flush=True))
        seeding_seconds = time.perf_counter() - started
        print(
            f"seeded {seeded.postmortems} postmortems, {seeded.action_items} action items and "
            f"{seeded.timeline_events} timeline events in {seeding_seconds:.0f} s",
            flush=True,
        )
        key = prepare.api_key(environment)
        engine = database.sync_engine(url)
        try:
            result = _measure(args, selected, environment, engine, key, Path(directory))
        finally:
            engine.dispose()
    result["metadata"] = _metadata(args, url, seeded, seeding_seconds)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    report.print_table(result)
    print(f"results written to {args.output}")
    for error in result["errors"]:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if result["errors"] else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server to create the scratch database on; default SQLite")
    parser.add_argument("--postmortems", type=int, default=100_000, help="seeded; ~10 action items come with each")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (stats: 1)")
    parser.add_argument("--rounds", type=int, default=1, help="baseline then service, per operation, this many times")
    parser.add_argument("--workers", type=int, default=1, help="server processes of the service and of the baseline")
    parser.add_argument("--worker-processes", type=int, default=2, help="`postmortems worker` processes (outbox)")
    parser.add_argument("--outbox-items", type=int, default=3000, help="action items pushed in the outbox scenario")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=int(os.environ.get("POSTMORTEMS_DB_POOL_SIZE", "10")),
        help="POSTMORTEMS_DB_POOL_SIZE of every process (default: the environment's, else 10)",
    )
    parser.add_argument("--only", help=f"comma-separated operations to run: {', '.join(NAMES)}")
    parser.add_argument("--output", default="bench-results.json", help="the JSON result file")
    parser.add_argument("--port", type=int, default=8911, help="service; baseline +1, fake tracker +2")
    return parser


def _measure(
    args: argparse.Namespace,
    selected: list[str],
    environment: dict[str, str],
    engine: sa.Engine,
    key: str,
    directory: Path,
) -> dict[str, Any]:
    """Start the servers, prepare the service, run the selected operations; the results."""
    service_url, baseline_url, tracker_url = (f"http://{HOST}:{args.port + offset}" for offset in range(3))
    serve = ["--host", HOST, "--workers", str(args.workers), "--port"]
    start = partial(running, environment=environment, log_directory=directory)
    result: dict[str, Any] = {}
    with ExitStack() as stack:
        stack.enter_context(
            start(
                "fake-tracker",
                python_module("bench.fake_tracker", "--host", HOST, "--port", str(args.port + 2)),
                ready_url=f"{tracker_url}/bench/issues-per-marker",
            )
        )
        service = stack.enter_context(
            start("service", postmortems("serve", *serve, str(args.port)), ready_url=f"{service_url}/readyz")
        )
        baseline = stack.enter_context(
            start(
                "baseline",
                python_module("bench.baseline", *serve, str(args.port + 1)),
                ready_url=f"{baseline_url}/constant",
            )
        )
        client = stack.enter_context(
            httpx.Client(base_url=service_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        )
        requests = _requests(args, client, engine, key, tracker_url, directory)
        if OUTBOX in selected:
            outbox = Outbox(service_url, key, engine, tracker_url, environment, directory)
            box = outbox.measure(requests.draft_ids, args.outbox_items, args.worker_processes, args.connections)
            result[OUTBOX] = report.outbox(box)
            print(f"outbox: {box.deliveries_per_second:.1f} deliveries/s", flush=True)
        chosen = [operation for operation in OPERATIONS if operation.name in selected]
        result["operations"] = _run_operations(args, chosen, requests, service_url, baseline_url, directory)
    peaks = {"service": service.peak_rss_mb, "baseline": baseline.peak_rss_mb}
    if OUTBOX in result:
        peaks["workers"] = result[OUTBOX]["peak_rss_mb"]
    result["peak_rss"] = report.peak_rss(peaks)
    result["errors"] = report.errors(result)
    return result


def _requests(
    args: argparse.Namespace, client: httpx.Client, engine: sa.Engine, key: str, tracker_url: str, directory: Path
) -> Requests:
    """The tracker connected, the drafts topped up, the webhook body signed: what the requests need."""
    secret = secrets.token_hex(20)
    webhook_path = prepare.connect_tracker(client, tracker_url, secret)
    needed = IDS_PER_CONNECTION * args.connections
    drafts = database.postmortem_ids(engine, limit=needed, status="draft")
    drafts += prepare.create_drafts(client, needed - len(drafts))
    body = webhook.issues_event(prepare.OWNER, prepare.REPO)
    body_file = directory / "webhook.json"
    body_file.write_bytes(body)
    return Requests(
        key=key,
        postmortem_ids=database.postmortem_ids(engine, limit=READ_IDS),
        draft_ids=drafts,
        etags=partial(prepare.etags, client, drafts),
        webhook_path=webhook_path,
        webhook_body=body_file,
        webhook_signature=webhook.signature(body, secret),
    )


def _run_operations(
    args: argparse.Namespace,
    operations: list[Operation],
    requests: Requests,
    service_url: str,
    baseline_url: str,
    directory: Path,
) -> list[dict[str, Any]]:
    """Each operation's baseline then service run, round after round, so both see the same conditions."""
    rounds: dict[str, list[report.Round]] = {operation.name: [] for operation in operations}

    def measure(operation: Operation, side: str, script_of: ScriptOf | None, url: str) -> wrk.Measurement | None:
        if script_of is None:
            return None
        script = script_of(requests).write(directory / f"{operation.name.replace(' ', '-')}-{side}.lua")
        return wrk.run(url, script, seconds=args.seconds, connections=operation.connections or args.connections)

    for number in range(1, args.rounds + 1):
        for operation in operations:
            baseline = measure(operation, "baseline", operation.baseline, baseline_url)
            service = measure(operation, "service", operation.service, service_url)
            rounds[operation.name].append((service, baseline))
            print(f"round {number}/{args.rounds} {operation.name}: {_brief(service, baseline)}", flush=True)
    return [
        report.operation(operation.name, operation.connections or args.connections, rounds[operation.name])
        for operation in operations
    ]


def _brief(service: wrk.Measurement | None, baseline: wrk.Measurement | None) -> str:
    parts = [
        f"{side} {figures.requests_per_second:.0f} req/s p50 {figures.p50_ms:.1f} ms"
        for side, figures in (("service", service), ("baseline", baseline))
        if figures is not None
    ]
    return ", ".join(parts)


def _metadata(args: argparse.Namespace, url: str, seeded: Seeded, seeding_seconds: float) -> dict[str, Any]:
    return {
        "backend": sa.make_url(url).get_backend_name(),
        "postmortems": seeded.postmortems,
        "action_items": seeded.action_items,
        "timeline_events": seeded.timeline_events,
        "seeding_seconds": round(seeding_seconds, 1),
        "seconds": args.seconds,
        "connections": args.connections,
        "rounds": args.rounds,
        "workers": args.workers,
        "worker_processes": args.worker_processes,
        "pool_size": args.pool_size,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def _git_commit() -> str | None:
    """The commit measured, `-dirty` when the work tree has changes; None outside a git checkout."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return described.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
