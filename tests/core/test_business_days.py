from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.business_days import add_business_days

FRIDAY = datetime(2025, 1, 17, 10, 30, tzinfo=UTC)
SATURDAY = 5


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (datetime(2025, 1, 13, 10, 30, tzinfo=UTC), 5, datetime(2025, 1, 20, 10, 30, tzinfo=UTC)),  # Mon -> Mon
        (FRIDAY, 1, datetime(2025, 1, 20, 10, 30, tzinfo=UTC)),  # Fri -> Mon
        (FRIDAY, 5, datetime(2025, 1, 24, 10, 30, tzinfo=UTC)),  # Fri -> Fri
        (datetime(2025, 1, 18, 23, 59, tzinfo=UTC), 5, datetime(2025, 1, 24, 23, 59, tzinfo=UTC)),  # Sat -> Fri
        (datetime(2025, 1, 19, 0, 0, tzinfo=UTC), 1, datetime(2025, 1, 20, 0, 0, tzinfo=UTC)),  # Sun -> Mon
        (datetime(2025, 1, 15, 9, 0, tzinfo=UTC), 10, datetime(2025, 1, 29, 9, 0, tzinfo=UTC)),  # two weeks
        (FRIDAY, 0, FRIDAY),
    ],
)
def test_weekends_are_skipped_and_the_time_of_day_is_kept(start: datetime, days: int, expected: datetime) -> None:
    assert add_business_days(start, days) == expected


def _counted_day_by_day(start: datetime, days: int) -> datetime:
    """The definition: step one calendar day at a time and count the weekdays."""
    moved, counted = start, 0
    while counted < days:
        moved += timedelta(days=1)
        counted += moved.weekday() < SATURDAY
    return moved


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    days=st.integers(min_value=0, max_value=60),
)
def test_the_week_arithmetic_agrees_with_counting_day_by_day(start: datetime, days: int) -> None:
    assert add_business_days(start, days) == _counted_day_by_day(start, days)
