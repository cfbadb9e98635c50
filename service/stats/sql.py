"""The date arithmetic and percentiles the metrics need, each compiled for SQLite and for PostgreSQL.

SQLite keeps a `UTCDateTime` as text, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, which sorts and compares like
the moment it names; its date functions read that text, but only to the millisecond, so that the last
half millisecond of a day would be read as the next day: where only the day matters they get the date
part alone (`substr(text, 1, 10)`).

PostgreSQL keeps `timestamptz`, whose calendar fields are read in UTC here whatever the session's time
zone. `AT TIME ZONE INTERVAL '+00:00'` names UTC as a fixed offset, which PostgreSQL applies with plain
arithmetic, where `AT TIME ZONE 'UTC'` looks the zone up by name in every row. With that, `date_part()`
for EXTRACT's numeric arithmetic and days moved as hours, the SLA deadline of a row costs a quarter of
what it did.
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

UTC_OFFSET = "INTERVAL '+00:00'"


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
    # date_part() is EXTRACT() as a float, exact for a weekday and without EXTRACT's numeric arithmetic.
    return f"CAST(date_part('dow', ({moment}) AT TIME ZONE {UTC_OFFSET}) AS INTEGER)"


@compiles(utc_weekday, "sqlite")
def _utc_weekday_sqlite(element: utc_weekday, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(strftime('%w', substr({moment}, 1, 10)) AS INTEGER)"


class utc_date(FunctionElement[Any]):  # noqa: N801
    """The calendar date of a timestamp in UTC."""

    type = sa.Date()
    inherit_cache = True

    def __init__(self, moment: Any) -> None:
        super().__init__(moment)


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST((({moment}) AT TIME ZONE {UTC_OFFSET}) AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"substr({moment}, 1, 10)"  # the date part is the date, as SQLite writes one: YYYY-MM-DD


class add_days(FunctionElement[Any]):  # noqa: N801
    """A timestamp moved by a whole number of days (an integer expression), keeping its time of day."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, moment: Any, days: Any) -> None:
        super().__init__(moment, days)


@compiles(add_days, "postgresql")
def _add_days_postgresql(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    # A day in UTC is always 24 hours, so whole hours are added: days added to a timestamptz would follow
    # the session's time zone (a day across a daylight saving change is 23 or 25 hours there).
    return f"(({moment}) + make_interval(hours => 24 * CAST({days} AS INTEGER)))"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    # The date part moves and the stored time of day (with its microseconds) is kept, so the result
    # is text in the stored format and compares with other timestamps as they do with each other.
    return f"(date(substr({moment}, 1, 10), printf('%+d days', {days})) || substr({moment}, 11))"


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


def inline(name: str, type_: sa.types.TypeEngine[Any]) -> sa.BindParameter[Any]:
    """A placeholder for a bound of the window, whose value is written into the SQL text at execution
    rather than sent beside it.

    PostgreSQL plans a prepared statement for the values of its parameters five times, then switches
    to a generic plan, made once for any values, if that looks no dearer. Not knowing the window, the
    generic plan guesses that a range holds 0.5% of the rows and plans for a few hundred postmortems:
    serial scans of the table instead of parallel scans and covering indexes, twice as slow for a
    quarter and more for longer windows. Written into the text, the bounds are planned for every time.
    """
    return sa.bindparam(name, type_=type_, literal_execute=True)


def interpolate(lower: float, upper: float, position: float) -> float:
    """PostgreSQL's `percentile_cont` between two neighbouring values, with the same float arithmetic."""
    return lower + (position - math.floor(position)) * (upper - lower)


Percentiles = dict[str, list[float | None]]
"""A column's percentiles, in the order of the fractions wanted of it; None for each when it has no values."""


def percentile_label(name: str, index: int) -> str:
    return f"{name}_percentile_{index}"


def percentile_aggregates(values: Mapping[str, Any], wanted: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """PostgreSQL's `percentile_cont` of expressions, to compute with the other aggregates over the same rows.

    `wanted` maps a name of `values` to the fractions wanted of it; `percentiles_of` reads them from the row.
    """
    return {
        percentile_label(name, index): sa.func.percentile_cont(fraction).within_group(values[name])
        for name, fractions in wanted.items()
        for index, fraction in enumerate(fractions)
    }


def percentiles_of(row: Mapping[str, Any], wanted: Mapping[str, Sequence[float]]) -> Percentiles:
    def value(name: str, index: int) -> float | None:
        found = row[percentile_label(name, index)]
        return None if found is None else float(found)

    return {name: [value(name, index) for index in range(len(fractions))] for name, fractions in wanted.items()}


async def ranked_percentiles(
    session: AsyncSession, values: Select[Any], wanted: Mapping[str, Sequence[float]], counts: Mapping[str, int]
) -> Percentiles:
    """`percentile_cont` of the non-null values of columns of `values`, in one statement, on a database without it.

    `wanted` maps a column to the fractions wanted of it, `counts` to its number of non-null values (as
    an earlier statement found them); a column without values has None for every fraction, and none
    costs a statement. SQLite has no percentile function: `values` are computed once, and for each
    percentile the one or two values it falls between are read by sorting their column, skipping the
    values below them (LIMIT and OFFSET).
    """
    found: Percentiles = {name: [None for _ in fractions] for name, fractions in wanted.items()}
    positions = [
        (name, index, fraction * (counts[name] - 1))
        for name, fractions in wanted.items()
        if counts[name] > 0
        for index, fraction in enumerate(fractions)
    ]
    if not positions:
        return found
    sample = values.cte("sample").prefix_with("MATERIALIZED")
    reads = (_neighbours(sample.c[name], key, position) for key, (name, _, position) in enumerate(positions))
    neighbours = sa.union_all(*reads).subquery("neighbours")
    rows: Sequence[Sequence[Any]] = (await session.exec(Select(neighbours.c.key, neighbours.c.value))).all()
    for key, (name, index, position) in enumerate(positions):
        # The counts came from another statement, in another snapshot: after a write in between there
        # may be fewer values than counted, and the percentile is read from those there are, or is null.
        near = sorted(float(value) for found_key, value in rows if found_key == key)
        found[name][index] = interpolate(near[0], near[-1], position) if near else None
    return found


def _neighbours(column: Any, key: int, position: float) -> Select[Any]:
    """The values of `column` at the ranks `position` falls between (one when it is a whole rank), as
    (`key`, value) rows."""
    count = 1 if position == math.floor(position) else 2
    ranked = sa.select(column.label("value")).where(column.is_not(None)).order_by(column)
    found = ranked.limit(count).offset(math.floor(position)).subquery()
    return Select(sa.literal(key).label("key"), found.c.value)
