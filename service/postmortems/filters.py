from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict, Field
from sqlalchemy import not_

from service.core.clock import utc_now
from service.core.pagination import PageParams
from service.core.schemas import UTCTimestamp
from service.core.sql import param
from service.postmortems import deadlines, labels
from service.postmortems.enums import Severity, Status
from service.postmortems.models import Postmortem
from service.search.query import MAX_LENGTH as MAX_QUERY_LENGTH

_postmortems = Postmortem.__table__  # type: ignore[attr-defined]


def _overdue() -> Any:
    return deadlines.overdue_before(
        _postmortems.c.resolved_at,
        _postmortems.c.status,
        draft_due_before=param("draft_due_before", _postmortems.c.resolved_at.type),
        review_due_before=param("review_due_before", _postmortems.c.resolved_at.type),
    )


# Each filter as SQL over a placeholder named after it ("overdue" and "on_time" over the cutoffs of `deadlines`).
CLAUSES: dict[str, Callable[[], Any]] = {
    "status": lambda: _postmortems.c.status == param("status"),
    "severity": lambda: _postmortems.c.severity == param("severity"),
    "service": lambda: labels.labelled(labels.SERVICE, param("service", sa.String())),
    "tag": lambda: labels.labelled(labels.TAG, param("tag", sa.String())),
    "failure_mode": lambda: _postmortems.c.failure_mode == param("failure_mode"),
    "created_after": lambda: _postmortems.c.created_at >= param("created_after"),
    "created_before": lambda: _postmortems.c.created_at < param("created_before"),
    "overdue": _overdue,
    "on_time": lambda: not_(_overdue()),
}


class PostmortemFilters(PageParams):
    """Query parameters of `GET /v1/postmortems`; every filter given must match."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        description="Full-text search of the title, summary, root cause, contributing factors, lessons learned "
        "and timeline; results come best match first (ties newest first). Every word must appear, in any form "
        '("timeouts" finds "timeout"); "a phrase" in double quotes; `or` between alternatives; -word or '
        '-"a phrase" excludes. Combines with every other filter. A cursor continues only the same search.',
        examples=['timeout "connection pool" -staging'],
    )
    status: Status | None = None
    severity: Severity | None = None
    service: str | None = Field(default=None, max_length=100, description="Lists this service.")
    tag: str | None = Field(default=None, max_length=100, description="Carries this tag.")
    failure_mode: str | None = Field(default=None, max_length=100)
    created_after: UTCTimestamp | None = Field(default=None, description="Created at or after.")
    created_before: UTCTimestamp | None = Field(default=None, description="Created before.")
    overdue: bool | None = Field(
        default=None, description="Past a deadline (`overdue` is true); false lists the others, unresolved ones too."
    )

    def bound(self) -> tuple[frozenset[str], dict[str, Any]]:
        """The filters given, as names of `CLAUSES`, and the values of their placeholders."""
        values: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("status", "severity", "service", "tag", "failure_mode", "created_after", "created_before")
            if getattr(self, name) is not None
        }
        names = set(values)
        if self.overdue is not None:
            names.add("overdue" if self.overdue else "on_time")
            values |= deadlines.cutoffs(utc_now())
        return frozenset(names), values


def where_clauses(names: frozenset[str]) -> list[Any]:
    return [CLAUSES[name]() for name in sorted(names)]
