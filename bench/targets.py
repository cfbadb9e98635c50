"""What each measurement should reach, in one table.

Throughput is judged against the baseline measured beside it (`ratio`: service req/s over
baseline req/s), so the targets hold on any machine; latency, outbox rate and memory are absolute.
"""

import operator
from dataclasses import dataclass

UNITS = {"ratio": "x baseline", "p50_ms": "ms p50", "deliveries_per_second": "deliveries/s", "peak_rss_mb": "MB"}


@dataclass(frozen=True)
class Target:
    measure: str  # a key of UNITS
    comparison: str  # ">=" or "<"
    bound: float

    def met(self, value: float) -> bool:
        compare = operator.ge if self.comparison == ">=" else operator.lt
        return bool(compare(value, self.bound))

    def __str__(self) -> str:
        return f"{self.comparison} {self.bound:g} {UNITS[self.measure]}"


TARGETS = {
    "get postmortem": Target("ratio", ">=", 0.6),
    "list postmortems": Target("ratio", ">=", 0.25),
    "action items by owner": Target("ratio", ">=", 0.25),
    "search": Target("ratio", ">=", 0.25),
    "create postmortem": Target("ratio", ">=", 0.5),
    "create action item": Target("ratio", ">=", 0.5),
    "patch postmortem": Target("ratio", ">=", 0.4),
    "webhook ingest": Target("ratio", ">=", 0.5),
    "stats 90 days": Target("p50_ms", "<", 200),
    "outbox": Target("deliveries_per_second", ">=", 300),
    "peak RSS": Target("peak_rss_mb", "<", 150),  # per server process
}
