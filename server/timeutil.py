"""Vietnam days: reports count a rating on the calendar day it was pressed in UTC+7.

Stored times are aware datetimes, which SQLModel keeps in UTC on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def vn_day(moment: datetime) -> date:
    """The calendar day in Vietnam (UTC+7, no daylight saving) on which `moment` falls."""
    return moment.astimezone(VN_TZ).date()


def vn_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), VN_TZ)


def utc(moment: datetime) -> datetime:
    """Aware UTC, whether the database handed the time back aware or naive UTC (SQLite)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def vn_text(moment: datetime) -> str:
    """'07:30 05/10/2026': a moment as a person in Vietnam reads it. A naive time is a stored
    one, in UTC."""
    return utc(moment).astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")
