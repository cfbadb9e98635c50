"""Action items as the outbox worker reads and saves them, with prebuilt statements.

The worker handles hundreds of deliveries a second, and through the ORM each cost several queries
and a flush. Here a delivery's item, postmortem and integration come in one statement; the worker
changes a detached `ActionItem` with the same functions of `sync.service` as before, and `save`
writes the columns that changed in one UPDATE, with a new version like the ORM's.
"""

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from service.action_items.models import ActionItem
from service.core.database import UnitOfWork
from service.core.sql import Statement, param
from service.integrations.models import Integration
from service.outbox.models import Delivery, DeliveryAttempt, DeliveryKind
from service.postmortems.models import Postmortem
from service.sync.service import PostmortemRef

_items = ActionItem.__table__  # type: ignore[attr-defined]
_postmortems = Postmortem.__table__  # type: ignore[attr-defined]
_integrations = Integration.__table__  # type: ignore[attr-defined]
_deliveries = Delivery.__table__  # type: ignore[attr-defined]
_attempts = DeliveryAttempt.__table__  # type: ignore[attr-defined]

INTEGRATION_PREFIX = "integration__"
_pushed_before = (
    sa.exists()
    .where(
        _deliveries.c.action_item_id == _items.c.id,
        _deliveries.c.kind == DeliveryKind.PUSH,
        _attempts.c.delivery_id == _deliveries.c.id,
    )
    .label("pushed_before")
)
_WITH_CONTEXT = Statement(
    sa.select(
        _items,
        _postmortems.c.title.label("postmortem_title"),
        _postmortems.c.severity.label("postmortem_severity"),
        *(column.label(INTEGRATION_PREFIX + column.key) for column in _integrations.c),
        _pushed_before,
    )
    .select_from(
        _items.join(_postmortems, _postmortems.c.id == _items.c.postmortem_id).outerjoin(
            _integrations, _integrations.c.id == _items.c.integration_id
        )
    )
    .where(_items.c.id == param("id"))
)
_LOCKED = Statement(sa.select(_items).where(_items.c.id == param("id")).with_for_update())


@dataclass(frozen=True)
class ItemInContext:
    """An action item with what a push needs: its postmortem, its integration, whether it was pushed before."""

    item: ActionItem
    postmortem: PostmortemRef
    integration: Integration | None
    pushed_before: bool  # an earlier push attempt was recorded: it may have made a ticket


@dataclass(frozen=True)
class Loaded:
    """A detached item and its columns as read, to tell what changed."""

    item: ActionItem
    columns: Mapping[str, Any]


async def with_context(unit: UnitOfWork, item_id: uuid.UUID) -> ItemInContext | None:
    row = await _WITH_CONTEXT.one_or_none(unit, id=item_id)
    if row is None:
        return None
    integration = {
        key.removeprefix(INTEGRATION_PREFIX): value for key, value in row.items() if key.startswith(INTEGRATION_PREFIX)
    }
    return ItemInContext(
        item=ActionItem(**{column.key: row[column.key] for column in _items.c}),
        postmortem=PostmortemRef(row["postmortem_id"], row["postmortem_title"], row["postmortem_severity"]),
        integration=Integration(**integration) if integration["id"] is not None else None,
        pushed_before=bool(row["pushed_before"]),
    )


async def locked(unit: UnitOfWork, item_id: uuid.UUID) -> Loaded | None:
    """The item, locked until the unit ends, so that its changes and the API's queue up."""
    row = await _LOCKED.one_or_none(unit, id=item_id)
    return None if row is None else Loaded(ActionItem(**row), row)


async def save(unit: UnitOfWork, loaded: Loaded) -> None:
    """Write the columns of `loaded.item` that changed since it was read, with a new version (the item shows it)."""
    changed = frozenset(name for name, value in loaded.columns.items() if getattr(loaded.item, name) != value)
    if changed:
        values = {name: getattr(loaded.item, name) for name in changed}
        await _update(changed).all(unit, id=loaded.item.id, **values)
        loaded.item.version += 1


@functools.cache
def _update(columns: frozenset[str]) -> Statement:
    values: dict[str, Any] = {name: param(name) for name in columns} | {"version": _items.c.version + 1}
    return Statement(sa.update(_items).where(_items.c.id == param("id")).values(values))
