"""Writing postmortems: create, change and delete, with the checks that keep a postmortem consistent.

Create and update are the writes portals and bots make all day, so they run as prebuilt
statements: an update locks and reads the row (with its action-item summary, for the answer) in
one statement and writes only the columns sent in another.
"""

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.auth.models import Principal
from service.core.base import new_id
from service.core.clock import utc_now, utc_today
from service.core.database import UnitOfWork
from service.core.errors import Conflict, FieldError, NotFound, Unprocessable
from service.core.etag import check_if_match
from service.core.sql import Statement, param
from service.events import changes
from service.integrations import service as integrations_service
from service.postmortems import reads
from service.postmortems.enums import Severity, Status, Template
from service.postmortems.freeze import ensure_editable
from service.postmortems.models import (
    TIMESTAMP_FIELDS,
    UNKNOWN,
    Postmortem,
    PostmortemCreate,
    PostmortemRead,
    PostmortemUpdate,
)

_postmortems = Postmortem.__table__  # type: ignore[attr-defined]
_INSERT = Statement(
    sa.insert(_postmortems)
    .values({column.key: param(column.key) for column in _postmortems.c})
    .returning(*_postmortems.c)
)
_LOCKED = Statement(reads.READ.where(_postmortems.c.id == param("id")).with_for_update(of=_postmortems))
NO_ITEMS = dict.fromkeys(reads.SUMMARY_KEYS, 0)


def default_template(severity: Severity) -> Template:
    return Template.QUICK if severity is Severity.P3 else Template.STANDARD


async def create(unit: UnitOfWork, postmortem_in: PostmortemCreate, *, actor: Principal | None) -> PostmortemRead:
    """A new draft; it has no action items yet, so its summary is known without asking."""
    now = utc_now()
    values = _to_columns(postmortem_in.model_dump()) | {
        "id": new_id(),
        "template": postmortem_in.template or default_template(postmortem_in.severity),
        "status": Status.DRAFT,
        "approvals": [],
        "submitted_at": None,
        "completed_at": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    await _validate(unit, values, changed=values.keys())
    row = await _INSERT.one(unit, **values)
    created = reads.from_row(row | NO_ITEMS)
    await changes.postmortem_created(unit, created, actor=actor)
    return created


async def update(
    unit: UnitOfWork,
    postmortem_id: uuid.UUID,
    postmortem_in: PostmortemUpdate,
    *,
    if_match: str | None,
    actor: Principal | None,
) -> PostmortemRead:
    """Change the fields sent, under the row's lock; the version moves on."""
    current = await _LOCKED.one_or_none(unit, id=postmortem_id, today=utc_today())
    if current is None:
        raise NotFound(f"postmortem {postmortem_id} does not exist")
    await check_if_match(if_match, lambda: reads.from_row(dict(current)))
    ensure_editable(current["status"])
    values = _to_columns(postmortem_in.model_dump(exclude_unset=True))
    await _validate(unit, current | values, changed=values.keys())
    row = await _update_statement(frozenset(values)).one(unit, id=postmortem_id, updated_at=utc_now(), **values)
    updated = reads.from_row(current | row)
    changed = [name for name in values if row[name] != current[name]]
    await changes.postmortem_updated(unit, updated, changed, actor=actor)
    return updated


async def get(session: AsyncSession, postmortem_id: uuid.UUID, *, for_update: bool = False) -> Postmortem:
    """The postmortem, locked against concurrent writers when `for_update` (PostgreSQL)."""
    statement = select(Postmortem).where(col(Postmortem.id) == postmortem_id)
    if for_update:
        statement = statement.with_for_update()
    postmortem = (await session.exec(statement)).first()
    if postmortem is None:
        raise NotFound(f"postmortem {postmortem_id} does not exist")
    return postmortem


async def delete(unit: UnitOfWork, postmortem: Postmortem, *, if_match: str | None) -> None:
    await check_if_match(if_match, lambda: reads.read_changed(unit, postmortem))
    if postmortem.status is not Status.DRAFT:
        raise Conflict(
            f"only drafts can be deleted; this postmortem is {postmortem.status.value}",
            [FieldError("status", f"is {postmortem.status.value}", "not_draft", "resource")],
        )
    session = await unit.session()
    await session.delete(postmortem)
    await session.flush()


def _to_columns(values: dict[str, Any]) -> dict[str, Any]:
    """API values as stored: `customer_data_affected` "unknown" is NULL."""
    if values.get("customer_data_affected") == UNKNOWN:
        values["customer_data_affected"] = None
    return values


@functools.cache
def _update_statement(columns: frozenset[str]) -> Statement:
    """UPDATE of these columns (one statement per set of columns sent), returning the new row."""
    values: dict[str, Any] = {name: param(name) for name in columns}
    values |= {"updated_at": param("updated_at"), "version": _postmortems.c.version + 1}
    statement = sa.update(_postmortems).where(_postmortems.c.id == param("id")).values(values)
    return Statement(statement.returning(*_postmortems.c))


async def _validate(unit: UnitOfWork, postmortem: Mapping[str, Any], *, changed: Any) -> None:
    """Timestamps in order, related postmortems that exist; a new `integration_id` must name an integration.

    (An integration is deleted with ON DELETE SET NULL, so one set earlier still exists.)
    """
    errors = _timestamp_order_errors(postmortem) + await _related_id_errors(unit, postmortem)
    if errors:
        raise Unprocessable(f"{len(errors)} field{' is' if len(errors) == 1 else 's are'} invalid", errors)
    if "integration_id" in changed and postmortem["integration_id"] is not None:
        await integrations_service.ensure_exists(await unit.session(), postmortem["integration_id"])


def _timestamp_order_errors(postmortem: Mapping[str, Any]) -> list[FieldError]:
    """started_at <= detected_at <= mitigated_at <= resolved_at, among those given."""
    given: list[tuple[str, datetime]] = [
        (name, value) for name in TIMESTAMP_FIELDS if (value := postmortem[name]) is not None
    ]
    errors = []
    for (earlier_name, earlier), (later_name, later) in pairwise(given):
        if later < earlier:
            errors.append(FieldError(later_name, f"must not be before {earlier_name}", "out_of_order"))
    return errors


async def _related_id_errors(unit: UnitOfWork, postmortem: Mapping[str, Any]) -> list[FieldError]:
    related = {uuid.UUID(str(value)) for value in postmortem["related_postmortem_ids"]}
    if not related:
        return []
    if postmortem["id"] in related:
        return [FieldError("related_postmortem_ids", "must not list the postmortem itself", "self_reference")]
    session = await unit.session()  # rare: most postmortems list no related ones
    found = set((await session.exec(select(Postmortem.id).where(col(Postmortem.id).in_(related)))).all())
    return [
        FieldError("related_postmortem_ids", f"postmortem {missing} does not exist", "unknown_id")
        for missing in sorted(related - found, key=str)
    ]
