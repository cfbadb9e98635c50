"""`GET /v1/stats`: its query, and the figures it answers with, each defined where it is declared.

A postmortem belongs to the window by its incident time: `started_at`, else `resolved_at`, else
`created_at`.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.core.schemas import UTCTimestamp, reject_nul
from service.postmortems.enums import Severity

DEFAULT_WINDOW_DAYS = 90
SLA_BUSINESS_DAYS = 5
REPEAT_WINDOW_DAYS = 90
TOP_FAILURE_MODES = 10


class StatsParams(BaseModel):
    """Query parameters of `GET /v1/stats`."""

    model_config = ConfigDict(extra="forbid")

    from_: UTCTimestamp | None = Field(
        default=None,
        alias="from",
        description=(
            f"Start of the window, inclusive: RFC 3339 with an offset. Default: {DEFAULT_WINDOW_DAYS} days before `to`."
        ),
        examples=["2025-01-01T00:00:00Z"],
    )
    to: UTCTimestamp | None = Field(
        default=None,
        description="End of the window, exclusive: RFC 3339 with an offset, after `from`. Default: now.",
        examples=["2025-04-01T00:00:00Z"],
    )
    service: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Only postmortems that list this service in `services`, and their action items.",
        examples=["checkout"],
    )
    severity: Severity | None = Field(default=None, description="Only postmortems of this severity, and their items.")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)


class Comparison(StrEnum):
    ABOVE = "above"
    BELOW = "below"


class TargetUnit(StrEnum):
    RATIO = "ratio"
    BUSINESS_DAYS = "business_days"
    MINUTES = "minutes"


class Target(BaseModel):
    """What a figure is held to: it is met when strictly `comparison` `value`."""

    comparison: Comparison = Field(description="`above` or `below`: the figure must be strictly above or below.")
    value: float | None = Field(
        description="The figure to beat; null when there is nothing to compare with.", examples=[0.9]
    )
    unit: TargetUnit = Field(description="`ratio` (a share from 0 to 1), `business_days` or `minutes`.")


MET = "Whether the figure meets its `target`: true or false; null when the figure has no data or no target is set."


class Window(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from", description="Start of the window, inclusive.")
    to: datetime = Field(description="End of the window, exclusive.")
    previous_from: datetime = Field(
        description="Start of the previous window of the same length, which ends at `from`; for `repeat_incidents`."
    )
    service: str | None = Field(description="The `service` filter, or null.")
    severity: Severity | None = Field(description="The `severity` filter, or null.")


class PostmortemCounts(BaseModel):
    """Postmortems whose incident time is in the window, by their status now."""

    draft: int = Field(description="Those in `draft`.")
    in_review: int = Field(description="Those in `in_review`.")
    complete: int = Field(description="Those `complete`.")
    total: int = Field(description="All of them.")


class CompletionWithinSla(BaseModel):
    """How many postmortems were completed within 5 business days of the incident's resolution."""

    resolved: int = Field(description="Postmortems in the window with a `resolved_at`: the denominator.")
    on_time: int = Field(
        description=(
            "Of those, the ones complete with `completed_at` at or before `resolved_at` plus 5 business days "
            "(Monday to Friday in UTC, time of day kept: one calendar week after a weekday, the Friday after "
            "a weekend day). One not complete yet counts as not on time, even before its deadline."
        )
    )
    rate: float | None = Field(description="`on_time / resolved`, from 0 to 1; null when `resolved` is 0.")
    target: Target = Field(description="Above `POSTMORTEMS_STATS_SLA_TARGET` (default 0.9).")
    met: bool | None = Field(description=MET)


class TimeToPostmortem(BaseModel):
    """Time from the incident's resolution (`resolved_at`) to the postmortem's completion (`completed_at`)."""

    completed: int = Field(description="Complete postmortems in the window with a `resolved_at`: the sample.")
    median_hours: float | None = Field(description="Median, in hours (two decimals); null without a sample.")
    p90_hours: float | None = Field(
        description="90th percentile (interpolated, like `percentile_cont`), in hours; null without a sample."
    )
    target: Target = Field(
        description=(
            "The median is below `POSTMORTEMS_STATS_TIME_TO_POSTMORTEM_TARGET_BUSINESS_DAYS` business days "
            "(default 5). A business week is a calendar week, so N business days are checked as N x 7/5 x 24 "
            "hours: 5 business days are 168 hours."
        )
    )
    met: bool | None = Field(description=MET)


class IncidentDuration(BaseModel):
    count: int = Field(description="Postmortems in the window with both timestamps: the sample.")
    median_minutes: float | None = Field(description="Median, in minutes (two decimals); null without a sample.")
    mean_minutes: float | None = Field(description="Mean, in minutes (two decimals); null without a sample.")
    target: Target | None = Field(
        description="The mean is below the target set in minutes; null when none is set (the default)."
    )
    met: bool | None = Field(description=MET)


class MeanTimeToDetect(IncidentDuration):
    """MTTD: from the incident's start (`started_at`) to its detection (`detected_at`).

    Target: `POSTMORTEMS_STATS_MTTD_TARGET_MINUTES`.
    """


class MeanTimeToRestore(IncidentDuration):
    """MTTR, time to restore service: from the incident's start (`started_at`) to its resolution (`resolved_at`).

    It includes the time to detect, as the postmortem's `duration_minutes` does.
    Target: `POSTMORTEMS_STATS_MTTR_TARGET_MINUTES`.
    """


class ActionItemCompletion(BaseModel):
    """How many action items due in the window were done by their due date.

    An item is due in the window when its `due_date` is on or after the UTC date of `from` and before
    the UTC date of `to` (with the default `to`, items due today are not counted yet). Items of every
    postmortem matching `service` and `severity` count, whatever the postmortem's incident time.
    """

    due: int = Field(description="Action items due in the window: the denominator.")
    done_by_due_date: int = Field(
        description="Of those, the ones `done` with `completed_at` on or before the due date (UTC)."
    )
    rate: float | None = Field(description="`done_by_due_date / due`, from 0 to 1; null when `due` is 0.")
    target: Target = Field(description="Above `POSTMORTEMS_STATS_ACTION_ITEM_TARGET` (default 0.7).")
    met: bool | None = Field(description=MET)


class RepeatIncidents(BaseModel):
    """How many incidents repeat a failure mode seen shortly before.

    A postmortem repeats when another postmortem with the same `failure_mode` (exact match; any service
    or severity) has an incident time earlier than its own by at most 90 days. Only postmortems with a
    `failure_mode` are counted, so leaving it empty cannot lower the rate.
    """

    postmortems: int = Field(description="Postmortems in the window with a `failure_mode`: the denominator.")
    repeats: int = Field(description="Of those, the repeats.")
    rate: float | None = Field(description="`repeats / postmortems`, from 0 to 1; null when `postmortems` is 0.")
    previous_postmortems: int = Field(description="`postmortems` in the previous window (see `window`).")
    previous_repeats: int = Field(description="`repeats` in the previous window.")
    previous_rate: float | None = Field(description="`rate` in the previous window; null when it has none.")
    target: Target = Field(description="Falling: below `previous_rate`.")
    met: bool | None = Field(description="`rate` < `previous_rate`; null when either is null.")


class FailureModeCount(BaseModel):
    failure_mode: str = Field(description="The failure mode, as postmortems name it.", examples=["config-push"])
    count: int = Field(description="Postmortems in the window with this failure mode.", examples=[4])


class Stats(BaseModel):
    """How the postmortem practice is doing over a window."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "window": {
                        "from": "2025-01-01T00:00:00Z",
                        "to": "2025-04-01T00:00:00Z",
                        "previous_from": "2024-10-03T00:00:00Z",
                        "service": "checkout",
                        "severity": "P2",
                    },
                    "postmortems": {"draft": 2, "in_review": 1, "complete": 9, "total": 12},
                    "completion_within_sla": {
                        "resolved": 10,
                        "on_time": 8,
                        "rate": 0.8,
                        "target": {"comparison": "above", "value": 0.9, "unit": "ratio"},
                        "met": False,
                    },
                    "time_to_postmortem": {
                        "completed": 9,
                        "median_hours": 98.5,
                        "p90_hours": 190.25,
                        "target": {"comparison": "below", "value": 5, "unit": "business_days"},
                        "met": True,
                    },
                    "mttd": {
                        "count": 12,
                        "median_minutes": 7.0,
                        "mean_minutes": 11.5,
                        "target": {"comparison": "below", "value": 15, "unit": "minutes"},
                        "met": True,
                    },
                    "mttr": {
                        "count": 12,
                        "median_minutes": 52.0,
                        "mean_minutes": 75.25,
                        "target": {"comparison": "below", "value": 60, "unit": "minutes"},
                        "met": False,
                    },
                    "action_item_completion": {
                        "due": 20,
                        "done_by_due_date": 15,
                        "rate": 0.75,
                        "target": {"comparison": "above", "value": 0.7, "unit": "ratio"},
                        "met": True,
                    },
                    "overdue_action_items": 3,
                    "repeat_incidents": {
                        "postmortems": 10,
                        "repeats": 2,
                        "rate": 0.2,
                        "previous_postmortems": 8,
                        "previous_repeats": 3,
                        "previous_rate": 0.375,
                        "target": {"comparison": "below", "value": 0.375, "unit": "ratio"},
                        "met": True,
                    },
                    "top_failure_modes": [
                        {"failure_mode": "config-push", "count": 4},
                        {"failure_mode": "capacity", "count": 2},
                    ],
                }
            ]
        }
    )

    window: Window = Field(description="The window and filters the figures are for, defaults filled in.")
    postmortems: PostmortemCounts = Field(description="How many postmortems there are, by status.")
    completion_within_sla: CompletionWithinSla = Field(description="How many were completed within their SLA.")
    time_to_postmortem: TimeToPostmortem = Field(description="How long from resolution to a complete postmortem.")
    mttd: MeanTimeToDetect = Field(description="Mean time to detect: from `started_at` to `detected_at`.")
    mttr: MeanTimeToRestore = Field(description="Mean time to restore: from `started_at` to `resolved_at`.")
    action_item_completion: ActionItemCompletion = Field(description="How many action items were done on time.")
    overdue_action_items: int = Field(
        description=(
            "Action items open or in progress whose due date is before today (UTC), of postmortems matching "
            "`service` and `severity`, whatever the window: the same items as `/v1/action-items?overdue=true`."
        )
    )
    repeat_incidents: RepeatIncidents = Field(description="How often a failure mode came back.")
    top_failure_modes: list[FailureModeCount] = Field(
        description=f"The {TOP_FAILURE_MODES} most frequent failure modes in the window: by count, then by name."
    )
