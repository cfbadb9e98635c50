"""Prebuilt statements: SQLAlchemy Core, compiled once per dialect, run on the driver connection.

On the hot paths SQLAlchemy's execution layer (cache key, compiled-cache lookup, execution
context, result objects) costs more CPU than the query itself. A `Statement` keeps what matters
from SQLAlchemy: one definition for both backends, and the same type conversions as the ORM (the
columns' bind and result processors). It leaves the rest: its SQL text is compiled on first use
and run directly with asyncpg or aiosqlite, in the unit's transaction.

Values vary through named placeholders (`param("name")`); anything else in the statement is a
constant compiled into it. A time such as "now" must therefore be a placeholder too.

    READ = Statement(sa.select(table).where(table.c.id == param("id")))
    row = await READ.one_or_none(unit, id=postmortem_id)      # a dict keyed by column, or None
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from service.core.database import UnitOfWork

Processor = Callable[[Any], Any] | None


def param(name: str, type_: Any = None) -> sa.BindParameter[Any]:
    """A placeholder for a value given at execution; its type comes from what it is compared to."""
    return sa.bindparam(name, type_=type_)


@dataclass(frozen=True, slots=True)
class _Argument:
    placeholder: str | None  # the value comes from the caller under this name ...
    default: Callable[[], Any] | None  # ... else from a column's default, made at each execution ...
    constant: Any  # ... else it is this constant (already processed)
    process: Processor


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    arguments: tuple[_Argument, ...]
    keys: tuple[str, ...]
    processors: tuple[Processor, ...]

    def arguments_for(self, values: dict[str, Any]) -> list[Any]:
        arguments = []
        for argument in self.arguments:
            if argument.placeholder is not None:
                try:
                    value = values[argument.placeholder]
                except KeyError:
                    raise TypeError(f"no value for the placeholder {argument.placeholder!r}") from None
            elif argument.default is not None:
                value = argument.default()
            else:
                arguments.append(argument.constant)
                continue
            arguments.append(value if argument.process is None else argument.process(value))
        return arguments

    def row(self, values: Any) -> dict[str, Any]:
        return {
            key: value if process is None else process(value)
            for key, process, value in zip(self.keys, self.processors, values, strict=True)
        }


class Statement:
    """A statement, or a function building it for a dialect (for dialect-specific constructs)."""

    __slots__ = ("_build", "_compiled")

    def __init__(self, statement: sa.Executable | Callable[[Dialect], sa.Executable]) -> None:
        self._build = statement if callable(statement) else lambda _: statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    async def all(self, unit: UnitOfWork, **values: Any) -> list[dict[str, Any]]:
        compiled = self._for(unit.dialect)
        driver = await unit.driver()
        rows = await driver.fetch(compiled.sql, compiled.arguments_for(values))
        return [compiled.row(row) for row in rows]

    async def one_or_none(self, unit: UnitOfWork, **values: Any) -> dict[str, Any] | None:
        rows = await self.all(unit, **values)
        return rows[0] if rows else None

    async def one(self, unit: UnitOfWork, **values: Any) -> dict[str, Any]:
        rows = await self.all(unit, **values)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]

    def rendered(self, dialect: Dialect, **values: Any) -> tuple[str, list[Any]]:
        """The SQL text and the arguments the statement runs with on `dialect` (to EXPLAIN it, say)."""
        compiled = self._for(dialect)
        return compiled.sql, compiled.arguments_for(values)

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self._build(dialect), dialect)
        return compiled


def _result_processor(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> Processor:
    try:
        return type_.dialect_impl(dialect).result_processor(dialect, None)
    except TypeError:  # it needs the driver's column type (asyncpg's numerics): take the value as the driver gives it
        return None


def _default_maker(column: sa.Column[Any]) -> Callable[[], Any]:
    default = column.default
    if isinstance(default, sa.ColumnDefault) and default.is_callable:
        make = default.arg
        return lambda: make(None)  # SQLAlchemy's wrapper of a zero-argument default takes a context
    if isinstance(default, sa.ColumnDefault) and default.is_scalar:
        value = default.arg
        return lambda: value
    raise TypeError(f"column {column.key!r}: only Python-side defaults run on the driver")


def _compile(statement: sa.Executable, dialect: Dialect) -> _Compiled:
    assert isinstance(statement, sa.ClauseElement)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    placeholders = {name for bind, name in compiled.bind_names.items() if bind.required}
    # Renders constant lists (`status IN (...)`) into the SQL; placeholders stay scalar.
    expanded = compiled.construct_expanded_state(params=dict.fromkeys(placeholders))
    processors: dict[str, Processor] = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect) for bind, name in compiled.bind_names.items()
    }
    processors.update(expanded.processors)
    # Columns left out of an INSERT or UPDATE get their Python-side defaults (ids, timestamps, empty lists).
    defaults = {column.key: _default_maker(column) for column in (*compiled.insert_prefetch, *compiled.update_prefetch)}
    arguments = []
    for name in expanded.positiontup or ():
        process = processors.get(name)
        if name in placeholders:
            arguments.append(_Argument(name, None, None, process))
        elif name in defaults:
            arguments.append(_Argument(None, defaults[name], None, process))
        else:
            constant = expanded.parameters[name]
            arguments.append(_Argument(None, None, constant if process is None else process(constant), None))
    columns: list[sa.ColumnElement[Any]] = (
        list(statement.exported_columns) if isinstance(statement, sa.ReturnsRows) else []
    )
    return _Compiled(
        sql=expanded.statement,
        arguments=tuple(arguments),
        keys=tuple(str(column.key) for column in columns),
        processors=tuple(_result_processor(column.type, dialect) for column in columns),
    )
