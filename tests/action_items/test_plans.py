"""How action items are listed on PostgreSQL: an owner's page from one index range, in order."""

from fastapi import FastAPI

from service.action_items import service as action_items_service
from service.action_items.filters import ActionItemFilters
from service.action_items.slo import DEFAULT_SLO_DAYS
from tests.plans import plan, scanned, skip_unless_postgresql


async def test_an_owners_overdue_items_come_in_order_from_the_owner_index(app: FastAPI) -> None:
    skip_unless_postgresql(app)
    shape, values = ActionItemFilters(owner="@payments", overdue=True).bound(DEFAULT_SLO_DAYS)

    nodes = await plan(app, action_items_service._list_statement(shape, after=False), **values, limit=51)

    assert scanned(nodes) == {("Index Scan", "ix_action_item_owner_id")}
    assert not any(node["Node Type"] == "Sort" for node in nodes)
