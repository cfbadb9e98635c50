"""Building blocks for request and response bodies."""

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


def reject_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, so it is refused at the edge on every backend."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, list):
        for item in value:
            reject_nul(item)
    return value


def _without_null(schema: dict[str, Any], non_nullable: frozenset[str]) -> None:
    """The document says what the validator enforces: a `non_nullable` field's schema does not admit null."""
    for name in non_nullable:
        field = schema.get("properties", {}).get(name, {})
        options = [option for option in field.get("anyOf", ()) if option != {"type": "null"}]
        if len(options) == 1:
            del field["anyOf"]
            field.update(options[0])
        elif options:
            field["anyOf"] = options


class InputModel(BaseModel):
    """A request body: unknown fields are rejected, strings may not contain NUL.

    Fields named in `non_nullable` may be omitted but not sent as null (for partial updates
    of columns that always have a value).
    """

    model_config = ConfigDict(extra="forbid")
    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        _without_null(handler.resolve_ref_schema(json_schema), cls.non_nullable)
        return json_schema

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.non_nullable:
            raise ValueError("may be omitted but not null")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 falls before year 1 in UTC
        raise ValueError("is out of range once converted to UTC") from exc


_RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text_like(pattern: re.Pattern[str], example: str) -> BeforeValidator:
    """Pydantic would also read numbers and numeric strings as Unix times; the API takes only the documented text."""

    def check(value: Any) -> Any:
        if isinstance(value, date) or (isinstance(value, str) and pattern.match(value)):
            return value
        raise ValueError(f"must be a string like {example}")

    return BeforeValidator(check)


UTCTimestamp = Annotated[
    AwareDatetime,
    _text_like(_RFC3339_DATE_TIME, "2025-01-15T09:30:00Z"),
    AfterValidator(_to_utc),
    Field(description="RFC 3339 timestamp with an offset; returned in UTC.", examples=["2025-01-15T09:30:00Z"]),
]

CalendarDate = Annotated[date, _text_like(_ISO_DATE, "2025-02-01")]


def _integral_float_as_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[StrictInt, BeforeValidator(_integral_float_as_int)]
"""JSON Schema's integer: 45 and 45.0, but not 45.5, "45" or true."""

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
Label = Annotated[str, Field(min_length=1, max_length=100)]


def describe_fields(descriptions: Mapping[str, str], *models: type[BaseModel]) -> None:
    """Give each field of `models` that has no description of its own the one `descriptions` holds for its name.

    A domain's create, update and read models share their field names, so what a field means is said
    once. The models are rebuilt in the order given, so name a nested model before the models holding it.
    """
    for model in models:
        for name, field in model.model_fields.items():
            if field.description is None and name in descriptions:
                field.description = descriptions[name]
        model.model_rebuild(force=True)
