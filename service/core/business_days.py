"""Business days: Monday to Friday, in UTC; holidays are not known to the service."""

from datetime import datetime, timedelta

SATURDAY = 5


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` weekdays, keeping its time of day.

    Days are counted one at a time and only weekdays count, so from a Saturday or a Sunday the
    first day counted is Monday: five business days after Friday 10:00 is the next Friday 10:00,
    after Saturday 10:00 it is also Friday 10:00.
    """
    moved = start
    counted = 0
    while counted < days:
        moved += timedelta(days=1)
        if moved.weekday() < SATURDAY:
            counted += 1
    return moved
