"""`python -m bench.run` end to end on tiny data: every operation measured, nothing failed, no issue twice.

It runs on SQLite, or with POSTMORTEMS_TEST_DATABASE_URL in a scratch database beside that one.
Speed is never asserted: the figures of a run this short mean nothing.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.operations import OPERATIONS
from bench.processes import free_port_block
from tests.backends import postgres_server_url

REPOSITORY = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 300
OUTBOX_ITEMS = 20


@pytest.mark.skipif(shutil.which("wrk") is None, reason="the benchmark needs wrk")
def test_bench_run_measures_every_operation_without_a_failure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench.run", "--postmortems", "30", "--seconds", "1", "--connections", "2"]
    command += ["--outbox-items", str(OUTBOX_ITEMS), "--worker-processes", "1"]
    command += ["--port", str(free_port_block(3)), "--output", str(output)]
    if (server_url := postgres_server_url()) is not None:
        command += ["--database-url", server_url]

    run = subprocess.run(  # noqa: S603 - the benchmark, as a user runs it
        command, cwd=REPOSITORY, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "seeding: 30 of 30 postmortems written\n" in run.stdout  # seeding minutes long is not silent
    result = json.loads(output.read_text())
    assert result["metadata"]["backend"] == ("postgresql" if server_url else "sqlite")
    measured = {entry["name"]: entry for entry in result["operations"]}
    assert list(measured) == [operation.name for operation in OPERATIONS]
    for name, entry in measured.items():
        sides = [entry[side] for side in ("service", "baseline") if entry[side] is not None]
        assert sides, name
        for figures in sides:
            assert figures["requests_per_second"] > 0, name
            assert (figures["non_2xx"], figures["socket_errors"]) == (0, 0), name
    outbox = result["outbox"]
    assert outbox["items"] == OUTBOX_ITEMS
    assert outbox["deliveries_per_second"] > 0
    failures = ("duplicates", "missing", "dead", "undelivered", "workers_exited")
    assert {key: outbox[key] for key in failures} == dict.fromkeys(failures, 0)
    assert result["errors"] == []
