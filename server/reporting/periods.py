"""Report periods: a day, month, quarter, year or range of Vietnam calendar days.

A period is written one way everywhere (API, exports, the CLI): 2026-10-05, 2026-10, 2026-Q4,
2026 or 2026-10-05..2026-12-14, and is inclusive of both ends. Days are Vietnam days (UTC+7, no
daylight saving), as in server/timeutil.py, so a period's first moment is 17:00 UTC the evening
before.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from server.timeutil import vn_day_start

KINDS = ("day", "month", "quarter", "year", "range")
FORMS = (
    "2026-10-05 (a day), 2026-10 (a month), 2026-Q4 (a quarter), 2026 (a year) "
    "or 2026-10-05..2026-12-14 (a range of days, both included)"
)
MONTHS_EN = tuple(calendar.month_name)[1:]  # not locale month names: reports must not vary by host

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Period:
    """Calendar days start..end, both included; `kind` says how it was chosen and is labelled."""

    start: date
    end: date
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"period kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")
        if self.kind != "range" and _bounds(self.kind, self.start) != (self.start, self.end):
            raise ValueError(f"{self.start}..{self.end} is not a calendar {self.kind}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def text(self) -> str:
        """The written form `parse_period` reads back."""
        s = self.start
        return {
            "day": s.isoformat(),
            "month": f"{s.year:04d}-{s.month:02d}",
            "quarter": f"{s.year:04d}-Q{(s.month + 2) // 3}",
            "year": f"{s.year:04d}",
            "range": f"{s.isoformat()}..{self.end.isoformat()}",
        }[self.kind]

    @property
    def label_vi(self) -> str:
        s = self.start
        return {
            "day": f"Ngày {s:%d/%m/%Y}",
            "month": f"Tháng {s.month}/{s.year}",
            "quarter": f"Quý {(s.month + 2) // 3}/{s.year}",
            "year": f"Năm {s.year}",
            "range": f"{s:%d/%m/%Y} – {self.end:%d/%m/%Y}",
        }[self.kind]

    @property
    def label_en(self) -> str:
        s = self.start
        return {
            "day": _day_en(s),
            "month": f"{MONTHS_EN[s.month - 1]} {s.year}",
            "quarter": f"Q{(s.month + 2) // 3} {s.year}",
            "year": f"Year {s.year}",
            "range": f"{_day_en(s)} – {_day_en(self.end)}",
        }[self.kind]

    def previous(self) -> Period:
        """The period of the same kind just before; for a range, as many days just before."""
        if self.kind == "range":
            end = self.start - timedelta(days=1)
            return Period(end - timedelta(days=self.days - 1), end, "range")
        return period_of(self.kind, self.start - timedelta(days=1))

    def complete(self, today: date) -> bool:
        """Over by `today`: its last day is before today, so no rating can still join it."""
        return self.end < today


def comparable_previous(period: Period, today: date) -> Period:
    """What a change compares `period` with: the period before it once `period` is over; while it
    runs, the same days from the start of the period before (1-3 December against 1-3 November,
    not against all of November). A period not yet begun compares with the whole one before."""
    before = period.previous()
    if period.complete(today) or today < period.start:
        return before
    elapsed = (today - period.start).days  # days of `period` up to today, less one
    end = min(before.start + timedelta(days=elapsed), before.end)
    return before if end == before.end else Period(before.start, end, "range")


def _day_en(day: date) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def _bounds(kind: str, day: date) -> tuple[date, date]:
    if kind == "day":
        return day, day
    if kind == "month":
        return day.replace(day=1), _month_end(day.year, day.month)
    if kind == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        return date(day.year, first, 1), _month_end(day.year, first + 2)
    if kind == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(f"period kind {kind!r} is not one of {', '.join(KINDS)}")


def period_of(kind: str, start: date, end: date | None = None) -> Period:
    """The calendar day, month, quarter or year containing `start` (e.g. this month, for a
    default view), or with kind "range" the days start..end."""
    if kind == "range":
        if end is None:
            raise ValueError("a range needs its last day as well as its first")
        return Period(start, end, "range")
    if end is not None:
        raise ValueError(f"a {kind} is given by one day in it; leave out the end")
    return Period(*_bounds(kind, start), kind)


FIRST_YEAR, LAST_YEAR = 1970, 2999  # reports compare with the period before: keep both real


def check_years(start: date, end: date) -> None:
    """Refuse periods no rating can fall in, before they reach date arithmetic at the edges of
    the calendar (the period before year 1 does not exist)."""
    for day in (start, end):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValueError(
                f"{day.isoformat()}: reports cover the years {FIRST_YEAR} to {LAST_YEAR}"
            )


def _date(text: str, year: str, month: str, day: str) -> date:
    try:
        found = date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{text!r}: {year}-{month}-{day} is not a date in the calendar") from None
    check_years(found, found)
    return found


def parse_period(text: str) -> Period:
    """Read a period written as in `FORMS`; anything else is a ValueError that lists them."""
    value = text.strip()
    if ".." in value:
        first, _, last = value.partition("..")
        a, b = _DAY.fullmatch(first.strip()), _DAY.fullmatch(last.strip())
        if a is None or b is None:
            raise ValueError(f"{text!r}: a range is two days, e.g. 2026-10-05..2026-12-14")
        start, end = _date(text, *a.groups()), _date(text, *b.groups())
        if end < start:
            raise ValueError(
                f"{text!r}: the range ends before it starts; write the earlier day first"
            )
        return Period(start, end, "range")
    if m := _DAY.fullmatch(value):
        return period_of("day", _date(text, *m.groups()))
    if m := _MONTH.fullmatch(value):
        year, month = m.groups()
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{text!r}: there is no month {month}; months are 01 to 12")
        return period_of("month", _date(text, year, month, "01"))
    if m := _QUARTER.fullmatch(value):
        year, quarter = m.groups()
        return period_of("quarter", _date(text, year, f"{3 * int(quarter) - 2:02d}", "01"))
    if m := _YEAR.fullmatch(value):
        return period_of("year", _date(text, m.group(1), "01", "01"))
    raise ValueError(f"{text!r} is not a report period; write {FORMS}")


def utc_bounds(period: Period) -> tuple[datetime, datetime]:
    """[first moment, first moment after) of the period in UTC, for a query on stored times."""
    after = period.end + timedelta(days=1)
    return vn_day_start(period.start).astimezone(UTC), vn_day_start(after).astimezone(UTC)
