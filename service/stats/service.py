"""The practice metrics, computed in the database: each query returns aggregates, never the rows themselves.

A postmortem's incident time is `started_at`, else `resolved_at`, else `created_at`; the window and the
repeat lookback are ranges of it.

Every figure comes from one statement: each group of figures is a one-row subquery, and the (up to ten)
top failure modes are joined to that row. The answer takes one round trip and, on PostgreSQL, where reads
autocommit, reads one snapshot, so its figures agree with each other. Only on SQLite, which has no
`percentile_cont`, do the medians take a second statement, once the first has counted their samples.

The statement is built once for each backend and set of filters given, with placeholders for the window
and the filters' values: building it is most of the time the request spends in Python.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from service.action_items import filters as action_item_filters
from service.action_items.models import ActionItem, ItemStatus
from service.core import clock
from service.core.business_days import add_business_days
from service.core.errors import FieldError, Unprocessable
from service.core.types import UTCDateTime, json_array_contains
from service.postmortems.enums import Status
from service.postmortems.models import INCIDENT_AT, Postmortem
from service.settings import Settings
from service.stats.models import (
    DEFAULT_WINDOW_DAYS,
    REPEAT_WINDOW_DAYS,
    SLA_BUSINESS_DAYS,
    TOP_FAILURE_MODES,
    ActionItemCompletion,
    Comparison,
    CompletionWithinSla,
    FailureModeCount,
    MeanTimeToDetect,
    MeanTimeToRestore,
    PostmortemCounts,
    RepeatIncidents,
    Stats,
    StatsParams,
    Target,
    TargetUnit,
    TimeToPostmortem,
    Window,
)
from service.stats.sql import (
    Percentiles,
    add_days,
    byte_order,
    inline,
    percentile_aggregates,
    percentiles_of,
    ranked_percentiles,
    seconds_between,
    utc_date,
    utc_weekday,
)

EARLIEST = datetime.min.replace(tzinfo=UTC)
HOURS_PER_BUSINESS_DAY = 24 * 7 / 5
"""A business week is a calendar week: five business days span 168 hours."""
PERCENTILES: Mapping[str, Sequence[float]] = {"to_postmortem": (0.5, 0.9), "to_detect": (0.5,), "to_restore": (0.5,)}
"""The fractions wanted of each duration: the median, and for the time to postmortem the 90th percentile."""


def resolve_window(params: StatsParams) -> Window:
    """The window with its defaults filled in; a `from` not before `to` is a 422 on `from`."""
    to = params.to or clock.utc_now()
    start = params.from_ or _earlier(to, timedelta(days=DEFAULT_WINDOW_DAYS))
    if start >= to:
        raise Unprocessable(
            "the window is empty",
            [FieldError("from", "must be before `to`", "empty_window", "query")],
        )
    return Window(
        from_=start,
        to=to,
        previous_from=_earlier(start, to - start),
        service=params.service,
        severity=params.severity,
    )


def _earlier(moment: datetime, delta: timedelta) -> datetime:
    try:
        return moment - delta
    except OverflowError:
        return EARLIEST


# The window's bounds: placeholders whose values are written into the SQL text at execution (`inline`).
WINDOW_FROM = inline("window_from", UTCDateTime())
WINDOW_TO = inline("window_to", UTCDateTime())
PREVIOUS_FROM = inline("previous_from", UTCDateTime())
LOOKBACK_FROM = inline("lookback_from", UTCDateTime())
"""Where the incidents that the repeats of the previous window may repeat begin."""
FIRST_DUE_DATE = inline("first_due_date", sa.Date())
DUE_BEFORE = inline("due_before", sa.Date())
TODAY = inline("today", sa.Date())  # a placeholder: the statement is built once and outlives the day


@dataclass(frozen=True)
class Filters:
    """Which filters a request gives: the statement's text depends on these, not on their values."""

    severity: bool = False
    service: bool = False

    @classmethod
    def of(cls, window: Window) -> "Filters":
        return cls(severity=window.severity is not None, service=window.service is not None)

    def clauses(self) -> list[Any]:
        clauses: list[Any] = []
        if self.severity:
            clauses.append(col(Postmortem.severity) == sa.bindparam("severity"))
        if self.service:
            clauses.append(json_array_contains(col(Postmortem.services), sa.bindparam("service", type_=sa.String())))
        return clauses


def parameters(window: Window) -> dict[str, Any]:
    """The values of the statement's placeholders for `window`."""
    values: dict[str, Any] = {
        "window_from": window.from_,
        "window_to": window.to,
        "previous_from": window.previous_from,
        "lookback_from": _earlier(window.previous_from, timedelta(days=REPEAT_WINDOW_DAYS)),
        "first_due_date": window.from_.date(),
        "due_before": window.to.date(),
        "today": clock.utc_today(),
    }
    if window.severity is not None:
        values["severity"] = window.severity
    if window.service is not None:
        values["service"] = window.service
    return values


def _in_range(start: Any, end: Any, at: Any = INCIDENT_AT) -> list[Any]:
    """`at` (by default the incident time) from `start`, inclusive, to `end`, exclusive."""
    return [at >= start, at < end]


def _scope(filters: Filters) -> list[Any]:
    """The postmortems in the window that the filters select."""
    return [*_in_range(WINDOW_FROM, WINDOW_TO), *filters.clauses()]


def _calendar_days_to_deadline(weekday: int) -> int:
    """Calendar days from a day of week `weekday` (0 is Sunday) to `SLA_BUSINESS_DAYS` business days later."""
    day = datetime(2025, 1, 5, tzinfo=UTC) + timedelta(days=weekday)  # 2025-01-05 is a Sunday
    return (add_business_days(day, SLA_BUSINESS_DAYS) - day).days


def sla_deadline(resolved_at: Any) -> Any:
    """`add_business_days(resolved_at, SLA_BUSINESS_DAYS)` in SQL: the calendar days to add depend on the weekday."""
    shifts = {weekday: _calendar_days_to_deadline(weekday) for weekday in range(7)}
    return add_days(resolved_at, sa.case(shifts, value=utc_weekday(resolved_at)))


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _meets(value: float | None, target: Target | None) -> bool | None:
    if value is None or target is None or target.value is None:
        return None
    return value > target.value if target.comparison is Comparison.ABOVE else value < target.value


def _rounded(seconds: float | None, unit_seconds: int) -> float | None:
    return None if seconds is None else round(seconds / unit_seconds, 2)


async def compute(session: AsyncSession, params: StatsParams, settings: Settings) -> Stats:
    window = resolve_window(params)
    postgresql = session.get_bind().dialect.name == "postgresql"
    filters, values = Filters.of(window), parameters(window)
    rows = (await session.exec(statement(postgresql=postgresql, filters=filters), params=values)).all()
    found: Mapping[str, Any] = rows[0]._mapping
    if postgresql:
        percentiles = percentiles_of(found, PERCENTILES)
    else:
        percentiles = await _ranked_percentiles(session, filters, values, found)
    postmortems, sla, time_to_postmortem, mttd, mttr = _postmortem_figures(found, percentiles, settings)
    return Stats(
        window=window,
        postmortems=postmortems,
        completion_within_sla=sla,
        time_to_postmortem=time_to_postmortem,
        mttd=mttd,
        mttr=mttr,
        action_item_completion=_action_item_completion(found, settings),
        overdue_action_items=found["overdue"],
        repeat_incidents=_repeat_incidents(found),
        top_failure_modes=[
            FailureModeCount(failure_mode=row.failure_mode, count=row.failure_mode_count)
            for row in rows
            if row.failure_mode is not None
        ],
    )


@cache
def statement(*, postgresql: bool, filters: Filters) -> Any:
    """The statement of every figure: one row of them, repeated beside each of the top failure modes.

    Each group of figures is an aggregate without GROUP BY, so exactly one row, and the groups are
    joined on true. The top failure modes are joined to that row on true as well, outer so that the row
    is there without them; the result has one row per top failure mode, in their order.

    Built once for each backend and set of filters; `parameters` gives the values of its placeholders.
    """
    matching = _matching_postmortems(filters)
    figures = [
        _labelled(_postmortem_aggregates(inline_percentiles=postgresql)).where(*_scope(filters)).subquery("pm"),
        _action_item_counts(matching),
        _overdue_count(matching),
        _repeat_counts(filters, postgresql=postgresql),
    ]
    top = _top_failure_modes(filters)
    joined = figures[0]
    for part in figures[1:]:
        joined = joined.join(part, sa.true())
    columns = [*(column for part in figures for column in part.c), top.c.failure_mode, top.c.failure_mode_count]
    return (
        Select(*columns)
        .select_from(joined.outerjoin(top, sa.true()))
        .order_by(top.c.failure_mode_count.desc(), byte_order(top.c.failure_mode))
    )


def _labelled(aggregates: Mapping[str, Any]) -> Any:
    return select(*(expression.label(name) for name, expression in aggregates.items()))


@dataclass(frozen=True)
class _Duration:
    """From one timestamp column to another; with `only`, just on the rows where it holds."""

    start: Any
    end: Any
    only: Any = None

    @property
    def known(self) -> Any:
        """Both timestamps are there (and `only` holds): counted without computing the duration."""
        known = and_(self.start.is_not(None), self.end.is_not(None))
        return known if self.only is None else and_(self.only, known)

    @property
    def seconds(self) -> Any:
        seconds = seconds_between(self.start, self.end)
        return seconds if self.only is None else sa.case((self.only, seconds))


def _durations() -> dict[str, _Duration]:
    """The durations the percentiles are of; the time to postmortem only of complete postmortems."""
    started_at, detected_at = col(Postmortem.started_at), col(Postmortem.detected_at)
    resolved_at, completed_at = col(Postmortem.resolved_at), col(Postmortem.completed_at)
    return {
        "to_postmortem": _Duration(resolved_at, completed_at, only=col(Postmortem.status) == Status.COMPLETE),
        "to_detect": _Duration(started_at, detected_at),
        "to_restore": _Duration(started_at, resolved_at),
    }


def _postmortem_aggregates(*, inline_percentiles: bool) -> dict[str, Any]:
    """The figures of the postmortems in scope; the percentiles too where the database computes them."""
    status = col(Postmortem.status)
    resolved_at, completed_at = col(Postmortem.resolved_at), col(Postmortem.completed_at)
    complete = status == Status.COMPLETE
    durations = _durations()
    aggregates: dict[str, Any] = {
        "draft": func.count().filter(status == Status.DRAFT),
        "in_review": func.count().filter(status == Status.IN_REVIEW),
        "complete": func.count().filter(complete),
        "total": func.count(),
        "resolved": func.count(resolved_at),
        "on_time": func.count().filter(complete, completed_at <= sla_deadline(resolved_at)),
        "to_postmortem": func.count().filter(durations["to_postmortem"].known),
        "to_detect": func.count().filter(durations["to_detect"].known),
        "to_detect_mean": func.avg(durations["to_detect"].seconds),
        "to_restore": func.count().filter(durations["to_restore"].known),
        "to_restore_mean": func.avg(durations["to_restore"].seconds),
    }
    if inline_percentiles:
        aggregates |= percentile_aggregates(_seconds(durations), PERCENTILES)
    return aggregates


def _seconds(durations: Mapping[str, _Duration]) -> dict[str, Any]:
    return {name: duration.seconds for name, duration in durations.items()}


async def _ranked_percentiles(
    session: AsyncSession, filters: Filters, values: Mapping[str, Any], found: Mapping[str, Any]
) -> Percentiles:
    durations = _labelled(_seconds(_durations())).where(*_scope(filters)).params(values)
    return await ranked_percentiles(session, durations, PERCENTILES, {name: found[name] for name in PERCENTILES})


def _postmortem_figures(
    found: Mapping[str, Any], percentiles: Percentiles, settings: Settings
) -> tuple[PostmortemCounts, CompletionWithinSla, TimeToPostmortem, MeanTimeToDetect, MeanTimeToRestore]:
    ttp_median, ttp_p90 = percentiles["to_postmortem"]
    (ttd_median,) = percentiles["to_detect"]
    (ttr_median,) = percentiles["to_restore"]

    sla_rate = _ratio(found["on_time"], found["resolved"])
    sla_target = Target(comparison=Comparison.ABOVE, value=settings.stats_sla_target, unit=TargetUnit.RATIO)
    target_days = settings.stats_time_to_postmortem_target_business_days
    median_hours = _rounded(ttp_median, 3600)
    return (
        PostmortemCounts(
            draft=found["draft"], in_review=found["in_review"], complete=found["complete"], total=found["total"]
        ),
        CompletionWithinSla(
            resolved=found["resolved"],
            on_time=found["on_time"],
            rate=sla_rate,
            target=sla_target,
            met=_meets(sla_rate, sla_target),
        ),
        TimeToPostmortem(
            completed=found["to_postmortem"],
            median_hours=median_hours,
            p90_hours=_rounded(ttp_p90, 3600),
            target=Target(comparison=Comparison.BELOW, value=target_days, unit=TargetUnit.BUSINESS_DAYS),
            met=None if median_hours is None else median_hours < target_days * HOURS_PER_BUSINESS_DAY,
        ),
        MeanTimeToDetect.model_validate(
            _duration(found["to_detect"], ttd_median, found["to_detect_mean"], settings.stats_mttd_target_minutes)
        ),
        MeanTimeToRestore.model_validate(
            _duration(found["to_restore"], ttr_median, found["to_restore_mean"], settings.stats_mttr_target_minutes)
        ),
    )


def _duration(count: int, median: float | None, mean: Any, target_minutes: float | None) -> dict[str, Any]:
    """An incident duration figure; `mean` is whatever the database's AVG returns, or None."""
    target = (
        None
        if target_minutes is None
        else Target(comparison=Comparison.BELOW, value=target_minutes, unit=TargetUnit.MINUTES)
    )
    mean_minutes = _rounded(None if mean is None else float(mean), 60)
    return {
        "count": count,
        "median_minutes": _rounded(median, 60),
        "mean_minutes": mean_minutes,
        "target": target,
        "met": _meets(mean_minutes, target),
    }


def _matching_postmortems(filters: Filters) -> sa.CTE | None:
    """The postmortems the filters select, whatever their incident time, whose action items count; None: all.

    Both action item counts read them. SQLite finds them once (MATERIALIZED): with `service`, that is
    a pass over every postmortem's services. PostgreSQL finds them in each count (NOT MATERIALIZED),
    from the indexes of the filters, so that it plans each join knowing how many there are, where it
    would guess 200 rows of a materialized CTE and probe the action items one postmortem at a time.
    """
    if not filters.clauses():
        return None
    matching = select(col(Postmortem.id)).where(*filters.clauses()).cte("matching")
    return matching.prefix_with("MATERIALIZED", dialect="sqlite").prefix_with("NOT MATERIALIZED", dialect="postgresql")


def _items_of(statement: Any, matching: sa.CTE | None) -> Any:
    if matching is None:
        return statement
    return statement.where(col(ActionItem.postmortem_id).in_(select(matching.c.id)))


def _action_item_counts(matching: sa.CTE | None) -> sa.Subquery:
    due_date, completed_at = col(ActionItem.due_date), col(ActionItem.completed_at)
    done_by_due_date = and_(col(ActionItem.status) == ItemStatus.DONE, utc_date(completed_at) <= due_date)
    statement = (
        select(func.count().label("due"), func.count().filter(done_by_due_date).label("done_by_due_date"))
        .select_from(ActionItem)
        .where(due_date >= FIRST_DUE_DATE, due_date < DUE_BEFORE)
    )
    items: sa.Subquery = _items_of(statement, matching).subquery("items")
    return items


def _overdue_count(matching: sa.CTE | None) -> sa.Subquery:
    statement = (
        select(func.count().label("overdue")).select_from(ActionItem).where(action_item_filters.overdue_clause(TODAY))
    )
    overdue: sa.Subquery = _items_of(statement, matching).subquery("overdue")
    return overdue


def _action_item_completion(found: Mapping[str, Any], settings: Settings) -> ActionItemCompletion:
    due, done = found["due"], found["done_by_due_date"]
    target = Target(comparison=Comparison.ABOVE, value=settings.stats_action_item_target, unit=TargetUnit.RATIO)
    rate = _ratio(done, due)
    return ActionItemCompletion(due=due, done_by_due_date=done, rate=rate, target=target, met=_meets(rate, target))


def _incidents(filters: Filters, start: Any, name: str) -> sa.Subquery:
    """The postmortems with a failure mode that the filters select, from `start` to the end of the window:
    their failure mode and incident time."""
    failure_mode = col(Postmortem.failure_mode)
    return (
        select(failure_mode.label("failure_mode"), INCIDENT_AT.label("at"))
        .where(failure_mode.is_not(None), *_in_range(start, WINDOW_TO), *filters.clauses())
        .subquery(name)
    )


def _is_repeat(at: Any, prior_at: Any) -> Any:
    """An incident at `at` repeats one at `prior_at` (strictly earlier) at most `REPEAT_WINDOW_DAYS` before."""
    return prior_at >= add_days(at, -REPEAT_WINDOW_DAYS)


def _repeats_by_window(counted: sa.Subquery) -> sa.Subquery:
    """Each counted incident and whether it repeats, as PostgreSQL does it best: the latest earlier
    incident of its failure mode is the one before it (`lag`) among the distinct incident times of that
    failure mode since the lookback, whatever the filters.

    The times are distinct, so the one before is strictly earlier: incidents at the same moment do not
    repeat each other. `ix_postmortem_failure_mode_incident_at` holds all the window function reads, in
    its order, so it needs neither the table nor a sort (a sort of 30,000 incidents of a quarter's
    lookback took longer than all the rest of their repeat counts).
    """
    failure_mode = col(Postmortem.failure_mode)
    moments = (
        select(failure_mode.label("failure_mode"), INCIDENT_AT.label("at"))
        .where(failure_mode.is_not(None), *_in_range(LOOKBACK_FROM, WINDOW_TO))
        .group_by(failure_mode, INCIDENT_AT)
        .subquery("moments")
    )
    prior = func.lag(moments.c.at).over(partition_by=moments.c.failure_mode, order_by=moments.c.at)
    paced = select(moments.c.failure_mode, moments.c.at, prior.label("prior_at")).subquery("paced")
    same_moment = and_(paced.c.failure_mode == counted.c.failure_mode, paced.c.at == counted.c.at)
    repeat = _is_repeat(counted.c.at, paced.c.prior_at)
    return select(counted.c.at, repeat.label("repeat")).join_from(counted, paced, same_moment).subquery("repeats")


def _repeats_by_lookup(counted: sa.Subquery) -> sa.Subquery:
    """Each counted incident and whether it repeats, as SQLite does it best: one probe of
    `ix_postmortem_failure_mode_incident_at` each for an earlier incident of its failure mode, where its
    window functions would sort and step through every incident since the lookback."""
    at = INCIDENT_AT
    # EXISTS (SELECT 1 ...), not SELECT *: SQLite would read the table for the columns of *.
    earlier = sa.exists(sa.literal_column("1")).where(
        col(Postmortem.failure_mode) == counted.c.failure_mode, at < counted.c.at, _is_repeat(counted.c.at, at)
    )
    return select(counted.c.at, earlier.label("repeat")).subquery("repeats")


def _repeat_counts(filters: Filters, *, postgresql: bool) -> sa.Subquery:
    """Repeats in the window and in the previous one, of the incidents counted there."""
    counted = _incidents(filters, PREVIOUS_FROM, "counted")
    repeats = _repeats_by_window(counted) if postgresql else _repeats_by_lookup(counted)
    at, repeat = repeats.c.at, repeats.c.repeat
    current = and_(*_in_range(WINDOW_FROM, WINDOW_TO, at))
    previous = and_(*_in_range(PREVIOUS_FROM, WINDOW_FROM, at))
    return select(
        func.count().filter(current).label("repeat_postmortems"),
        func.count().filter(current, repeat).label("repeats"),
        func.count().filter(previous).label("previous_postmortems"),
        func.count().filter(previous, repeat).label("previous_repeats"),
    ).subquery("repeat_counts")


def _repeat_incidents(found: Mapping[str, Any]) -> RepeatIncidents:
    postmortems, repeats = found["repeat_postmortems"], found["repeats"]
    previous_postmortems, previous_repeats = found["previous_postmortems"], found["previous_repeats"]
    rate, previous_rate = _ratio(repeats, postmortems), _ratio(previous_repeats, previous_postmortems)
    target = Target(comparison=Comparison.BELOW, value=previous_rate, unit=TargetUnit.RATIO)
    return RepeatIncidents(
        postmortems=postmortems,
        repeats=repeats,
        rate=rate,
        previous_postmortems=previous_postmortems,
        previous_repeats=previous_repeats,
        previous_rate=previous_rate,
        target=target,
        met=_meets(rate, target),
    )


def _top_failure_modes(filters: Filters) -> sa.Subquery:
    incidents = _incidents(filters, WINDOW_FROM, "in_window")
    count = func.count()
    return (
        select(incidents.c.failure_mode, count.label("failure_mode_count"))
        .group_by(incidents.c.failure_mode)
        .order_by(count.desc(), byte_order(incidents.c.failure_mode))
        .limit(TOP_FAILURE_MODES)
        .subquery("top")
    )
