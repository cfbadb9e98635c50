"""The practice metrics, computed in the database: each query returns aggregates, never the rows themselves.

A postmortem's incident time is `started_at`, else `resolved_at`, else `created_at`; the window and the
repeat lookback are ranges of it.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items import filters as action_item_filters
from service.action_items.models import ActionItem, ItemStatus
from service.core import clock
from service.core.business_days import add_business_days
from service.core.errors import FieldError, Unprocessable
from service.core.types import json_array_contains
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
from service.stats.sql import add_days, byte_order, percentiles, seconds_between, utc_date, utc_weekday

EARLIEST = datetime.min.replace(tzinfo=UTC)
HOURS_PER_BUSINESS_DAY = 24 * 7 / 5
"""A business week is a calendar week: five business days span 168 hours."""


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


def _filters(window: Window) -> list[Any]:
    clauses: list[Any] = []
    if window.severity is not None:
        clauses.append(col(Postmortem.severity) == window.severity)
    if window.service is not None:
        clauses.append(json_array_contains(col(Postmortem.services), window.service))
    return clauses


def _in_range(start: datetime, end: datetime) -> list[Any]:
    at = INCIDENT_AT
    return [at >= start, at < end]


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
    scope = [*_in_range(window.from_, window.to), *_filters(window)]
    postmortems, sla, time_to_postmortem, mttd, mttr = await _postmortem_figures(session, scope, settings)
    return Stats(
        window=window,
        postmortems=postmortems,
        completion_within_sla=sla,
        time_to_postmortem=time_to_postmortem,
        mttd=mttd,
        mttr=mttr,
        action_item_completion=await _action_item_completion(session, window, settings),
        overdue_action_items=await _overdue_action_items(session, window),
        repeat_incidents=await _repeat_incidents(session, window),
        top_failure_modes=await _top_failure_modes(session, scope),
    )


async def _postmortem_figures(
    session: AsyncSession, scope: list[Any], settings: Settings
) -> tuple[PostmortemCounts, CompletionWithinSla, TimeToPostmortem, MeanTimeToDetect, MeanTimeToRestore]:
    status = col(Postmortem.status)
    started_at, detected_at = col(Postmortem.started_at), col(Postmortem.detected_at)
    resolved_at, completed_at = col(Postmortem.resolved_at), col(Postmortem.completed_at)
    complete = status == Status.COMPLETE
    to_postmortem = sa.case((complete, seconds_between(resolved_at, completed_at)))
    to_detect = seconds_between(started_at, detected_at)
    to_restore = seconds_between(started_at, resolved_at)
    aggregates: dict[str, Any] = {
        "draft": func.count().filter(status == Status.DRAFT),
        "in_review": func.count().filter(status == Status.IN_REVIEW),
        "complete": func.count().filter(complete),
        "total": func.count(),
        "resolved": func.count(resolved_at),
        "on_time": func.count().filter(complete, completed_at <= sla_deadline(resolved_at)),
        "to_postmortem": func.count(to_postmortem),
        "to_detect": func.count(to_detect),
        "to_detect_mean": func.avg(to_detect),
        "to_restore": func.count(to_restore),
        "to_restore_mean": func.avg(to_restore),
    }
    statement = select(*(expression.label(name) for name, expression in aggregates.items())).where(*scope)
    found = (await session.exec(statement)).one()._mapping

    durations = select(
        to_postmortem.label("to_postmortem"), to_detect.label("to_detect"), to_restore.label("to_restore")
    ).where(*scope)
    medians = await percentiles(
        session,
        durations.subquery("durations"),
        {"to_postmortem": [0.5, 0.9], "to_detect": [0.5], "to_restore": [0.5]},
        found,
    )
    ttp_median, ttp_p90 = medians["to_postmortem"]
    (ttd_median,) = medians["to_detect"]
    (ttr_median,) = medians["to_restore"]

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


def _items_of_matching_postmortems(statement: Any, window: Window) -> Any:
    filters = _filters(window)
    if not filters:
        return statement
    return statement.where(col(ActionItem.postmortem_id).in_(select(col(Postmortem.id)).where(*filters)))


async def _action_item_completion(session: AsyncSession, window: Window, settings: Settings) -> ActionItemCompletion:
    due_date, completed_at = col(ActionItem.due_date), col(ActionItem.completed_at)
    done_by_due_date = and_(col(ActionItem.status) == ItemStatus.DONE, utc_date(completed_at) <= due_date)
    statement = (
        select(func.count(), func.count().filter(done_by_due_date))
        .select_from(ActionItem)
        .where(due_date >= window.from_.date(), due_date < window.to.date())
    )
    due, done = (await session.exec(_items_of_matching_postmortems(statement, window))).one()
    target = Target(comparison=Comparison.ABOVE, value=settings.stats_action_item_target, unit=TargetUnit.RATIO)
    rate = _ratio(done, due)
    return ActionItemCompletion(due=due, done_by_due_date=done, rate=rate, target=target, met=_meets(rate, target))


async def _overdue_action_items(session: AsyncSession, window: Window) -> int:
    statement = select(func.count()).select_from(ActionItem).where(action_item_filters.overdue_clause())
    return int((await session.exec(_items_of_matching_postmortems(statement, window))).one())


async def _repeat_incidents(session: AsyncSession, window: Window) -> RepeatIncidents:
    """One pass over the postmortems with a failure mode from the lookback before the previous window to `to`.

    A window frame of the one group of peers before each row (`GROUPS 1 PRECEDING`) gives the latest
    incident of the same failure mode strictly earlier, so incidents at the same moment do not repeat
    each other and no postmortem is looked up one by one. The filters select the postmortems counted,
    not the earlier ones.
    """
    failure_mode = col(Postmortem.failure_mode)
    lookback_from = _earlier(window.previous_from, timedelta(days=REPEAT_WINDOW_DAYS))
    filters = _filters(window)
    in_scope = sa.case((and_(*filters), 1), else_=0) if filters else sa.literal_column("1")
    incidents = (
        select(
            INCIDENT_AT.label("at"),
            func.max(INCIDENT_AT)
            .over(partition_by=failure_mode, order_by=INCIDENT_AT, groups=(-1, -1))
            .label("prior_at"),
            in_scope.label("in_scope"),
        )
        .where(failure_mode.is_not(None), *_in_range(lookback_from, window.to))
        .subquery("incidents")
    )
    at, prior_at = incidents.c.at, incidents.c.prior_at
    repeat = and_(prior_at.is_not(None), prior_at >= add_days(at, -REPEAT_WINDOW_DAYS))
    current = and_(at >= window.from_, at < window.to)
    previous = and_(at >= window.previous_from, at < window.from_)
    statement = select(
        func.count().filter(current),
        func.count().filter(current, repeat),
        func.count().filter(previous),
        func.count().filter(previous, repeat),
    ).where(incidents.c.in_scope == 1)
    postmortems, repeats, previous_postmortems, previous_repeats = (await session.exec(statement)).one()
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


async def _top_failure_modes(session: AsyncSession, scope: list[Any]) -> list[FailureModeCount]:
    failure_mode = col(Postmortem.failure_mode)
    count = func.count().label("count")
    statement = (
        select(failure_mode, count)
        .where(*scope, failure_mode.is_not(None))
        .group_by(failure_mode)
        .order_by(count.desc(), byte_order(failure_mode))
        .limit(TOP_FAILURE_MODES)
    )
    rows = (await session.exec(statement)).all()
    return [FailureModeCount(failure_mode=mode, count=n) for mode, n in rows]
