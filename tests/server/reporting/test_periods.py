"""Report periods: the written forms, their labels, the period before, and Vietnam-day bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.reporting.periods import (
    FORMS,
    Period,
    comparable_previous,
    parse_period,
    period_of,
    utc_bounds,
)
from server.timeutil import vn_day


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "label_vi", "label_en"),
    [
        (
            "2026-10-05",
            date(2026, 10, 5),
            date(2026, 10, 5),
            "day",
            "Ngày 05/10/2026",
            "5 October 2026",
        ),
        (
            "2026-10",
            date(2026, 10, 1),
            date(2026, 10, 31),
            "month",
            "Tháng 10/2026",
            "October 2026",
        ),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "month", "Tháng 2/2026", "February 2026"),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), "month", "Tháng 2/2028", "February 2028"),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "quarter", "Quý 4/2026", "Q4 2026"),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), "quarter", "Quý 1/2026", "Q1 2026"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "year", "Năm 2026", "Year 2026"),
        (
            "2026-10-05..2026-12-14",
            date(2026, 10, 5),
            date(2026, 12, 14),
            "range",
            "05/10/2026 – 14/12/2026",
            "5 October 2026 – 14 December 2026",
        ),
        (
            " 2026-10 ",
            date(2026, 10, 1),
            date(2026, 10, 31),
            "month",
            "Tháng 10/2026",
            "October 2026",
        ),
    ],
)
def test_parse(text: str, start: date, end: date, kind: str, label_vi: str, label_en: str) -> None:
    period = parse_period(text)
    assert period == Period(start, end, kind)
    assert (period.label_vi, period.label_en) == (label_vi, label_en)
    assert parse_period(period.text) == period


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a report period"),
        ("October 2026", "is not a report period"),
        ("26-10", "is not a report period"),
        ("2026-1", "is not a report period"),
        ("20261005", "is not a report period"),  # date.fromisoformat would take this one
        ("2026-W41", "is not a report period"),
        ("2026-Q5", "is not a report period"),
        ("2026-13", "there is no month 13"),
        ("2026-00", "there is no month 00"),
        ("2026-02-29", "2026-02-29 is not a date in the calendar"),
        ("0000", "is not a date in the calendar"),
        ("2026-10-05..", "a range is two days"),
        ("2026-10..2026-12", "a range is two days"),
        ("2026-12-14..2026-10-05", "ends before it starts"),
        ("2026-10-05..2026-11-31", "2026-11-31 is not a date"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(text)


def test_the_general_error_lists_every_form() -> None:
    with pytest.raises(ValueError) as caught:
        parse_period("last month")
    assert FORMS in str(caught.value)
    for example in ("2026-10-05", "2026-10", "2026-Q4", "2026", "2026-10-05..2026-12-14"):
        assert example in str(caught.value)


@pytest.mark.parametrize(
    ("text", "before"),
    [
        ("2026-10-05", "2026-10-04"),
        ("2026-03-01", "2026-02-28"),
        ("2026-01-01", "2025-12-31"),
        ("2026-10", "2026-09"),
        ("2026-03", "2026-02"),
        ("2026-01", "2025-12"),
        ("2026-Q4", "2026-Q3"),
        ("2026-Q1", "2025-Q4"),
        ("2026", "2025"),
        # 5 Oct..14 Dec is 27 + 30 + 14 = 71 days; the 71 days before end on 4 Oct
        ("2026-10-05..2026-12-14", "2026-07-26..2026-10-04"),
        ("2026-03-01..2026-03-01", "2026-02-28..2026-02-28"),
        # 1..31 Mar is 31 days: not "February", but 31 days from 29 Jan
        ("2026-03-01..2026-03-31", "2026-01-29..2026-02-28"),
    ],
)
def test_previous(text: str, before: str) -> None:
    assert parse_period(text).previous() == parse_period(before)


def test_previous_range_has_as_many_days() -> None:
    period = parse_period("2026-10-05..2026-12-14")
    assert period.days == 71
    assert period.previous().days == 71


@pytest.mark.parametrize(
    ("text", "today", "before"),
    [
        # over: the whole period before
        ("2026-11", date(2026, 12, 3), "2026-10"),
        ("2026-11", date(2026, 12, 1), "2026-10"),
        # running: as many days from the start of the period before, today included
        ("2026-12", date(2026, 12, 3), "2026-11-01..2026-11-03"),
        ("2026-12", date(2026, 12, 1), "2026-11-01..2026-11-01"),
        ("2026-Q4", date(2026, 11, 20), "2026-07-01..2026-08-20"),
        ("2026", date(2026, 2, 1), "2025-01-01..2025-02-01"),
        # the last day of a month is still running; the month before is shorter: all of it
        ("2026-12", date(2026, 12, 31), "2026-11"),
        ("2026-03", date(2026, 3, 30), "2026-02"),
        ("2026-10-05..2026-12-14", date(2026, 10, 6), "2026-07-26..2026-07-27"),
        # not begun: the whole period before
        ("2027-01", date(2026, 12, 3), "2026-12"),
        # a day is over the day after
        ("2026-12-03", date(2026, 12, 3), "2026-12-02"),
    ],
)
def test_comparable_previous(text: str, today: date, before: str) -> None:
    assert comparable_previous(parse_period(text), today) == parse_period(before)


def test_complete_once_its_last_day_is_past() -> None:
    november = parse_period("2026-11")
    assert not november.complete(date(2026, 11, 30))
    assert november.complete(date(2026, 12, 1))


def test_utc_bounds_start_at_17_utc_the_day_before() -> None:
    start, end = utc_bounds(parse_period("2026-10-05"))
    assert start == datetime(2026, 10, 4, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 5, 17, 0, tzinfo=UTC)
    assert start.tzinfo is UTC
    # the moment 17:00 UTC belongs to the next Vietnam day, one microsecond before does not
    assert vn_day(start) == date(2026, 10, 5)
    assert vn_day(datetime(2026, 10, 4, 16, 59, 59, 999999, tzinfo=UTC)) == date(2026, 10, 4)
    assert vn_day(end) == date(2026, 10, 6)


def test_utc_bounds_of_a_year_and_a_range() -> None:
    assert utc_bounds(parse_period("2026")) == (
        datetime(2025, 12, 31, 17, tzinfo=UTC),
        datetime(2026, 12, 31, 17, tzinfo=UTC),
    )
    assert utc_bounds(parse_period("2026-10-05..2026-12-14")) == (
        datetime(2026, 10, 4, 17, tzinfo=UTC),
        datetime(2026, 12, 14, 17, tzinfo=UTC),
    )


def test_period_of() -> None:
    assert period_of("month", date(2026, 11, 21)) == parse_period("2026-11")
    assert period_of("quarter", date(2026, 11, 21)) == parse_period("2026-Q4")
    assert period_of("year", date(2026, 11, 21)) == parse_period("2026")
    assert period_of("day", date(2026, 11, 21)) == parse_period("2026-11-21")
    assert period_of("range", date(2026, 11, 1), date(2026, 11, 21)) == parse_period(
        "2026-11-01..2026-11-21"
    )
    with pytest.raises(ValueError, match="needs its last day"):
        period_of("range", date(2026, 11, 1))
    with pytest.raises(ValueError, match="leave out the end"):
        period_of("month", date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(ValueError, match="not one of"):
        period_of("week", date(2026, 11, 1))


def test_period_checks_itself() -> None:
    with pytest.raises(ValueError, match="not one of"):
        Period(date(2026, 1, 1), date(2026, 1, 7), "week")
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 1, 2), date(2026, 1, 1), "range")
    with pytest.raises(ValueError, match="is not a calendar month"):
        Period(date(2026, 1, 2), date(2026, 1, 31), "month")
    with pytest.raises(ValueError, match="is not a calendar day"):
        Period(date(2026, 1, 1), date(2026, 1, 2), "day")
