"""`postmortems worker`'s own `/metrics` and `/healthz`, as Prometheus and the kubelet reach them."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from bench.processes import free_port
from tests.servers import POSTMORTEMS, STARTUP_POLLS, STOP_TIMEOUT_SECONDS


def test_the_worker_serves_its_metrics_and_liveness_and_stops_cleanly(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    environment = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url, "POSTMORTEMS_WORKER_METRICS_PORT": str(port)}
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own console script
            [POSTMORTEMS, "worker"], env=environment, stdout=log, stderr=log
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            healthz = _first_answer(http, "/healthz", worker, log_path)
            time.sleep(1.5)  # a heartbeat has measured the loop
            scraped = http.get("/metrics")
    finally:
        worker.send_signal(signal.SIGTERM)
        exit_status = worker.wait(timeout=STOP_TIMEOUT_SECONDS)

    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    assert scraped.status_code == 200
    lag = next(line for line in scraped.text.splitlines() if line.startswith("postmortems_worker_loop_lag_seconds "))
    assert 0 <= float(lag.split()[1]) < 1
    assert "# TYPE postmortems_outbox_deliveries_total counter" in scraped.text
    assert exit_status == 0, log_path.read_text()


def _first_answer(http: httpx.Client, path: str, worker: subprocess.Popen[bytes], log_path: Path) -> httpx.Response:
    for _ in range(STARTUP_POLLS):
        try:
            return http.get(path)
        except httpx.TransportError:
            if worker.poll() is not None:
                raise AssertionError(f"the worker exited with {worker.returncode}:\n{log_path.read_text()}") from None
            time.sleep(0.1)
    raise AssertionError(f"the worker never answered {path}:\n{log_path.read_text()}")
