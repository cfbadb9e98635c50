"""Business days: Monday to Friday, in UTC; holidays are not known to the service."""

from datetime import datetime, timedelta

FRIDAY = 4
WEEKDAYS_PER_WEEK = 5


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` weekdays, keeping its time of day.

    Only weekdays count, so from a Saturday or a Sunday the first day counted is Monday: five
    business days after Friday 10:00 is the next Friday 10:00, after Saturday 10:00 it is also
    Friday 10:00. Computed in whole weeks plus the days left over (every deadline of every
    postmortem in a list is derived on each read, so a day-by-day count showed in profiles).
    """
    if days <= 0:
        return start
    weekday = start.weekday()
    if weekday > FRIDAY:  # counting from the weekend is counting from the Friday before
        start -= timedelta(days=weekday - FRIDAY)
        weekday = FRIDAY
    weeks, left = divmod(days, WEEKDAYS_PER_WEEK)
    calendar_days = weeks * 7 + left + (2 if weekday + left > FRIDAY else 0)
    return start + timedelta(days=calendar_days)
