"""Action items: created by bots in bulk after every review, so creating and listing run as prebuilt statements.

Creating an item locks its postmortem (changes to its items queue behind each other and behind
`complete`) and finds where the item's ticket goes in one statement, inserts the item in a second
and, when the ticket is due at once, its delivery in a third.
"""

import functools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Label, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items.filters import ActionItemFilters, overdue_clause, where_clauses
from service.action_items.models import (
    CONTENT_FIELDS,
    UNFINISHED,
    ActionItem,
    ActionItemCreate,
    ActionItemRead,
    ActionItemUpdate,
    ItemStatus,
    SyncStatus,
    stamp_completion,
)
from service.action_items.slo import SloDays, to_read
from service.auth.models import Principal
from service.core.base import new_id
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import NotFound
from service.core.etag import check_if_match
from service.core.pagination import cut_by_id, decode_key
from service.core.sql import Statement, param
from service.events import changes
from service.integrations import service as integrations_service
from service.integrations.models import Integration
from service.outbox import service as outbox_service
from service.outbox.models import DeliveryKind
from service.postmortems.freeze import ensure_editable
from service.postmortems.models import Postmortem
from service.sync import service as sync_service

_items = ActionItem.__table__  # type: ignore[attr-defined]
_postmortems = Postmortem.__table__  # type: ignore[attr-defined]
_integrations = Integration.__table__  # type: ignore[attr-defined]

_ticket_integration = sync_service.ticket_integration(param("integration_id", sa.Uuid), _postmortems.c.integration_id)
_POSTMORTEM_AND_TICKET = Statement(
    sa.select(
        _postmortems.c.status,
        sa.select(_integrations.c.id)
        .where(_integrations.c.id == _ticket_integration)
        .scalar_subquery()
        .label("ticket"),
        sa.select(_integrations.c.push_policy)
        .where(_integrations.c.id == _ticket_integration)
        .scalar_subquery()
        .label("push_policy"),
    )
    .where(_postmortems.c.id == param("postmortem_id"))
    .with_for_update(of=_postmortems)
)
_INSERT = Statement(
    sa.insert(_items).values({column.key: param(column.key) for column in _items.c}).returning(*_items.c)
)


async def create(
    unit: UnitOfWork, postmortem_id: uuid.UUID, item_in: ActionItemCreate, *, slo_days: SloDays, actor: Principal | None
) -> ActionItemRead:
    """The new item; it is linked to the integration its ticket goes to, and pushed when that is due now.

    `slo_days` (the settings in force) judge its SLO in the answer and in its event."""
    found = await _POSTMORTEM_AND_TICKET.one_or_none(
        unit, postmortem_id=postmortem_id, integration_id=item_in.integration_id
    )
    if found is None:
        raise NotFound(f"postmortem {postmortem_id} does not exist")
    ensure_editable(found["status"], "its action items")
    if item_in.integration_id is not None and found["ticket"] is None:
        raise integrations_service.unknown(item_in.integration_id)
    push = sync_service.pushes_when_created(found["push_policy"], found["status"])
    now = utc_now()
    values = item_in.model_dump() | {
        "id": new_id(),
        "postmortem_id": postmortem_id,
        "integration_id": found["ticket"],
        "completed_at": now if item_in.status is ItemStatus.DONE else None,
        "external_tracker": None,
        "external_id": None,
        "external_key": None,
        "external_url": None,
        "external_state": None,
        "external_status": None,
        "external_synced_at": None,
        "external_unmapped": 0,
        "sync_status": SyncStatus.PENDING if push else None,
        "last_sync_error": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    row = await _INSERT.one(unit, **values)
    if push:
        await outbox_service.enqueue(
            unit, DeliveryKind.PUSH, action_item_id=row["id"], integration_id=found["ticket"], new_item=True
        )
    created = to_read(row, slo_days)
    await changes.action_item_created(unit, created, actor=actor)
    return created


async def get(session: AsyncSession, item_id: uuid.UUID, *, for_update: bool = False) -> ActionItem:
    statement = select(ActionItem).where(col(ActionItem.id) == item_id)
    if for_update:
        statement = statement.with_for_update()
    item = (await session.exec(statement)).first()
    if item is None:
        raise NotFound(f"action item {item_id} does not exist")
    return item


async def list_page(
    unit: UnitOfWork, filters: ActionItemFilters, slo_days: SloDays
) -> tuple[list[dict[str, Any]], str | None]:
    """Rows in creation order (ids are UUIDv7); `slo_days` is the SLO in force, for `slo_breached`."""
    shape, values = filters.bound(slo_days)
    if filters.cursor is not None:
        (values["after"],) = decode_key(filters.cursor, [uuid.UUID])
    rows = await _list_statement(shape, after=filters.cursor is not None).all(unit, **values, limit=filters.limit + 1)
    return cut_by_id(rows, filters.limit)


@functools.cache
def _list_statement(shape: frozenset[str], *, after: bool) -> Statement:
    """The list for one combination of filters given (their values are placeholders), built once."""
    statement = sa.select(_items).where(*where_clauses(shape))
    if after:
        statement = statement.where(_items.c.id > param("after"))
    return Statement(statement.order_by(_items.c.id).limit(param("limit", sa.Integer)))


async def list_for_postmortem(session: AsyncSession, postmortem_id: uuid.UUID) -> list[ActionItem]:
    statement = select(ActionItem).where(col(ActionItem.postmortem_id) == postmortem_id).order_by(col(ActionItem.id))
    return list((await session.exec(statement)).all())


async def update(
    unit: UnitOfWork,
    item: ActionItem,
    item_in: ActionItemUpdate,
    *,
    if_match: str | None,
    slo_days: SloDays,
    actor: Principal | None,
) -> ActionItemRead:
    """Apply a partial update; on a frozen postmortem only the status may change.

    `If-Match` names the item's representation, whose SLO fields `slo_days` (the settings in force) decide.
    """
    session = await unit.session()
    await check_if_match(if_match, lambda: to_read(item, slo_days))
    values = item_in.model_dump(exclude_unset=True)
    if CONTENT_FIELDS & values.keys():
        ensure_editable((await _postmortem_of(session, item)).status, "its action items' content")
    if "integration_id" in values:
        await integrations_service.ensure_exists(session, item_in.integration_id)
    changed = {name for name, value in values.items() if getattr(item, name) != value}
    old_status = item.status
    for name, value in values.items():
        setattr(item, name, value)
    stamp_completion(item)
    item.updated_at = utc_now()
    await sync_service.on_item_changed(unit, item, changed)
    await session.flush()
    updated = to_read(item, slo_days)
    await changes.action_item_updated(unit, updated, changed, old_status, actor=actor)
    return updated


async def delete(session: AsyncSession, item: ActionItem, *, if_match: str | None, slo_days: SloDays) -> None:
    await check_if_match(if_match, lambda: to_read(item, slo_days))
    ensure_editable((await _postmortem_of(session, item)).status, "its action items")
    await session.delete(item)
    await session.flush()


def summary_columns(postmortem_id: Any, today: Any) -> list[Label[int]]:
    """Counts of a postmortem's action items as correlated subqueries, to select alongside it.

    Selecting them with the postmortem makes a read one query; each is an index lookup on
    `action_item.postmortem_id`, so it stays cheap however many items exist elsewhere. `today`
    (a date or a placeholder) decides which items are overdue.
    """

    def count(name: str, *conditions: Any) -> Label[int]:
        subquery = sa.select(func.count()).where(col(ActionItem.postmortem_id) == postmortem_id, *conditions)
        return subquery.scalar_subquery().label(name)

    return [
        count("total"),
        count("open", col(ActionItem.status).in_(UNFINISHED)),
        count("done", col(ActionItem.status) == ItemStatus.DONE),
        count("overdue", overdue_clause(today)),
    ]


async def _postmortem_of(session: AsyncSession, item: ActionItem) -> Postmortem:
    postmortem = await session.get(Postmortem, item.postmortem_id)
    if postmortem is None:  # pragma: no cover - the foreign key makes this impossible
        raise NotFound(f"postmortem {item.postmortem_id} does not exist")
    return postmortem
