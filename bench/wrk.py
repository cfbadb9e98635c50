"""Load from `wrk` (Debian/Ubuntu: `apt-get install wrk`): one thread, a fixed number of connections,
over loopback, so the client costs little CPU next to the server; and what it reports, parsed."""

import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TIMEOUT = "30s"  # above the slowest answer measured, so that wrk records latencies instead of timeouts
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Measurement:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # wrk counts answers with a status of 400 or more
    socket_errors: int  # connect, read, write errors and timeouts

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run(base_url: str, script: Path, *, seconds: float, connections: int) -> Measurement:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={TIMEOUT}", "--latency"]
    completed = subprocess.run(  # noqa: S603 - wrk with arguments of our own
        [*command, "-s", str(script), base_url], capture_output=True, text=True, check=True, timeout=seconds + 120
    )
    return parse(completed.stdout)


def parse(output: str) -> Measurement:
    def number(pattern: str) -> str:
        match = re.search(pattern, output)
        if match is None:
            raise ValueError(f"wrk's output has no {pattern!r}:\n{output}")
        return match.group(1)

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Measurement(
        requests=int(number(r"(\d+) requests in")),
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_milliseconds(number(r"\s50%\s+(\S+)")),
        p99_ms=_milliseconds(number(r"\s99%\s+(\S+)")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(count) for count in socket_errors.groups()) if socket_errors else 0,
    )


def _milliseconds(duration: str) -> float:
    """wrk's durations: `812.00us`, `3.45ms`, `1.20s`, `2.00m`."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", duration)
    if match is None:
        raise ValueError(f"not a wrk duration: {duration!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]
