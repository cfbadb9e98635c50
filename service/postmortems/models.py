import uuid
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, computed_field
from sqlmodel import Field as SQLField
from sqlmodel import col

from service.core.base import IdMixin, TimestampMixin, version_column
from service.core.clock import utc_now
from service.core.problems import ProblemFieldError
from service.core.schemas import (
    InputModel,
    Label,
    LongText,
    OutputModel,
    ShortText,
    UTCTimestamp,
    WholeNumber,
    describe_fields,
)
from service.core.types import JSONValue, UTCDateTime, enum_type
from service.postmortems import deadlines
from service.postmortems.enums import Severity, Status, Template
from service.timeline.models import SuggestedTimes

ListItem = Annotated[str, Field(min_length=1, max_length=2_000)]
Labels = Annotated[list[Label], Field(max_length=50)]
ListItems = Annotated[list[ListItem], Field(max_length=100)]
IncidentRef = Annotated[str, Field(max_length=500, examples=["INC-4711"])]

TIMESTAMP_FIELDS = ("started_at", "detected_at", "mitigated_at", "resolved_at")


class Impact(InputModel):
    users_affected: WholeNumber | None = Field(default=None, ge=0, le=10**12, examples=[12000])
    revenue_impact: str | None = Field(default=None, max_length=500, examples=["~$4k in failed orders"])
    sla_impact: str | None = Field(default=None, max_length=500, examples=["99.9% monthly SLA breached"])
    description: str | None = Field(default=None, max_length=20_000)

    def is_empty(self) -> bool:
        return all(value in (None, "") for value in self.model_dump().values())


class FiveWhy(InputModel):
    question: str = Field(min_length=1, max_length=2_000, examples=["Why did checkout fail?"])
    answer: str = Field(min_length=1, max_length=2_000, examples=["The payment client timed out."])


class Link(InputModel):
    title: str = Field(
        min_length=1, max_length=200, description="What the link leads to.", examples=["Latency dashboard"]
    )
    url: str = Field(pattern=r"^https?://\S+$", max_length=2_000, examples=["https://grafana.example.com/d/abc"])


class ReviewMeeting(InputModel):
    """The meeting where reviewers discuss the postmortem; reviewers need the draft a day ahead."""

    scheduled_at: UTCTimestamp = Field(examples=["2025-01-17T14:00:00Z"])
    facilitator: Label | None = Field(
        default=None, description="Runs the meeting; should not be one of the authors.", examples=["carol"]
    )
    attendees: Labels = Field(default_factory=list, examples=[["alice", "bob", "dave"]])
    notes: LongText | None = None


class Unknown(StrEnum):
    """The one value besides true and false of `customer_data_affected`: a named schema, so SDKs type it."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


def _true_false_or_unknown(value: Any) -> Any:
    """Only JSON true, false or "unknown": not 1, "yes" or "true", which pydantic would otherwise coerce."""
    if value is True or value is False or value == UNKNOWN:
        return value
    raise ValueError('must be true, false or "unknown"')


CustomerDataAffected = Annotated[
    bool | Unknown,
    BeforeValidator(_true_false_or_unknown),
    Field(
        description='Whether customer data was affected: `true`, `false` or `"unknown"` (the default); '
        "stated in the public incident report.",
        examples=[False],
    ),
]


class PostmortemContent(BaseModel):
    """Fields a postmortem's authors write; all optional while it is a draft."""

    incident_ref: IncidentRef | None = None
    authors: Labels = Field(default_factory=list, examples=[["alice", "bob"]])
    services: Labels = Field(default_factory=list, examples=[["checkout"]])
    tags: Labels = Field(default_factory=list, examples=[["payments"]])
    started_at: UTCTimestamp | None = None
    detected_at: UTCTimestamp | None = None
    mitigated_at: UTCTimestamp | None = None
    resolved_at: UTCTimestamp | None = None
    summary: LongText | None = None
    impact: Impact | None = None
    root_cause: LongText | None = None
    five_whys: Annotated[list[FiveWhy], Field(max_length=20)] = Field(default_factory=list)
    contributing_factors: ListItems = Field(default_factory=list)
    what_went_well: ListItems = Field(default_factory=list)
    what_went_poorly: ListItems = Field(default_factory=list)
    lessons_learned: LongText | None = None
    failure_mode: Label | None = Field(default=None, examples=["config-push"])
    related_postmortem_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = Field(default_factory=list)
    links: Annotated[list[Link], Field(max_length=50)] = Field(default_factory=list)
    customer_data_affected: CustomerDataAffected = UNKNOWN
    review_meeting: ReviewMeeting | None = None
    integration_id: uuid.UUID | None = Field(
        default=None, description="Tracker for this postmortem's action items; default: the default integration."
    )


class PostmortemCreate(PostmortemContent, InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Checkout outage after config push",
                    "severity": "P1",
                    "template": "standard",
                    "incident_ref": "INC-4711",
                    "authors": ["alice", "bob"],
                    "services": ["checkout", "payments"],
                    "tags": ["config", "payments"],
                    "started_at": "2025-01-15T08:50:00Z",
                    "detected_at": "2025-01-15T09:00:00Z",
                    "mitigated_at": "2025-01-15T09:20:00Z",
                    "resolved_at": "2025-01-15T09:35:00Z",
                    "summary": "Checkout failed for 45 minutes after a config push set the payment timeout to 0.",
                    "impact": {
                        "users_affected": 12000,
                        "revenue_impact": "~$4k in failed orders",
                        "sla_impact": "99.9% monthly SLA breached",
                        "description": "Every card payment at checkout failed with a 500.",
                    },
                    "root_cause": "A config push set the payment client's timeout to 0, so every call failed at once.",
                    "five_whys": [
                        {"question": "Why did checkout fail?", "answer": "The payment client timed out."},
                        {"question": "Why did it time out?", "answer": "A config push set its timeout to 0."},
                        {"question": "Why was a timeout of 0 accepted?", "answer": "Config pushes are not validated."},
                    ],
                    "contributing_factors": ["No canary stage for config pushes"],
                    "what_went_well": ["The rollback took two minutes once started"],
                    "what_went_poorly": ["The error-rate alert fired ten minutes after errors began"],
                    "lessons_learned": "Config is code: it needs the same review and canary as a deploy.",
                    "failure_mode": "config-push",
                    "related_postmortem_ids": [],
                    "links": [
                        {"title": "Latency dashboard", "url": "https://grafana.example.com/d/abc"},
                        {"title": "Incident channel", "url": "https://chat.example.com/archives/C04INC4711"},
                    ],
                }
            ]
        }
    )

    title: ShortText = Field(examples=["Checkout outage after config push"])
    severity: Severity
    template: Template | None = Field(default=None, description="Defaults to `quick` for P3, else `standard`.")


class PostmortemUpdate(InputModel):
    """Partial update: only the fields sent change; `null` clears an optional field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mitigated_at": "2025-01-15T09:20:00Z",
                    "resolved_at": "2025-01-15T09:35:00Z",
                    "root_cause": "A config push set the payment client's timeout to 0, so every call failed at once.",
                    "what_went_poorly": ["The error-rate alert fired ten minutes after errors began"],
                    "tags": ["config", "payments", "alerting"],
                }
            ]
        }
    )

    title: ShortText | None = None
    severity: Severity | None = None
    template: Template | None = None
    incident_ref: IncidentRef | None = None
    authors: Labels | None = None
    services: Labels | None = None
    tags: Labels | None = None
    started_at: UTCTimestamp | None = None
    detected_at: UTCTimestamp | None = None
    mitigated_at: UTCTimestamp | None = None
    resolved_at: UTCTimestamp | None = None
    summary: LongText | None = None
    impact: Impact | None = None
    root_cause: LongText | None = None
    five_whys: Annotated[list[FiveWhy], Field(max_length=20)] | None = None
    contributing_factors: ListItems | None = None
    what_went_well: ListItems | None = None
    what_went_poorly: ListItems | None = None
    lessons_learned: LongText | None = None
    failure_mode: Label | None = None
    related_postmortem_ids: Annotated[list[uuid.UUID], Field(max_length=50)] | None = None
    links: Annotated[list[Link], Field(max_length=50)] | None = None
    customer_data_affected: CustomerDataAffected | None = None
    review_meeting: ReviewMeeting | None = None
    integration_id: uuid.UUID | None = None

    non_nullable = frozenset(
        {
            "title",
            "severity",
            "template",
            "authors",
            "services",
            "tags",
            "five_whys",
            "contributing_factors",
            "what_went_well",
            "what_went_poorly",
            "related_postmortem_ids",
            "links",
            "customer_data_affected",
        }
    )


_version = version_column()


class Postmortem(IdMixin, TimestampMixin, table=True):
    __tablename__ = "postmortem"
    __mapper_args__ = {"version_id_col": _version}  # noqa: RUF012

    title: str = SQLField(max_length=200)
    severity: Severity = SQLField(sa_type=enum_type(Severity), index=True)
    template: Template = SQLField(sa_type=enum_type(Template))
    status: Status = SQLField(sa_type=enum_type(Status), index=True)
    incident_ref: str | None = SQLField(default=None, max_length=500)
    authors: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    services: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    tags: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    started_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    detected_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    mitigated_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime, index=True)
    summary: str | None = SQLField(default=None, sa_type=sa.Text)
    impact: dict[str, Any] | None = SQLField(default=None, sa_type=JSONValue)
    root_cause: str | None = SQLField(default=None, sa_type=sa.Text)
    five_whys: list[dict[str, str]] = SQLField(default_factory=list, sa_type=JSONValue)
    contributing_factors: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    what_went_well: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    what_went_poorly: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    lessons_learned: str | None = SQLField(default=None, sa_type=sa.Text)
    failure_mode: str | None = SQLField(default=None, max_length=100)
    related_postmortem_ids: list[str] = SQLField(default_factory=list, sa_type=JSONValue)
    links: list[dict[str, str]] = SQLField(default_factory=list, sa_type=JSONValue)
    customer_data_affected: bool | None = SQLField(default=None, description="null: unknown.")
    review_meeting: dict[str, Any] | None = SQLField(default=None, sa_type=JSONValue)
    integration_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="integration.id", ondelete="SET NULL", index=True
    )
    approvals: list[dict[str, str]] = SQLField(
        default_factory=list,
        sa_type=JSONValue,
        description="[{name, approved_at}]: few, always read with the postmortem, written under its row lock.",
    )
    submitted_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    version: int = SQLField(sa_column=_version)


INCIDENT_AT = sa.func.coalesce(col(Postmortem.started_at), col(Postmortem.resolved_at), col(Postmortem.created_at))
"""When the incident happened, as its postmortem tells: `started_at`, else `resolved_at`, else `created_at`."""


class Transition(IdMixin, table=True):
    """One step of the review workflow: who moved the postmortem where, and when."""

    __tablename__ = "transition"

    postmortem_id: uuid.UUID = SQLField(foreign_key="postmortem.id", ondelete="CASCADE", index=True)
    action: str = SQLField(max_length=20)
    from_status: Status = SQLField(sa_type=enum_type(Status))
    to_status: Status = SQLField(sa_type=enum_type(Status))
    actor: str = SQLField(max_length=100)
    comment: str | None = SQLField(default=None, sa_type=sa.Text)
    at: datetime = SQLField(sa_type=UTCDateTime)


class ApprovalRead(OutputModel):
    name: str = Field(description="Name of the API key that approved.")
    approved_at: datetime


class ActionItemsSummary(BaseModel):
    total: int
    open: int = Field(description="Items that are open or in progress.")
    done: int
    overdue: int = Field(description="Open or in-progress items whose due date has passed.")


def _minutes_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() // 60)


class PostmortemRead(PostmortemContent, OutputModel):
    id: uuid.UUID
    title: str
    severity: Severity
    template: Template
    status: Status
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    completed_at: datetime | None
    version: int
    approvals: list[ApprovalRead]
    action_items_summary: ActionItemsSummary

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_minutes(self) -> int | None:
        """Minutes from started_at to resolved_at."""
        return _minutes_between(self.started_at, self.resolved_at)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def time_to_detect_minutes(self) -> int | None:
        """Minutes from started_at to detected_at."""
        return _minutes_between(self.started_at, self.detected_at)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def time_to_resolve_minutes(self) -> int | None:
        """Minutes from detected_at to resolved_at."""
        return _minutes_between(self.detected_at, self.resolved_at)

    # The one instant every overdue flag is judged at, so that the flags agree with each other.
    _as_of: datetime = PrivateAttr(default_factory=utc_now)

    @cached_property
    def _schedule(self) -> deadlines.Schedule:
        return deadlines.schedule(self.status, self.resolved_at, self._as_of)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def draft_due_at(self) -> datetime | None:
        """When the draft is due: resolved_at + 24 hours; null while resolved_at is null."""
        return self._schedule.draft_due_at

    @computed_field  # type: ignore[prop-decorator]
    @property
    def review_due_at(self) -> datetime | None:
        """When the review is due: resolved_at + 72 hours; null while resolved_at is null."""
        return self._schedule.review_due_at

    @computed_field  # type: ignore[prop-decorator]
    @property
    def complete_due_at(self) -> datetime | None:
        """When completion is due: resolved_at + 5 business days (Monday to Friday in UTC, same time of day;
        from a Saturday or Sunday the first day counted is Monday); null while resolved_at is null."""
        return self._schedule.complete_due_at

    @computed_field  # type: ignore[prop-decorator]
    @property
    def draft_overdue(self) -> bool:
        """Status is `draft` and now is past draft_due_at; false while resolved_at is null."""
        return self._schedule.draft_overdue

    @computed_field  # type: ignore[prop-decorator]
    @property
    def review_overdue(self) -> bool:
        """Status is not `complete` and now is past review_due_at; false while resolved_at is null."""
        return self._schedule.review_overdue

    @computed_field  # type: ignore[prop-decorator]
    @property
    def complete_overdue(self) -> bool:
        """Status is not `complete` and now is past complete_due_at; false while resolved_at is null."""
        return self._schedule.complete_overdue

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        """Any of draft_overdue, review_overdue and complete_overdue; a complete postmortem is never overdue.
        `GET /v1/postmortems?overdue=true` lists these."""
        return self._schedule.overdue


class TransitionRead(OutputModel):
    id: uuid.UUID
    action: str
    from_status: Status
    to_status: Status
    actor: str
    comment: str | None = Field(description="The reviewer's comment on a `request-changes` step; else null.")
    at: datetime


class ChangeRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"comment": "Add the ten-minute detection gap to the timeline and an action item for it."}]
        }
    )

    comment: str = Field(
        min_length=1,
        max_length=20_000,
        description="What the authors should change.",
        examples=["Add the detection gap to the timeline."],
    )


class Readiness(BaseModel):
    status: Status
    next_action: str | None = Field(description="`submit`, `complete`, or null when complete.")
    ready: bool
    errors: list[ProblemFieldError] = Field(description="Every unmet requirement of the next action.")
    suggested_times: SuggestedTimes | None = Field(
        default=None,
        exclude_if=lambda suggested: suggested is None,
        description="Times the timeline suggests for the postmortem's empty `started_at`, `detected_at`, "
        "`mitigated_at` and `resolved_at`, to send as-is in one PATCH; absent when it suggests none, or when complete.",
    )


FIELD_DESCRIPTIONS = {
    # Impact
    "users_affected": "How many users the incident affected, as a whole number.",
    "revenue_impact": "Revenue lost or at risk, in words and figures.",
    "sla_impact": "Which SLA or SLO the incident breached or used up, and by how much.",
    "description": "What users saw, in prose.",
    # FiveWhy
    "question": "A why-question, starting from the failure users saw.",
    "answer": "Its answer: the cause one level deeper, which the next question asks about.",
    # Link
    "url": "An http(s) URL.",
    # ReviewMeeting
    "scheduled_at": "When the review meeting starts (RFC 3339 with an offset; returned in UTC).",
    "attendees": "Who attends the review meeting.",
    "notes": "Agenda or notes of the review meeting.",
    # ApprovalRead
    "approved_at": "When the approval was given (UTC).",
    # ActionItemsSummary
    "total": "Every action item of the postmortem.",
    "done": "Items that are done.",
    # Postmortem content
    "title": "A short title of the incident.",
    "severity": "The incident's severity, P1 the most severe.",
    "template": "`standard`, or `quick` (shorter, for minor incidents); decides what submitting requires.",
    "status": "Where the postmortem is in the review workflow: draft -> in_review -> complete.",
    "incident_ref": "The incident's id in the incident-management tool.",
    "authors": "Who wrote the postmortem.",
    "services": "The services the incident affected.",
    "tags": "Free labels for finding the postmortem later.",
    "started_at": "When the incident started (RFC 3339 with an offset; returned in UTC).",
    "detected_at": "When the incident was detected (RFC 3339 with an offset; returned in UTC).",
    "mitigated_at": "When users stopped being affected (RFC 3339 with an offset; returned in UTC).",
    "resolved_at": "When the incident was resolved (RFC 3339 with an offset; returned in UTC); deadlines count "
    "from it.",
    "summary": "What happened, in a few sentences.",
    "impact": "Who and what the incident affected, with figures.",
    "root_cause": "The underlying cause: what in the system allowed the failure, not who slipped.",
    "five_whys": "The chain of why-questions from the failure to its root cause, in order.",
    "contributing_factors": "Conditions that made the incident more likely or worse.",
    "what_went_well": "What helped during the incident.",
    "what_went_poorly": "What hindered during the incident.",
    "lessons_learned": "What the organisation learned, in prose.",
    "failure_mode": "A short name of the kind of failure, shared by repeat incidents (e.g. `config-push`).",
    "related_postmortem_ids": "Ids of other postmortems about related incidents.",
    "links": "Dashboards, chat channels and documents about the incident.",
    "review_meeting": "The review meeting, once it is planned; null clears it.",
    "integration_id": "Tracker for this postmortem's action items; null for the default integration.",
    # PostmortemRead
    "id": "The postmortem's id (a UUIDv7, so ids sort in creation order).",
    "created_at": "When the postmortem was created (UTC).",
    "updated_at": "When the postmortem's own fields last changed (UTC).",
    "submitted_at": "When the postmortem was last submitted for review (UTC); null before.",
    "completed_at": "When the postmortem was completed (UTC); null unless complete.",
    "version": "How many times the postmortem's own fields have been written; starts at 1.",
    "approvals": "The approvals given since the last submission, one per API key name.",
    "action_items_summary": "Counts of the postmortem's action items.",
    # TransitionRead
    "action": "The workflow step taken: `submit`, `request-changes`, `approve`, `complete` or `reopen`.",
    "from_status": "The status before the step.",
    "to_status": "The status after the step.",
    "actor": "Name of the API key that took the step.",
    "at": "When the step was taken (UTC).",
    # Readiness
    "ready": "Whether the next action would succeed now.",
}
"""What the fields of this module's models mean, by name (`service.core.schemas.describe_fields`)."""

describe_fields(
    FIELD_DESCRIPTIONS,
    Impact,
    FiveWhy,
    Link,
    ReviewMeeting,
    ApprovalRead,
    ActionItemsSummary,
    PostmortemCreate,
    PostmortemUpdate,
    PostmortemRead,
    TransitionRead,
    ChangeRequest,
    Readiness,
)
