"""Logs as one JSON object per line, each carrying the id of the request it was written for.

The request id lives in a context variable that `RequestObservabilityMiddleware` sets for the
request's task, so any log line written while the request is handled (by the service, SQLAlchemy,
httpx) names it without being passed it.
"""

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

REQUEST_FIELDS = ("method", "route", "status", "duration_ms")
"""Fields a log call may pass in `extra` that the JSON line carries (the request log's)."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (current := request_id.get()) is not None:
            line["request_id"] = current
        for name in REQUEST_FIELDS:
            if (value := record.__dict__.get(name)) is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, log_format: LogFormat = "json") -> None:
    """The process's log format and level (each server worker process calls this for itself)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every tracker request at INFO; its URL is all it says, and the tracker calls are
    # measured (`observability.metrics`), so only its warnings are kept.
    logging.getLogger("httpx").setLevel(logging.WARNING)
