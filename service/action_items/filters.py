import uuid
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy import and_, not_
from sqlmodel import col

from service.action_items import slo
from service.action_items.models import UNFINISHED, ActionItem, ItemStatus, Priority
from service.core.clock import utc_today
from service.core.pagination import PageParams
from service.core.sql import param
from service.core.types import UTCDateTime


def overdue_clause(today: Any) -> Any:
    """Open or in progress, with a due date before `today`.

    `today` is a placeholder wherever the statement is built once and reused, so that it never keeps
    the date it was built on.
    """
    return and_(
        col(ActionItem.status).in_(UNFINISHED),
        col(ActionItem.due_date).is_not(None),
        col(ActionItem.due_date) < today,
    )


def _breached() -> Any:
    return slo.breached_before(lambda priority: param(f"created_before_{priority.value}", UTCDateTime()))


# Each filter as SQL over placeholders named after it (the SLO filters over each priority's cutoff).
CLAUSES: dict[str, Callable[[], Any]] = {
    "owner": lambda: col(ActionItem.owner) == param("owner"),
    "status": lambda: col(ActionItem.status) == param("status"),
    "priority": lambda: col(ActionItem.priority) == param("priority"),
    "postmortem_id": lambda: col(ActionItem.postmortem_id) == param("postmortem_id"),
    "overdue": lambda: overdue_clause(param("today")),
    "not_overdue": lambda: not_(overdue_clause(param("today"))),
    "slo_breached": _breached,
    "slo_kept": lambda: not_(_breached()),
}


class ActionItemFilters(PageParams):
    """Query parameters of `GET /v1/action-items`; every filter given must match."""

    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(default=None, max_length=100)
    status: ItemStatus | None = None
    priority: Priority | None = None
    overdue: bool | None = Field(default=None, description="Open or in progress and past the due date.")
    slo_breached: bool | None = Field(
        default=None, description="Open or in progress, with a priority, and past `slo_due_date`; false: the others."
    )
    postmortem_id: uuid.UUID | None = None

    def bound(self, slo_days: slo.SloDays) -> tuple[frozenset[str], dict[str, Any]]:
        """The filters given, as names of `CLAUSES`, and the values of their placeholders; `slo_days` is the
        SLO in force (`POSTMORTEMS_ACTION_ITEM_SLO_DAYS`)."""
        values: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("owner", "status", "priority", "postmortem_id")
            if getattr(self, name) is not None
        }
        names = set(values)
        today = utc_today()
        if self.overdue is not None:
            names.add("overdue" if self.overdue else "not_overdue")
            values["today"] = today
        if self.slo_breached is not None:
            names.add("slo_breached" if self.slo_breached else "slo_kept")
            values |= {f"created_before_{level.value}": slo.cutoff(level, slo_days, today) for level in Priority}
        return frozenset(names), values


def where_clauses(names: frozenset[str]) -> list[Any]:
    return [CLAUSES[name]() for name in sorted(names)]
