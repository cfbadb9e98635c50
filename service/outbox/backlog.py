"""How far behind the outbox is: what operators alert on (see `observability.metrics`)."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from service.core.database import UnitOfWork
from service.core.sql import Statement
from service.outbox.models import Delivery, DeliveryStatus

_deliveries = Delivery.__table__  # type: ignore[attr-defined]

_BACKLOG = Statement(
    sa.select(sa.func.count().label("pending"), sa.func.min(_deliveries.c.created_at).label("oldest")).where(
        _deliveries.c.status == DeliveryStatus.PENDING
    )
)


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest: datetime | None  # when the oldest pending delivery was made


async def backlog(unit: UnitOfWork) -> Backlog:
    row = await _BACKLOG.one(unit)
    return Backlog(pending=row["pending"], oldest=row["oldest"])
