"""Column types that behave the same on SQLite and PostgreSQL."""

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, DateTime, Dialect, TypeDecorator
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Boolean


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; SQLite hands it back naive, so UTC is re-attached."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONValue(TypeDecorator[Any]):
    """JSON (JSONB on PostgreSQL) that also accepts Pydantic models, UUIDs and dates."""

    impl = JSON().with_variant(JSONB(), "postgresql")
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else to_jsonable_python(value)


class json_array_contains(FunctionElement[bool]):  # noqa: N801 - SQL construct, named like one
    """`column` (a JSON array of strings) contains `value`; compiled per dialect."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, column: Any, value: Any) -> None:
        super().__init__(column, value)


@compiles(json_array_contains, "postgresql")
def _contains_postgresql(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = list(element.clauses)
    return f"({compiler.process(column, **kw)} @> jsonb_build_array(CAST({compiler.process(value, **kw)} AS TEXT)))"


@compiles(json_array_contains, "sqlite")
def _contains_sqlite(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = list(element.clauses)
    return (
        f"EXISTS (SELECT 1 FROM json_each({compiler.process(column, **kw)}) "  # noqa: S608 - compiled SQL only
        f"WHERE json_each.value = {compiler.process(value, **kw)})"
    )


def enum_type(enum_class: type[StrEnum]) -> sa.Enum:
    """Store a StrEnum by value in a VARCHAR (no native type to migrate) and load it back as the enum."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class UuidList(TypeDecorator[list[uuid.UUID]]):
    """Several ids as one parameter, for `in_list`: an array on PostgreSQL; on SQLite the JSON text of
    their 32-digit hex form, which is how SQLite stores a Uuid column."""

    impl = sa.Text().with_variant(ARRAY(sa.Uuid()), "postgresql")
    cache_ok = True

    def process_bind_param(self, value: list[uuid.UUID] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps([member.hex for member in value])


def in_list(column: Any, values: Any, dialect: Dialect) -> Any:
    """`column` is one of the ids in `values` (a `UuidList` placeholder): one parameter however many ids,
    so the statement is compiled once per dialect."""
    if dialect.name == "postgresql":
        return column == sa.func.any(values)
    members: sa.Select[Any] = sa.select(sa.literal_column("value")).select_from(sa.func.json_each(values))
    return column.in_(members.scalar_subquery())
