"""The review workflow: draft -> in_review -> complete, and the guards on each step.

    submit           draft     -> in_review   content guards (standard or quick template)
    request-changes  in_review -> draft       needs a comment; clears approvals
    approve          in_review -> in_review   once per approver name
    complete         in_review -> complete    content guards + approvals + action item details
    reopen           complete  -> in_review   admin only

A refused step raises Conflict listing every unmet requirement, not just the first.
"""

from collections.abc import Collection, Mapping
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items import service as action_items_service
from service.auth.models import Principal
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import Conflict, FieldError
from service.core.pagination import PageParams, page_by_id
from service.core.problems import field_error_body
from service.events import changes
from service.postmortems import reads
from service.postmortems.enums import Severity, Status, Template
from service.postmortems.models import Impact, Postmortem, Readiness, Transition
from service.review import service as review_service
from service.review.models import Rule
from service.sync import service as sync_service
from service.timeline import service as timeline_service
from service.timeline import suggestions


class Action(StrEnum):
    SUBMIT = "submit"
    REQUEST_CHANGES = "request-changes"
    APPROVE = "approve"
    COMPLETE = "complete"
    REOPEN = "reopen"


TRANSITIONS: dict[Action, tuple[Status, Status]] = {
    Action.SUBMIT: (Status.DRAFT, Status.IN_REVIEW),
    Action.REQUEST_CHANGES: (Status.IN_REVIEW, Status.DRAFT),
    Action.APPROVE: (Status.IN_REVIEW, Status.IN_REVIEW),
    Action.COMPLETE: (Status.IN_REVIEW, Status.COMPLETE),
    Action.REOPEN: (Status.COMPLETE, Status.IN_REVIEW),
}
NEXT_ACTION: dict[Status, Action | None] = {
    Status.DRAFT: Action.SUBMIT,
    Status.IN_REVIEW: Action.COMPLETE,
    Status.COMPLETE: None,
}


FIELD_NOUNS = {"owner": "an owner", "priority": "a priority", "due_date": "a due date"}


def _required(field: str, message: str) -> FieldError:
    return FieldError(field, message, "required", "resource")


async def submission_errors(session: AsyncSession, postmortem: Postmortem) -> list[FieldError]:
    """What the template requires before review: standard needs the full story, quick the essentials."""
    errors = []
    if not (postmortem.summary or "").strip():
        errors.append(_required("summary", "a summary is required"))
    if not (postmortem.root_cause or "").strip():
        errors.append(_required("root_cause", "a root cause is required"))
    if postmortem.template is Template.STANDARD:
        if postmortem.started_at is None:
            errors.append(_required("started_at", "when the incident started is required"))
        if postmortem.resolved_at is None:
            errors.append(_required("resolved_at", "when the incident was resolved is required"))
        if postmortem.impact is None or Impact.model_validate(postmortem.impact).is_empty():
            errors.append(_required("impact", "the impact is required"))
        if await timeline_service.count(session, postmortem.id) == 0:
            errors.append(_required("timeline", "at least one timeline event is required"))
    if not await action_items_service.list_for_postmortem(session, postmortem.id):
        errors.append(_required("action_items", "at least one action item is required"))
    errors.sort(key=lambda error: error.field)
    return errors


async def completion_errors(
    session: AsyncSession,
    postmortem: Postmortem,
    required_approvals: Mapping[Severity, int],
    blocking_rules: Collection[Rule] = (),
) -> list[FieldError]:
    """The submission requirements, approvals, action item details, and no `error` finding of `blocking_rules`."""
    errors = await submission_errors(session, postmortem)
    needed = required_approvals[postmortem.severity]
    approvals = len(postmortem.approvals)
    if approvals < needed:
        errors.append(
            FieldError("approvals", f"{needed} approval(s) required, {approvals} given", "insufficient", "resource")
        )
    for item in await action_items_service.list_for_postmortem(session, postmortem.id):
        for field in ("owner", "priority", "due_date"):
            if getattr(item, field) is None:
                errors.append(
                    _required(
                        f"action_items[{item.id}].{field}", f"action item {item.title!r} needs {FIELD_NOUNS[field]}"
                    )
                )
    errors += await review_service.blocking_errors(session, postmortem, blocking_rules)
    return errors


async def readiness(
    session: AsyncSession,
    postmortem: Postmortem,
    required_approvals: Mapping[Severity, int],
    blocking_rules: Collection[Rule] = (),
) -> Readiness:
    """The checklist of the next forward step, without taking it."""
    action = NEXT_ACTION[postmortem.status]
    errors: list[FieldError] = []
    if action is Action.SUBMIT:
        errors = await submission_errors(session, postmortem)
    elif action is Action.COMPLETE:
        errors = await completion_errors(session, postmortem, required_approvals, blocking_rules)
    suggested = None
    if postmortem.status is not Status.COMPLETE:  # frozen: nothing could be sent as a PATCH
        times = await suggestions.for_postmortem(session, postmortem)
        suggested = times if times.model_dump() else None  # left out when it holds no time
    return Readiness.model_validate(
        {
            "status": postmortem.status,
            "next_action": action,
            "ready": action is not None and not errors,
            "errors": [field_error_body(error) for error in errors],
            "suggested_times": suggested,
        }
    )


async def apply(
    unit: UnitOfWork,
    postmortem: Postmortem,
    action: Action,
    principal: Principal,
    *,
    required_approvals: Mapping[Severity, int],
    blocking_rules: Collection[Rule] = (),
    comment: str | None = None,
) -> Postmortem:
    session = await unit.session()
    source, target = TRANSITIONS[action]
    if postmortem.status is not source:
        raise Conflict(
            f"cannot {action.value} a postmortem that is {postmortem.status.value}",
            [FieldError("status", f"must be {source.value}", "invalid_transition", "resource")],
        )
    if action is Action.SUBMIT:
        await _refuse_if_unmet(action, await submission_errors(session, postmortem))
    elif action is Action.COMPLETE:
        errors = await completion_errors(session, postmortem, required_approvals, blocking_rules)
        await _refuse_if_unmet(action, errors)
    elif action is Action.APPROVE:
        _record_approval(postmortem, principal)
    elif action is Action.REQUEST_CHANGES:
        postmortem.approvals = []

    now = utc_now()
    if action is Action.SUBMIT:
        postmortem.submitted_at = now
    elif action is Action.COMPLETE:
        postmortem.completed_at = now
    elif action is Action.REOPEN:
        postmortem.completed_at = None
    postmortem.status = target
    postmortem.updated_at = now
    if action is Action.COMPLETE:
        await sync_service.on_postmortem_completed(unit, postmortem)
    session.add(
        Transition(
            postmortem_id=postmortem.id,
            action=action.value,
            from_status=source,
            to_status=target,
            actor=principal.name,
            comment=comment,
            at=now,
        )
    )
    await session.flush()
    changed = await reads.read_changed(unit, postmortem)
    if source is not target:
        await changes.postmortem_status_changed(unit, changed, source, action=action.value, actor=principal)
    else:  # an approval
        await changes.postmortem_updated(unit, changed, ["approvals"], actor=principal)
    return postmortem


async def _refuse_if_unmet(action: Action, errors: list[FieldError]) -> None:
    if errors:
        raise Conflict(f"cannot {action.value}: {len(errors)} requirement(s) unmet", errors)


def _record_approval(postmortem: Postmortem, principal: Principal) -> None:
    if any(approval["name"] == principal.name for approval in postmortem.approvals):
        raise Conflict(
            f"{principal.name!r} has already approved this postmortem",
            [FieldError("approvals", f"already approved by {principal.name}", "duplicate_approval", "resource")],
        )
    approval = {"name": principal.name, "approved_at": utc_now().isoformat()}
    postmortem.approvals = [*postmortem.approvals, approval]


async def history(
    session: AsyncSession, postmortem: Postmortem, page: PageParams
) -> tuple[list[Transition], str | None]:
    """Oldest first."""
    statement = select(Transition).where(col(Transition.postmortem_id) == postmortem.id)
    return await page_by_id(session, statement, col(Transition.id), page)
