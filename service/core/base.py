"""Table conventions shared by every domain: ids, timestamps and constraint names."""

import uuid
from datetime import datetime

import sqlalchemy as sa
import uuid_utils
from sqlalchemy import MetaData
from sqlmodel import Field, SQLModel

from service.core.clock import utc_now
from service.core.types import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7, so that ordering by id is ordering by creation."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


class IdMixin(SQLModel):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)


class TimestampMixin(SQLModel):
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


def version_column() -> sa.Column[int]:
    """A `version` column for the mapper's `version_id_col`.

    The ORM bumps it on every UPDATE and adds `WHERE version = <old>`, so two concurrent
    writers can never silently overwrite each other: the loser gets StaleDataError (412).
    """
    return sa.Column("version", sa.Integer, nullable=False)
