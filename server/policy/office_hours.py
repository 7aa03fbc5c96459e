"""Office hours: when, in Vietnam time, a one-stop section is open, and how much open time a span
covers.

The silent-unit alert counts only open time, so a unit switched off at night and turned on at
07:40 has been silent ten minutes, not fourteen hours. Days a unit is closed (a public holiday,
the unit's day off: `Absence` rows without an officer) are taken out by the caller passing them
as `closed`. Pure: tested by hand-checked cases without a database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.storage.schedule import parse_minute
from server.timeutil import vn_day, vn_day_start

Span = tuple[int, int]  # minutes of the day, start inclusive, end exclusive (1440 = 24:00)
Interval = tuple[datetime, datetime]
SATURDAY = 5
# How far ahead `open_deadline` looks: past a year without open time it gives up.
HORIZON_DAYS = 400


@dataclass(frozen=True)
class OfficeHours:
    """`days` (Python weekdays, Monday 0) open for `hours`; Saturday, when it is not one of
    `days`, open for `saturday_hours` (many sections open on Saturday morning only)."""

    days: frozenset[int] = frozenset(range(5))
    hours: tuple[Span, ...] = ((7 * 60 + 30, 11 * 60 + 30), (13 * 60 + 30, 17 * 60))
    saturday_hours: tuple[Span, ...] = ()

    def spans(self, day: date) -> tuple[Span, ...]:
        if day.weekday() in self.days:
            return self.hours
        return self.saturday_hours if day.weekday() == SATURDAY else ()


def parse_span(text: str) -> Span:
    """`07:30-11:30` as (450, 690); raises ValueError saying what to write."""
    first, sep, last = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a span of time: write HH:MM-HH:MM, e.g. 07:30-11:30")
    start = parse_minute(first, default=-1)
    end = parse_minute(last, default=-1, end=True)
    if start < 0 or end < 0 or end <= start:
        raise ValueError(f"{text!r}: the end must come after the start, e.g. 07:30-11:30")
    return start, end


def spans(texts: Sequence[str]) -> tuple[Span, ...]:
    """The policy's spans, in order of the day; raises ValueError naming a wrong one."""
    return tuple(sorted(parse_span(text) for text in texts))


def checked_spans(texts: list[str]) -> list[str]:
    spans(texts)
    return texts


def _open(day: date, hours: OfficeHours, closed: Sequence[Interval]) -> Iterator[Interval]:
    """The day's open intervals, oldest first, with the closed ones cut out."""
    midnight = vn_day_start(day)
    for start, end in hours.spans(day):
        pieces = [(midnight + timedelta(minutes=start), midnight + timedelta(minutes=end))]
        for shut_a, shut_b in closed:
            pieces = [
                part
                for a, b in pieces
                for part in ((a, min(b, shut_a)), (max(a, shut_b), b))
                if part[0] < part[1]
            ]
        yield from sorted(pieces)


def open_time(
    first: datetime, last: datetime, hours: OfficeHours, closed: Sequence[Interval] = ()
) -> timedelta:
    """How much of first..last falls in office hours (and outside `closed`)."""
    total = timedelta(0)
    day = vn_day(first)
    while first < last and day <= vn_day(last):
        for a, b in _open(day, hours, closed):
            total += max(timedelta(0), min(b, last) - max(a, first))
        day += timedelta(days=1)
    return total


def open_deadline(
    start: datetime, need: timedelta, hours: OfficeHours, closed: Sequence[Interval] = ()
) -> datetime | None:
    """The moment `need` of office time has passed since `start`; None if that is more than
    HORIZON_DAYS away (no office hours at all)."""
    left = need
    day = vn_day(start)
    for _ in range(HORIZON_DAYS):
        for a, b in _open(day, hours, closed):
            a = max(a, start)
            if b <= a:
                continue
            if b - a >= left:
                return a + left
            left -= b - a
        day += timedelta(days=1)
    return None
