from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy import not_
from sqlmodel import col

from service.core.clock import utc_now
from service.core.pagination import PageParams
from service.core.schemas import UTCTimestamp
from service.core.types import json_array_contains
from service.postmortems import deadlines
from service.postmortems.enums import Severity, Status
from service.postmortems.models import Postmortem
from service.search.query import MAX_LENGTH as MAX_QUERY_LENGTH


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

    def where_clauses(self) -> list[Any]:
        clauses: list[Any] = []
        if self.status is not None:
            clauses.append(col(Postmortem.status) == self.status)
        if self.severity is not None:
            clauses.append(col(Postmortem.severity) == self.severity)
        if self.service is not None:
            clauses.append(json_array_contains(col(Postmortem.services), self.service))
        if self.tag is not None:
            clauses.append(json_array_contains(col(Postmortem.tags), self.tag))
        if self.failure_mode is not None:
            clauses.append(col(Postmortem.failure_mode) == self.failure_mode)
        if self.created_after is not None:
            clauses.append(col(Postmortem.created_at) >= self.created_after)
        if self.created_before is not None:
            clauses.append(col(Postmortem.created_at) < self.created_before)
        if self.overdue is not None:
            overdue = deadlines.overdue_clause(col(Postmortem.resolved_at), col(Postmortem.status), utc_now())
            clauses.append(overdue if self.overdue else not_(overdue))
        return clauses
