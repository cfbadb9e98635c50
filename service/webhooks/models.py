import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field as SQLField

from service.core.base import IdMixin
from service.core.types import JSONValue, UTCDateTime


class InboundEvent(IdMixin, table=True):
    """A webhook delivery as received (after its signature was checked), recorded once per delivery id."""

    __tablename__ = "inbound_event"
    __table_args__ = (sa.UniqueConstraint("integration_id", "delivery_id"),)

    integration_id: uuid.UUID = SQLField(foreign_key="integration.id", ondelete="CASCADE")
    delivery_id: str = SQLField(max_length=300)
    headers: dict[str, str] = SQLField(sa_type=JSONValue)
    body: str = SQLField(sa_type=sa.Text)
    received_at: datetime = SQLField(sa_type=UTCDateTime)
