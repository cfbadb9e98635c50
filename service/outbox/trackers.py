"""Which tracker each integration talks to, as the worker's metrics label deliveries."""

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from service.core.database import Database
from service.core.sql import Statement, param
from service.integrations.models import Integration

UNKNOWN = "none"  # no integration, one deleted since, or the database could not say

_integrations = Integration.__table__  # type: ignore[attr-defined]
_KIND = Statement(sa.select(_integrations.c.kind).where(_integrations.c.id == param("id")))


class TrackerKinds:
    """An integration's kind never changes, so each is read once per worker process."""

    def __init__(self) -> None:
        self._known: dict[uuid.UUID, str] = {}

    async def of(self, database: Database, integration_id: uuid.UUID | None) -> str:
        if integration_id is None:
            return UNKNOWN
        if (kind := self._known.get(integration_id)) is None:
            try:
                async with database.unit(write=False) as unit:
                    row = await _KIND.one_or_none(unit, id=integration_id)
            except (OSError, SQLAlchemyError):  # the database went away after the attempt was settled
                return UNKNOWN
            if row is None:
                return UNKNOWN
            kind = self._known[integration_id] = str(row["kind"])  # a TrackerKind, a StrEnum
        return kind
