"""When a postmortem is owed: a pure policy over an incident's facts, and the repeat lookup it needs."""

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.clock import utc_now
from service.core.errors import FieldError, Unprocessable
from service.policy.enums import NearMissPotential, ReasonCode
from service.policy.models import IncidentFacts, PolicyDecision, Reason
from service.postmortems.enums import Template
from service.postmortems.models import Postmortem
from service.postmortems.service import default_template
from service.settings import Settings

MAX_RELATED = 10


def evaluate(facts: IncidentFacts, settings: Settings, repeat_found: bool) -> PolicyDecision:
    """Whether a postmortem is owed, with which template, and every rule in force that says so.

    The template is the one a postmortem of that severity gets by default (`quick` for P3, else
    `standard`), except that a reason in `policy_standard_reasons` calls for `standard` at any severity.
    """
    applies = {
        ReasonCode.SEVERITY: facts.severity in settings.policy_severities,
        ReasonCode.DURATION: facts.duration_minutes > settings.policy_max_duration_minutes,
        ReasonCode.CUSTOMER_IMPACT: facts.customer_facing,
        ReasonCode.DATA_LOSS: facts.data_loss,
        ReasonCode.SECURITY: facts.security_involved,
        ReasonCode.NEAR_MISS: facts.near_miss and facts.near_miss_potential is NearMissPotential.HIGH,
        ReasonCode.REPEAT: repeat_found,
    }
    codes = [code for code, applied in applies.items() if applied and code in settings.policy_rules]
    if not codes:
        return PolicyDecision(required=False, template=None, reasons=[])
    template = (
        Template.STANDARD if settings.policy_standard_reasons.intersection(codes) else default_template(facts.severity)
    )
    reasons = [Reason(code=code, message=_message(code, facts, settings)) for code in codes]
    return PolicyDecision(required=True, template=template, reasons=reasons)


def _message(code: ReasonCode, facts: IncidentFacts, settings: Settings) -> str:
    match code:
        case ReasonCode.SEVERITY:
            return f"{facts.severity.value} incidents always owe a postmortem."
        case ReasonCode.DURATION:
            return f"It lasted {facts.duration_minutes} minutes, longer than {settings.policy_max_duration_minutes}."
        case ReasonCode.CUSTOMER_IMPACT:
            return "Customers were affected."
        case ReasonCode.DATA_LOSS:
            return "Data was lost or corrupted."
        case ReasonCode.SECURITY:
            return "Security was involved."
        case ReasonCode.NEAR_MISS:
            return "A near miss that could have done serious harm."
        case ReasonCode.REPEAT:
            return (
                f"Failure mode {facts.failure_mode!r} already has a postmortem "
                f"from the last {settings.policy_repeat_window_days} days."
            )


def check(facts: IncidentFacts) -> None:
    """Rules across fields that the schema cannot state."""
    if facts.near_miss and facts.near_miss_potential is None:
        raise Unprocessable(
            "1 field is invalid",
            [FieldError("near_miss_potential", "is required when near_miss is true", "missing")],
        )


async def find_repeats(session: AsyncSession, failure_mode: str, *, window_days: int) -> list[uuid.UUID]:
    """Postmortems with this failure mode whose incident began within the window, newest first.

    An incident's time is its `started_at`, or when its postmortem was written if that is not known.
    """
    occurred_at = sa.func.coalesce(col(Postmortem.started_at), col(Postmortem.created_at))
    statement = (
        select(col(Postmortem.id))
        .where(col(Postmortem.failure_mode) == failure_mode, occurred_at >= utc_now() - timedelta(days=window_days))
        .order_by(occurred_at.desc(), col(Postmortem.id).desc())
        .limit(MAX_RELATED)
    )
    return list((await session.exec(statement)).all())


async def decide(session: AsyncSession, facts: IncidentFacts, settings: Settings) -> PolicyDecision:
    """`evaluate`, with the repeat looked up in the database when the failure mode is given."""
    check(facts)
    related = (
        []
        if facts.failure_mode is None
        else await find_repeats(session, facts.failure_mode, window_days=settings.policy_repeat_window_days)
    )
    decision = evaluate(facts, settings, repeat_found=bool(related))
    return decision.model_copy(update={"related_postmortem_ids": related})
