"""`action_item.overdue`: once per item and due date, when an open or in-progress item passes its due date.

Nothing changes an item when its due date passes, so the outbox worker looks for such items from
time to time. A notice row per item and due date makes this idempotent: an item found again (by a
later pass, or another worker) already has its notice; one given a later due date that passes too
is overdue anew. On PostgreSQL, workers looking at once skip the items another one holds.
"""

import sqlalchemy as sa

from service.action_items import slo
from service.action_items.filters import overdue_clause
from service.action_items.models import ActionItem
from service.core import clock
from service.core.database import Database
from service.core.sql import Statement, param
from service.events import changes
from service.events.models import OverdueNotice

BATCH = 100

_items = ActionItem.__table__  # type: ignore[attr-defined]
_notices = OverdueNotice.__table__  # type: ignore[attr-defined]
_noticed = sa.exists().where(_notices.c.action_item_id == _items.c.id, _notices.c.due_date == _items.c.due_date)
_NEWLY_OVERDUE = Statement(
    sa.select(_items)
    .where(overdue_clause(param("today")), ~_noticed)
    .order_by(_items.c.due_date, _items.c.id)
    .limit(param("limit", sa.Integer))
    .with_for_update(of=_items, skip_locked=True)
)
_NOTICE = Statement(sa.insert(_notices).values(action_item_id=param("id"), due_date=param("due_date")))


async def record(database: Database, slo_days: slo.SloDays) -> int:
    """Record the event for up to `BATCH` items newly overdue; how many there were."""
    async with database.unit(write=True) as unit:
        rows = await _NEWLY_OVERDUE.all(unit, today=clock.utc_today(), limit=BATCH)
        for row in rows:
            await _NOTICE.all(unit, id=row["id"], due_date=row["due_date"])
        for row in rows:
            await changes.action_item_overdue(unit, slo.to_read(row, slo_days))
        await unit.commit()
    return len(rows)
