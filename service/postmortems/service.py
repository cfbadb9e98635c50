import uuid
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.clock import utc_now
from service.core.errors import Conflict, FieldError, NotFound, Unprocessable
from service.core.etag import check_if_match
from service.integrations import service as integrations_service
from service.postmortems.enums import Severity, Status, Template
from service.postmortems.freeze import ensure_editable
from service.postmortems.models import (
    TIMESTAMP_FIELDS,
    UNKNOWN,
    Postmortem,
    PostmortemCreate,
    PostmortemUpdate,
)


def default_template(severity: Severity) -> Template:
    return Template.QUICK if severity is Severity.P3 else Template.STANDARD


async def create(session: AsyncSession, postmortem_in: PostmortemCreate) -> Postmortem:
    values = _to_columns(postmortem_in.model_dump())
    values["template"] = postmortem_in.template or default_template(postmortem_in.severity)
    postmortem = Postmortem(**values, status=Status.DRAFT)
    await _validate(session, postmortem)
    session.add(postmortem)
    await session.flush()
    return postmortem


async def get(session: AsyncSession, postmortem_id: uuid.UUID, *, for_update: bool = False) -> Postmortem:
    """The postmortem, locked against concurrent writers when `for_update` (PostgreSQL)."""
    statement = select(Postmortem).where(col(Postmortem.id) == postmortem_id)
    if for_update:
        statement = statement.with_for_update()
    postmortem = (await session.exec(statement)).first()
    if postmortem is None:
        raise NotFound(f"postmortem {postmortem_id} does not exist")
    return postmortem


async def update(
    session: AsyncSession, postmortem: Postmortem, changes: PostmortemUpdate, *, if_match: str | None
) -> Postmortem:
    check_if_match(if_match, postmortem.version)
    ensure_editable(postmortem)
    for name, value in _to_columns(changes.model_dump(exclude_unset=True)).items():
        setattr(postmortem, name, value)
    await _validate(session, postmortem)
    postmortem.updated_at = utc_now()
    await session.flush()
    return postmortem


async def delete(session: AsyncSession, postmortem: Postmortem, *, if_match: str | None) -> None:
    check_if_match(if_match, postmortem.version)
    if postmortem.status is not Status.DRAFT:
        raise Conflict(
            f"only drafts can be deleted; this postmortem is {postmortem.status.value}",
            [FieldError("status", f"is {postmortem.status.value}", "not_draft", "resource")],
        )
    await session.delete(postmortem)
    await session.flush()


def _to_columns(values: dict[str, Any]) -> dict[str, Any]:
    """API values as stored: `customer_data_affected` "unknown" is NULL."""
    if values.get("customer_data_affected") == UNKNOWN:
        values["customer_data_affected"] = None
    return values


async def _validate(session: AsyncSession, postmortem: Postmortem) -> None:
    errors = _timestamp_order_errors(postmortem) + await _related_id_errors(session, postmortem)
    if errors:
        raise Unprocessable(f"{len(errors)} field{' is' if len(errors) == 1 else 's are'} invalid", errors)
    await integrations_service.ensure_exists(session, postmortem.integration_id)


def _timestamp_order_errors(postmortem: Postmortem) -> list[FieldError]:
    """started_at <= detected_at <= mitigated_at <= resolved_at, among those given."""
    given: list[tuple[str, datetime]] = [
        (name, value) for name in TIMESTAMP_FIELDS if (value := getattr(postmortem, name)) is not None
    ]
    errors = []
    for (earlier_name, earlier), (later_name, later) in pairwise(given):
        if later < earlier:
            errors.append(FieldError(later_name, f"must not be before {earlier_name}", "out_of_order"))
    return errors


async def _related_id_errors(session: AsyncSession, postmortem: Postmortem) -> list[FieldError]:
    related = {uuid.UUID(str(value)) for value in postmortem.related_postmortem_ids}
    if not related:
        return []
    if postmortem.id in related:
        return [FieldError("related_postmortem_ids", "must not list the postmortem itself", "self_reference")]
    found = set((await session.exec(select(Postmortem.id).where(col(Postmortem.id).in_(related)))).all())
    return [
        FieldError("related_postmortem_ids", f"postmortem {missing} does not exist", "unknown_id")
        for missing in sorted(related - found, key=str)
    ]
