import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from service.core.base import IdMixin
from service.core.clock import utc_now
from service.core.schemas import InputModel, OutputModel
from service.core.types import UTCDateTime, enum_type


class Scope(StrEnum):
    """Scopes are ordered: each includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def includes(self, other: "Scope") -> bool:
        order = list(Scope)
        return order.index(self) >= order.index(other)


SCOPE_DESCRIPTION = "`read`, `write` (includes read) or `admin` (includes write: keys, integrations, reopen)."


class ApiKey(IdMixin, table=True):
    __tablename__ = "api_key"

    name: str = Field(max_length=100, index=True)
    scope: Scope = Field(sa_type=enum_type(Scope))
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "incident-bot", "scope": "write"}]})

    name: str = PydanticField(
        min_length=1,
        max_length=100,
        description="Who or what uses the key; recorded as the actor of workflow steps and approvals.",
        examples=["incident-bot"],
    )
    scope: Scope = PydanticField(description=SCOPE_DESCRIPTION, examples=["write"])


class ApiKeyRead(OutputModel):
    id: uuid.UUID = PydanticField(description="The key's id (not the key itself).")
    name: str = PydanticField(description="Who or what uses the key.")
    scope: Scope = PydanticField(description=SCOPE_DESCRIPTION)
    prefix: str = PydanticField(description="The first characters of the key, to recognise it.")
    created_at: datetime = PydanticField(description="When the key was created (UTC).")
    revoked_at: datetime | None = PydanticField(description="When the key was revoked (UTC); null while it works.")


class ApiKeyCreated(ApiKeyRead):
    key: str = PydanticField(description="The key itself. It is shown once and cannot be read again.")


class Principal(SQLModel):
    """Who is calling: the API key that authenticated the request."""

    key_id: uuid.UUID
    name: str
    scope: Scope
