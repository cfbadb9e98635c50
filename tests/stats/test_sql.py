"""The SQL constructs of the metrics, in the database: date arithmetic against Python's, whatever the
session's time zone, and the percentiles of a database without `percentile_cont` against PostgreSQL's.

On PostgreSQL the session is put in a time zone with daylight saving time, around its changes: the
constructs read and move timestamps in UTC all the same.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from service.core.types import UTCDateTime
from service.stats.sql import add_days, inline, ranked_percentiles, utc_date, utc_weekday

MOMENTS = [
    datetime(2025, 3, 8, 23, 59, 59, 999_999, tzinfo=UTC),  # a Saturday night, before New York springs forward
    datetime(2025, 3, 9, 0, 0, tzinfo=UTC),
    datetime(2025, 3, 9, 7, 30, 0, 250_000, tzinfo=UTC),  # just after the change there
    datetime(2025, 11, 2, 5, 30, tzinfo=UTC),  # New York falls back at 06:00 UTC
    datetime(2024, 2, 29, 12, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
]


async def evaluated(app: FastAPI, expressions: Sequence[Any]) -> Sequence[Any]:
    async with app.state.engine.connect() as connection:
        await connection.begin()
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
        row = (await connection.execute(sa.select(*expressions))).one()
        await connection.rollback()
    return tuple(row)


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda moment: moment.isoformat())
async def test_weekday_date_and_days_added_are_those_of_utc(app: FastAPI, moment: datetime) -> None:
    value = sa.literal(moment, UTCDateTime())

    weekday, day, week_later, quarter_earlier = await evaluated(
        app, [utc_weekday(value), utc_date(value), add_days(value, 7), add_days(value, -90)]
    )

    assert weekday == moment.isoweekday() % 7  # 0 is Sunday
    assert (day if isinstance(day, date) else date.fromisoformat(day)) == moment.date()
    assert week_later == moment + timedelta(days=7)
    assert quarter_earlier == moment - timedelta(days=90)


async def test_an_inline_bound_compares_like_a_parameter(app: FastAPI) -> None:
    moment = MOMENTS[2]
    value = sa.literal(moment, UTCDateTime())
    at, after, day = inline("at", UTCDateTime()), inline("after", UTCDateTime()), inline("day", sa.Date())
    query = sa.select(value >= at, value < at, value < after, sa.literal(moment.date(), sa.Date()) == day)

    async with app.state.engine.connect() as connection:
        row = (
            await connection.execute(
                query, {"at": moment, "after": moment + timedelta(microseconds=1), "day": moment.date()}
            )
        ).one()

    assert [bool(result) for result in row] == [True, False, True, True]


def sample(*values: float | None) -> Any:
    """A one-column select, `x`, of `values`."""
    rows = [sa.select(sa.cast(sa.literal(value), sa.Float).label("x")) for value in values]
    union = sa.union_all(*rows).subquery("given")
    return Select(union.c.x)


async def percentiles(app: FastAPI, values: Sequence[float | None], count: int, fractions: Sequence[float]) -> Any:
    async with app.state.engine.connect() as connection:
        session = AsyncSession(bind=connection)
        found = await ranked_percentiles(session, sample(*values), {"x": fractions}, {"x": count})
        await session.close()
    return found["x"]


async def test_ranked_percentiles_interpolate_like_percentile_cont(app: FastAPI) -> None:
    values = [55.0, 1.0, None, 13.0, 2.0, 1.0, 89.0, 8.0, 3.0, 55.0, None, 21.0, 5.0, 34.0]
    fractions = [0.0, 0.1, 0.5, 0.9, 1.0]

    found = await percentiles(app, values, 12, fractions)

    assert found == [1.0, 1.0 + 0.1 * (2.0 - 1.0), 10.5, 55.0, 89.0]
    if app.state.engine.dialect.name == "postgresql":
        given = sample(*values).subquery()
        cont = [sa.func.percentile_cont(fraction).within_group(given.c.x) for fraction in fractions]
        assert found == list(await evaluated(app, [sa.select(aggregate).scalar_subquery() for aggregate in cont]))


async def test_ranked_percentiles_of_fewer_values_than_counted_are_read_from_those_there_are(app: FastAPI) -> None:
    """The count comes from an earlier statement: a write in between must not fail the request."""
    assert await percentiles(app, [4.0, 2.0, 7.0], 4, [0.5, 0.9]) == [5.5, 7.0]  # positions 1.5 and 2.7 of 4
    assert await percentiles(app, [4.0, 2.0], 5, [0.5]) == [None]
