"""Building blocks for request and response bodies."""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


def _reject_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, so it is refused at the edge on every backend."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


class InputModel(BaseModel):
    """A request body: unknown fields are rejected, strings may not contain NUL.

    Fields named in `non_nullable` may be omitted but not sent as null (for partial updates
    of columns that always have a value).
    """

    model_config = ConfigDict(extra="forbid")
    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.non_nullable:
            raise ValueError("may be omitted but not null")
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for value in data.values():
                _reject_nul(value)
        return data


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UTCTimestamp = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    Field(description="RFC 3339 timestamp with an offset; returned in UTC.", examples=["2025-01-15T09:30:00Z"]),
]

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
Label = Annotated[str, Field(min_length=1, max_length=100)]
