"""The benchmark's other processes: started, waited for, measured (peak RSS) and stopped."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from service.integrations.secrets import generate_key

READY_TIMEOUT_SECONDS = 120
SECRET_KEY = generate_key()  # one per run: the databases are scratch ones
STOP_TIMEOUT_SECONDS = 30


def postmortems(*args: str) -> list[str]:
    """The service's console script, from the virtualenv running the benchmark."""
    return [str(Path(sys.executable).parent / "postmortems"), *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports, for `bench.run --port`, which uses the ports after it too.

    Chosen below Linux's ephemeral range (32768 and up), where the kernel never hands a port to a client
    socket or a `free_port()`, so the ports after the first are not taken by chance before the servers bind.
    """
    for base in random.sample(range(20000, 32768 - count, count), k=200):
        if all(_bindable(port) for port in range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports between 20000 and 32767")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    peak_rss_mb: list[float] = field(default_factory=list)  # per process of its tree, read just before it stops

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running(
    name: str, command: Sequence[str], environment: dict[str, str], log_directory: Path, ready_url: str | None = None
) -> Iterator[Process]:
    """Run `command` for the block, its output in `<name>.log`; wait until `ready_url` answers 200 first."""
    log = log_directory / f"{name}.log"
    with log.open("wb") as output:
        popen = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    process = Process(name, popen, log)
    try:
        if ready_url is not None:
            _wait_until_ready(process, ready_url)
        yield process
    finally:
        process.peak_rss_mb = [_peak_rss_mb(pid) for pid in [popen.pid, *_descendants(popen.pid)]]
        _stop(popen)


def _wait_until_ready(process: Process, url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n{process.log_tail()}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not answer {url} within {READY_TIMEOUT_SECONDS} s:\n{process.log_tail()}")


def _stop(popen: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a deployment stops it (uvicorn and the worker finish what they do); SIGKILL if it hangs."""
    if popen.poll() is None:
        popen.send_signal(signal.SIGTERM)
    try:
        popen.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren... of `pid` (uvicorn's worker processes), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), in MB; 0 when it is already gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kilobytes = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return kilobytes / 1024


def environment(database_url: str, pool_size: int) -> dict[str, str]:
    """What every process of the benchmark gets: the same database and secret key (secrets are encrypted, as in
    production), quiet logs, and no worker inside `serve`."""
    return os.environ | {
        "POSTMORTEMS_DATABASE_URL": database_url,
        "POSTMORTEMS_SECRET_KEYS": SECRET_KEY,
        "POSTMORTEMS_LOG_LEVEL": "WARNING",
        "POSTMORTEMS_RUN_WORKER": "false",
        "POSTMORTEMS_DB_POOL_SIZE": str(pool_size),
    }
