"""The results: medians over rounds, ratios and targets, as a table to read and a JSON file to keep."""

import statistics
from typing import Any

from bench.outbox import OutboxResult
from bench.targets import TARGETS
from bench.wrk import Measurement

Round = tuple[Measurement | None, Measurement | None]  # (service, baseline)
SERVER_PROCESSES = ("service", "baseline")


def operation(name: str, connections: int, rounds: list[Round]) -> dict[str, Any]:
    """One operation over its rounds: each figure's median; answers that failed, summed over rounds."""
    service = _medians([service for service, _ in rounds if service is not None])
    baseline = _medians([baseline for _, baseline in rounds if baseline is not None])
    ratios = [s.requests_per_second / b.requests_per_second for s, b in rounds if s and b and b.requests_per_second]
    ratio = statistics.median(ratios) if ratios else None
    target = TARGETS.get(name)
    judged = ratio if target and target.measure == "ratio" else (service["p50_ms"] if service else None)
    return {
        "name": name,
        "connections": connections,
        "service": service,
        "baseline": baseline,
        "ratio": ratio,
        "target": str(target) if target else None,
        "met": target.met(judged) if target and judged is not None else None,
        "rounds": [{"service": s and s.to_json(), "baseline": b and b.to_json()} for s, b in rounds],
    }


def _medians(measurements: list[Measurement]) -> dict[str, Any] | None:
    if not measurements:
        return None
    figures = [measurement.to_json() for measurement in measurements]
    summed = ("non_2xx", "socket_errors")
    return {
        name: sum(f[name] for f in figures) if name in summed else statistics.median(f[name] for f in figures)
        for name in figures[0]
    }


def outbox(result: OutboxResult) -> dict[str, Any]:
    target = TARGETS["outbox"]
    return result.to_json() | {"target": str(target), "met": target.met(result.deliveries_per_second)}


def peak_rss(processes: dict[str, list[float]]) -> dict[str, Any]:
    """Peak RSS in MB per process, by role; the target holds for each process of each server."""
    target = TARGETS["peak RSS"]
    met = {role: all(target.met(mb) for mb in processes[role]) for role in SERVER_PROCESSES if role in processes}
    return {"processes": processes, "target": str(target), "met": met}


def errors(result: dict[str, Any]) -> list[str]:
    """Every answer that should have been a success and was not, and every push not delivered exactly once."""
    found = []
    for entry in result["operations"]:
        for side in ("service", "baseline"):
            figures = entry[side]
            if figures and (figures["non_2xx"] or figures["socket_errors"]):
                found.append(
                    f"{entry['name']} ({side}): {figures['non_2xx']} non-2xx answers, "
                    f"{figures['socket_errors']} socket errors"
                )
    box = result.get("outbox")
    if box and box["errors"]:
        found.append(
            f"outbox: {box['duplicates']} duplicate issues, {box['missing']} missing, {box['dead']} dead, "
            f"{box['undelivered']} undelivered, {box['workers_exited']} workers exited early"
        )
    return found


def print_table(result: dict[str, Any]) -> None:
    header = ["operation", "service req/s", "p50 ms", "p99 ms", "baseline req/s", "ratio", "target", "met?"]
    rows = [header]
    for entry in result["operations"]:
        shown = entry["service"] or entry["baseline"]  # the baseline's own latency when it is all there is
        rows.append(
            [
                entry["name"],
                _number(entry["service"] and entry["service"]["requests_per_second"]),
                _number(shown["p50_ms"], 1),
                _number(shown["p99_ms"], 1),
                _number(entry["baseline"] and entry["baseline"]["requests_per_second"]),
                _number(entry["ratio"], 2),
                entry["target"] or "",
                _met(entry["met"]),
            ]
        )
    if box := result.get("outbox"):
        rows.append(
            [
                f"outbox ({box['items']} items, {box['worker_processes']} workers)",
                f"{box['deliveries_per_second']:.1f}/s",
                *[""] * 4,
                box["target"],
                _met(box["met"]),
            ]
        )
    rss = result["peak_rss"]
    for role, sizes in rss["processes"].items():
        met = rss["met"].get(role)
        shown = ", ".join(f"{size:.0f}" for size in sizes)
        rows.append([f"peak RSS {role} (MB)", shown, *[""] * 4, "" if met is None else rss["target"], _met(met)])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        first, *rest = zip(row, widths, strict=True)
        print("  ".join([first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)]))


def _number(value: float | None, decimals: int = 0) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


def _met(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "NO")
