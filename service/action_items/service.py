import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Label, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items.filters import ActionItemFilters, overdue_clause
from service.action_items.models import (
    CONTENT_FIELDS,
    UNFINISHED,
    ActionItem,
    ActionItemCreate,
    ActionItemUpdate,
    ItemStatus,
    stamp_completion,
)
from service.action_items.slo import SloDays
from service.core.clock import utc_now
from service.core.errors import NotFound
from service.core.etag import check_if_match
from service.core.pagination import page_by_id
from service.integrations import service as integrations_service
from service.postmortems.freeze import ensure_editable
from service.postmortems.models import Postmortem
from service.sync import service as sync_service


async def create(session: AsyncSession, postmortem: Postmortem, item_in: ActionItemCreate) -> ActionItem:
    ensure_editable(postmortem, "its action items")
    await integrations_service.ensure_exists(session, item_in.integration_id)
    item = ActionItem(**item_in.model_dump(), postmortem_id=postmortem.id)
    stamp_completion(item)
    session.add(item)
    await session.flush()
    await sync_service.on_item_created(session, item, postmortem)
    await session.flush()
    return item


async def get(session: AsyncSession, item_id: uuid.UUID, *, for_update: bool = False) -> ActionItem:
    statement = select(ActionItem).where(col(ActionItem.id) == item_id)
    if for_update:
        statement = statement.with_for_update()
    item = (await session.exec(statement)).first()
    if item is None:
        raise NotFound(f"action item {item_id} does not exist")
    return item


async def list_page(
    session: AsyncSession, filters: ActionItemFilters, slo_days: SloDays
) -> tuple[list[ActionItem], str | None]:
    """In creation order (ids are UUIDv7); `slo_days` is the SLO in force, for `slo_breached`."""
    statement = select(ActionItem).where(*filters.where_clauses(slo_days))
    return await page_by_id(session, statement, col(ActionItem.id), filters)


async def list_for_postmortem(session: AsyncSession, postmortem_id: uuid.UUID) -> list[ActionItem]:
    statement = select(ActionItem).where(col(ActionItem.postmortem_id) == postmortem_id).order_by(col(ActionItem.id))
    return list((await session.exec(statement)).all())


async def update(
    session: AsyncSession, item: ActionItem, changes: ActionItemUpdate, *, if_match: str | None
) -> ActionItem:
    """Apply a partial update; on a frozen postmortem only the status may change."""
    check_if_match(if_match, item.version)
    values = changes.model_dump(exclude_unset=True)
    if CONTENT_FIELDS & values.keys():
        ensure_editable(await _postmortem_of(session, item), "its action items' content")
    if "integration_id" in values:
        await integrations_service.ensure_exists(session, changes.integration_id)
    changed = {name for name, value in values.items() if getattr(item, name) != value}
    for name, value in values.items():
        setattr(item, name, value)
    stamp_completion(item)
    item.updated_at = utc_now()
    await sync_service.on_item_changed(session, item, changed)
    await session.flush()
    return item


async def delete(session: AsyncSession, item: ActionItem, *, if_match: str | None) -> None:
    check_if_match(if_match, item.version)
    ensure_editable(await _postmortem_of(session, item), "its action items")
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
