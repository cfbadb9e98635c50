"""The date arithmetic and percentiles the metrics need, each compiled for SQLite and for PostgreSQL.

SQLite keeps a `UTCDateTime` as text, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, which sorts and compares like
the moment it names; its date functions read that text. PostgreSQL keeps `timestamptz`, whose calendar
fields are read in UTC here whatever the session's time zone.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from service.core.types import UTCDateTime


class seconds_between(FunctionElement[float]):  # noqa: N801 - SQL construct, named like one
    """Seconds from `start` to `end` (negative when `end` is earlier); null when either is null.

    On SQLite the figure is exact to the millisecond, which is as fine as `julianday()` reads time.
    """

    type = sa.Float()
    inherit_cache = True

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(start, end)


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)"


class utc_weekday(FunctionElement[int]):  # noqa: N801
    """The day of the week of a timestamp in UTC: 0 is Sunday, 6 is Saturday."""

    type = sa.Integer()
    inherit_cache = True

    def __init__(self, moment: Any) -> None:
        super().__init__(moment)


@compiles(utc_weekday, "postgresql")
def _utc_weekday_postgresql(element: utc_weekday, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(DOW FROM ({moment} AT TIME ZONE 'UTC')) AS INTEGER)"


@compiles(utc_weekday, "sqlite")
def _utc_weekday_sqlite(element: utc_weekday, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(strftime('%w', {moment}) AS INTEGER)"


class utc_date(FunctionElement[Any]):  # noqa: N801
    """The calendar date of a timestamp in UTC."""

    type = sa.Date()
    inherit_cache = True

    def __init__(self, moment: Any) -> None:
        super().__init__(moment)


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({moment} AT TIME ZONE 'UTC') AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({moment})"


class add_days(FunctionElement[Any]):  # noqa: N801
    """A timestamp moved by a whole number of days (an integer expression), keeping its time of day."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, moment: Any, days: Any) -> None:
        super().__init__(moment, days)


@compiles(add_days, "postgresql")
def _add_days_postgresql(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    # Days are added to the UTC wall time: added to a timestamptz they would follow the session's time zone.
    return f"((({moment}) AT TIME ZONE 'UTC' + make_interval(days => CAST({days} AS INTEGER))) AT TIME ZONE 'UTC')"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    # The date part moves and the stored time of day (with its microseconds) is kept, so the result
    # is text in the stored format and compares with other timestamps as they do with each other.
    return f"(date({moment}, printf('%+d days', {days})) || substr({moment}, 11))"


class byte_order(FunctionElement[str]):  # noqa: N801
    """Text compared by code point, as SQLite always does, rather than by PostgreSQL's locale."""

    type = sa.String()
    inherit_cache = True

    def __init__(self, text: Any) -> None:
        super().__init__(text)


@compiles(byte_order, "postgresql")
def _byte_order_postgresql(element: byte_order, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f'({text} COLLATE "C")'


@compiles(byte_order, "sqlite")
def _byte_order_sqlite(element: byte_order, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return str(text)


def interpolate(lower: float, upper: float, position: float) -> float:
    """PostgreSQL's `percentile_cont` between two neighbouring values, with the same float arithmetic."""
    return lower + (position - math.floor(position)) * (upper - lower)


async def percentiles(
    session: AsyncSession, values: sa.Subquery, wanted: Mapping[str, Sequence[float]], counts: Mapping[str, int]
) -> dict[str, list[float | None]]:
    """`percentile_cont` of the non-null values of columns of `values`, in one statement.

    `wanted` maps a column to the fractions wanted of it, `counts` to its number of non-null values;
    a column without values has None for every fraction. PostgreSQL computes them itself. SQLite has no
    percentile function: each column's rows are numbered in order in the database, and only the one or
    two rows each percentile falls between are read.
    """
    found: dict[str, list[float | None]] = {name: [None for _ in fractions] for name, fractions in wanted.items()}
    names = [name for name in wanted if counts[name] > 0]
    if not names:
        return found
    if session.get_bind().dialect.name == "postgresql":
        aggregates = [
            sa.func.percentile_cont(fraction).within_group(values.c[name])
            for name in names
            for fraction in wanted[name]
        ]
        row: Sequence[Any] = (await session.exec(Select(*aggregates))).one()
        results = iter(row)
        for name in names:
            found[name] = [float(next(results)) for _ in wanted[name]]
        return found

    positions = {name: [fraction * (counts[name] - 1) for fraction in wanted[name]] for name in names}
    ranks = {
        name: {math.floor(p) + 1 for p in positions[name]} | {math.ceil(p) + 1 for p in positions[name]}
        for name in names
    }
    numbered = Select(
        *(values.c[name] for name in names),
        *(sa.func.row_number().over(order_by=values.c[name].nulls_last()) for name in names),
    ).subquery("numbered")
    value_columns, rank_columns = list(numbered.c)[: len(names)], list(numbered.c)[len(names) :]
    wanted_rows = sa.or_(*(rank.in_(ranks[name]) for name, rank in zip(names, rank_columns, strict=True)))
    at_rank: dict[str, dict[int, float]] = {name: {} for name in names}
    rows: Sequence[Sequence[Any]] = (await session.exec(Select(*value_columns, *rank_columns).where(wanted_rows))).all()
    for row in rows:
        for name, value, rank in zip(names, row[: len(names)], row[len(names) :], strict=True):
            if rank in ranks[name]:
                at_rank[name][rank] = float(value)
    for name in names:
        found[name] = [
            interpolate(at_rank[name][math.floor(p) + 1], at_rank[name][math.ceil(p) + 1], p) for p in positions[name]
        ]
    return found
