"""When a postmortem is due, counted from the incident's resolution.

The draft is due a day after `resolved_at`, the review three days after, and the completed
postmortem five business days after (weekends skipped). Nothing is due while `resolved_at` is
unknown. The same rules are written twice, once for a postmortem in hand and once as SQL for
`GET /v1/postmortems?overdue=...`; `tests/postmortems/test_deadlines.py` holds them together.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_

from service.core.business_days import add_business_days
from service.postmortems.enums import Status

DRAFT_WITHIN = timedelta(hours=24)
REVIEW_WITHIN = timedelta(hours=72)
COMPLETE_WITHIN_BUSINESS_DAYS = 5


def draft_due_at(resolved_at: datetime | None) -> datetime | None:
    return None if resolved_at is None else resolved_at + DRAFT_WITHIN


def review_due_at(resolved_at: datetime | None) -> datetime | None:
    return None if resolved_at is None else resolved_at + REVIEW_WITHIN


def complete_due_at(resolved_at: datetime | None) -> datetime | None:
    return None if resolved_at is None else add_business_days(resolved_at, COMPLETE_WITHIN_BUSINESS_DAYS)


def _past(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and now > due_at


def draft_overdue(status: Status, resolved_at: datetime | None, now: datetime) -> bool:
    return status is Status.DRAFT and _past(draft_due_at(resolved_at), now)


def review_overdue(status: Status, resolved_at: datetime | None, now: datetime) -> bool:
    return status is not Status.COMPLETE and _past(review_due_at(resolved_at), now)


def complete_overdue(status: Status, resolved_at: datetime | None, now: datetime) -> bool:
    return status is not Status.COMPLETE and _past(complete_due_at(resolved_at), now)


def overdue(status: Status, resolved_at: datetime | None, now: datetime) -> bool:
    return (
        draft_overdue(status, resolved_at, now)
        or review_overdue(status, resolved_at, now)
        or complete_overdue(status, resolved_at, now)
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """Every deadline of a postmortem and whether it has passed, at one instant."""

    draft_due_at: datetime | None
    review_due_at: datetime | None
    complete_due_at: datetime | None
    draft_overdue: bool
    review_overdue: bool
    complete_overdue: bool

    @property
    def overdue(self) -> bool:
        return self.draft_overdue or self.review_overdue or self.complete_overdue


def schedule(status: Status, resolved_at: datetime | None, now: datetime) -> Schedule:
    """The functions above, each deadline computed once (a list derives them for every postmortem)."""
    draft, review, complete = draft_due_at(resolved_at), review_due_at(resolved_at), complete_due_at(resolved_at)
    return Schedule(
        draft_due_at=draft,
        review_due_at=review,
        complete_due_at=complete,
        draft_overdue=status is Status.DRAFT and _past(draft, now),
        review_overdue=status is not Status.COMPLETE and _past(review, now),
        complete_overdue=status is not Status.COMPLETE and _past(complete, now),
    )


def overdue_clause(resolved_at: Any, status: Any, now: datetime) -> Any:
    """`overdue` at `now` in SQL, over the `resolved_at` and `status` columns, on SQLite and PostgreSQL."""
    return overdue_before(resolved_at, status, **cutoffs(now))


def cutoffs(now: datetime) -> dict[str, datetime]:
    """The values of `overdue_before`'s cutoffs at `now`."""
    return {"draft_due_before": now - DRAFT_WITHIN, "review_due_before": now - REVIEW_WITHIN}


def overdue_before(resolved_at: Any, status: Any, *, draft_due_before: Any, review_due_before: Any) -> Any:
    """`overdue` in SQL, for cutoffs given as values or placeholders (see `cutoffs`).

    The complete deadline is always later than the review deadline, so a postmortem past it is
    already past the review deadline: two comparisons on `resolved_at` decide. The result is never
    NULL (a NULL `resolved_at` makes it false), so its negation lists exactly the others.
    """
    return and_(
        resolved_at.is_not(None),
        status != Status.COMPLETE,
        or_(and_(status == Status.DRAFT, resolved_at < draft_due_before), resolved_at < review_due_before),
    )
