"""The Prometheus metrics of one process, in a registry of its own.

Every label takes a bounded set of values (route templates, methods, statuses, tracker kinds,
outcomes), never an id or a raw path. Gauges that describe the database (outbox depth, oldest
pending delivery, pool in use) are read when scraped (`observability.router`).
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.pool import QueuePool

from service.core.database import Database

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """One process's instruments; the API and the outbox worker each make one."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.http_requests = Counter(
            "postmortems_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_latency = Histogram(
            "postmortems_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.outbox_depth = Gauge(
            "postmortems_outbox_pending_deliveries",
            "Deliveries to the trackers waiting to be made (due or scheduled for a retry).",
            registry=registry,
        )
        self.outbox_oldest_age = Gauge(
            "postmortems_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending delivery; 0 when none is pending.",
            registry=registry,
        )
        self.deliveries = Counter(
            "postmortems_outbox_deliveries",
            "Delivery attempts to the trackers, by tracker and outcome (done, retry, dead).",
            ["tracker", "outcome"],
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "postmortems_outbox_delivery_duration_seconds",
            "Time one delivery attempt took, tracker round trips included, by tracker.",
            ["tracker"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.webhooks = Counter(
            "postmortems_webhooks_received",
            "Tracker webhooks received, by tracker and outcome.",
            ["tracker", "outcome"],
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "postmortems_db_pool_connections_in_use",
            "Database connections of this process's pool checked out right now.",
            registry=registry,
        )
        self.pool_size = Gauge(
            "postmortems_db_pool_size", "Connections this process's pool keeps at most.", registry=registry
        )
        self.loop_lag = Gauge(
            "postmortems_worker_loop_lag_seconds",
            "How late the outbox worker's event loop last ran a timer: a busy or blocked loop delays every delivery.",
            registry=registry,
        )

    def read_pool(self, database: Database) -> None:
        pool = database.engine.sync_engine.pool
        if isinstance(pool, QueuePool):
            self.pool_in_use.set(pool.checkedout())
            self.pool_size.set(pool.size())

    def render(self) -> bytes:
        return generate_latest(self.registry)
