"""Service level objective of action items: the days an item of each priority may take.

An item is due `POSTMORTEMS_ACTION_ITEM_SLO_DAYS[priority]` calendar days after the UTC date it
was created; open or in progress after that date, it has breached its SLO. The rule is written
twice, once for an item in hand (`slo_due_date`) and once as SQL (`breached_clause`), for
`GET /v1/action-items?slo_breached=...`.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias

from sqlalchemy import and_, or_
from sqlmodel import col

from service.action_items.models import UNFINISHED, ActionItem, ActionItemRead, Priority

SloDays: TypeAlias = Mapping[Priority, int]

DEFAULT_SLO_DAYS: dict[Priority, int] = {Priority.P0: 7, Priority.P1: 14, Priority.P2: 90}
MAX_SLO_DAYS = 36_500
"""A century: keeps every due date and cutoff inside the calendar."""


def slo_due_date(created_at: datetime, priority: Priority | None, slo_days: SloDays) -> date | None:
    """The UTC date of creation plus the SLO days of the priority; None without a priority."""
    if priority is None:
        return None
    return created_at.astimezone(UTC).date() + timedelta(days=slo_days[priority])


def to_read(item: ActionItem | Mapping[str, Any], slo_days: SloDays) -> ActionItemRead:
    """The read model of an item (or of a row of its columns), its SLO judged by `slo_days` (the settings in force)."""
    columns = item if isinstance(item, Mapping) else {name: getattr(item, name) for name in ActionItem.model_fields}
    link = None
    if columns["external_id"] is not None:
        link = {
            "tracker": columns["external_tracker"],
            "id": columns["external_id"],
            "key": columns["external_key"],
            "url": columns["external_url"],
            "state": columns["external_state"],
            "synced_at": columns["external_synced_at"],
            "unmapped": columns["external_unmapped"],
        }
    due = slo_due_date(columns["created_at"], columns["priority"], slo_days)
    return ActionItemRead.model_validate({**columns, "external": link, "slo_due_date": due})


def breached_clause(slo_days: SloDays, today: date) -> Any:
    """`slo_breached` in SQL, on SQLite and PostgreSQL, on this day."""
    return breached_before(lambda priority: cutoff(priority, slo_days, today))


def cutoff(priority: Priority, slo_days: SloDays, today: date) -> datetime:
    """Items of `priority` created before this instant have breached their SLO by `today`."""
    return datetime.combine(today - timedelta(days=slo_days[priority]), time(), UTC)


def breached_before(created_before: Callable[[Priority], Any]) -> Any:
    """`slo_breached` in SQL, for each priority's cutoff given as a value or a placeholder (see `cutoff`).

    today > created date + days holds exactly when the item was created before midnight (UTC)
    starting the day `today - days`: one comparison of `created_at` per priority. The result is
    never NULL (items without a priority give false), so its negation lists exactly the others.
    """
    priority = col(ActionItem.priority)
    created_at = col(ActionItem.created_at)
    return and_(
        col(ActionItem.status).in_(UNFINISHED),
        priority.is_not(None),
        or_(*(and_(priority == level, created_at < created_before(level)) for level in Priority)),
    )
