import uuid
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy import and_, not_
from sqlmodel import col

from service.action_items import slo
from service.action_items.models import UNFINISHED, ActionItem, ItemStatus, Priority
from service.core.clock import utc_today
from service.core.pagination import PageParams


def overdue_clause(today: Any = None) -> Any:
    """Open or in progress, with a due date before `today` (a date or a placeholder; default: today, UTC)."""
    return and_(
        col(ActionItem.status).in_(UNFINISHED),
        col(ActionItem.due_date).is_not(None),
        col(ActionItem.due_date) < (utc_today() if today is None else today),
    )


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

    def where_clauses(self, slo_days: slo.SloDays) -> list[Any]:
        """The filters as SQL; `slo_days` is the SLO in force (`POSTMORTEMS_ACTION_ITEM_SLO_DAYS`)."""
        clauses: list[Any] = []
        if self.owner is not None:
            clauses.append(col(ActionItem.owner) == self.owner)
        if self.status is not None:
            clauses.append(col(ActionItem.status) == self.status)
        if self.priority is not None:
            clauses.append(col(ActionItem.priority) == self.priority)
        if self.overdue is not None:
            clauses.append(overdue_clause() if self.overdue else not_(overdue_clause()))
        if self.slo_breached is not None:
            breached = slo.breached_clause(slo_days, utc_today())
            clauses.append(breached if self.slo_breached else not_(breached))
        if self.postmortem_id is not None:
            clauses.append(col(ActionItem.postmortem_id) == self.postmortem_id)
        return clauses
