"""Rota expansion, absences and one-offs resolved into shifts: pure, with hand-checked cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from server.registry.duty import officer_at
from server.registry.rota import Shift, occurrences, resolve, span_text, subtract
from server.storage.models import Assignment
from server.storage.schedule import Absence, Rota, RotaCreate
from server.timeutil import VN_TZ

DEC = (date(2026, 12, 1), date(2026, 12, 31))


def vn(day: int, hour: int = 0, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


def rota(officer: str = "CB-1", counter: str = "Q1", rota_id: int = 1, **fields: object) -> Rota:
    data = RotaCreate.model_validate({"counter_id": counter, "officer_id": officer, **fields})
    return Rota(
        id=rota_id,
        counter_id=counter,
        officer_id=officer,
        first_day=data.from_day,
        last_day=data.to_day,
        days=data.days,
        every=data.every,
        start_min=data.start_min,
        end_min=data.end_min,
    )


def resolved(rows: list[Rota], ones: list[Assignment] = (), absences: list[Absence] = ()):  # type: ignore[assignment]
    return resolve(vn(1), vn(1, month=1) + timedelta(days=365), rows, ones, absences, {"Q1": "DH"})


def test_two_officers_alternating_days_give_exactly_one_officer_each_day_of_a_month() -> None:
    rows = [
        rota("CB-1", rota_id=1, **{"from": "2026-12-01", "every": 2}),
        rota("CB-2", rota_id=2, **{"from": "2026-12-02", "every": 2}),
    ]
    shifts = resolve(vn(1), vn(31, 23), rows, [], [], {"Q1": "DH"})["Q1"]
    assert len(shifts) == 31
    for day in range(1, 32):
        at_noon = [s.officer_id for s in shifts if s.start <= vn(day, 12) < s.end]  # type: ignore[operator]
        assert at_noon == ["CB-1" if day % 2 else "CB-2"], day
        assert officer_at(shifts, vn(day, 0)) == ("CB-1" if day % 2 else "CB-2")


def test_weekdays_every_week_skip_the_weekends() -> None:
    row = rota(**{"from": "2026-12-01", "days": "T2 T3 T4 T5 T6", "start": "07:30", "end": "17:00"})
    found = occurrences(row, *DEC)
    # December 2026 begins on a Tuesday: 23 working days, none on the 5th/6th, 12th/13th, ...
    assert len(found) == 23
    days = {s.astimezone(VN_TZ).day for s, _ in found}
    assert not days & {5, 6, 12, 13, 19, 20, 26, 27}
    assert found[0] == (vn(1, 7, 30).astimezone(UTC), vn(1, 17).astimezone(UTC))


def test_every_two_weeks_counts_from_the_monday_of_the_first_week() -> None:
    # From Wednesday 2 December: the first week is the one of Monday 30 November, so the Mondays
    # are 14 and 28 December (30 November is before `from`); the Fridays 4 and 18.
    row = rota(**{"from": "2026-12-02", "days": "mon fri", "every": 2})
    found = [s.astimezone(VN_TZ).day for s, _ in occurrences(row, *DEC)]
    assert found == [4, 14, 18, 28]


def test_every_n_days_without_weekdays_and_the_last_day_included() -> None:
    row = rota(**{"from": "2026-12-03", "to": "2026-12-12", "every": 3})
    assert [s.astimezone(VN_TZ).day for s, _ in occurrences(row, *DEC)] == [3, 6, 9, 12]


def test_a_shift_ends_on_its_day_so_overnight_is_refused() -> None:
    with pytest.raises(ValidationError, match="end: must be after start"):
        RotaCreate.model_validate(
            {
                "counter_id": "Q1",
                "officer_id": "CB-1",
                "from": "2026-12-01",
                "start": "22:00",
                "end": "06:00",
            }
        )


def test_vietnam_days_are_24_hours_at_utc_plus_7_all_year() -> None:
    row = rota(**{"from": "2026-03-28", "to": "2026-11-02"})
    found = occurrences(row, date(2026, 1, 1), date(2026, 12, 31))
    assert len(found) == (date(2026, 11, 2) - date(2026, 3, 28)).days + 1
    assert all(end - start == timedelta(hours=24) for start, end in found)
    assert all(start.hour == 17 for start, _ in found)  # 00:00 in Vietnam is 17:00 UTC
    assert found[0][0] == datetime(2026, 3, 27, 17, tzinfo=UTC)


def test_a_one_off_wins_for_its_span_and_the_rota_keeps_the_rest() -> None:
    row = rota(**{"from": "2026-12-02", "to": "2026-12-02", "start": "07:00", "end": "17:00"})
    one = Assignment(id=9, officer_id="CB-9", counter_id="Q1", start=vn(2, 10), end=vn(2, 12))
    shifts = resolved([row], [one])["Q1"]
    assert [(s.officer_id, s.source, s.start, s.end) for s in shifts] == [
        ("CB-1", "rota", vn(2, 7), vn(2, 10)),
        ("CB-9", "assignment", vn(2, 10), vn(2, 12)),
        ("CB-1", "rota", vn(2, 12), vn(2, 17)),
    ]
    assert shifts[1].assignment_id == 9 and shifts[0].rota_id == 1


def test_an_open_one_off_covers_the_rota_from_its_start() -> None:
    row = rota(**{"from": "2026-12-01", "to": "2026-12-03"})
    one = Assignment(id=9, officer_id="CB-9", counter_id="Q1", start=vn(2, 12), end=None)
    shifts = resolved([row], [one])["Q1"]
    assert [(s.officer_id, s.start, s.end) for s in shifts] == [
        ("CB-1", vn(1), vn(2)),
        ("CB-1", vn(2), vn(2, 12)),
        ("CB-9", vn(2, 12), None),
    ]


def test_a_sign_in_wins_over_the_rota_and_a_one_off_at_its_counter_and_is_kept_whole() -> None:
    row = rota(**{"from": "2026-12-02", "to": "2026-12-02", "start": "07:00", "end": "17:00"})
    one = Assignment(id=9, officer_id="CB-9", counter_id="Q1", start=vn(2, 9), end=None)
    signed = Assignment(
        id=10, officer_id="CB-5", counter_id="Q1", start=vn(2, 10), end=vn(2, 11), source="signin"
    )
    shifts = resolved([row], [one, signed])["Q1"]
    assert [(s.officer_id, s.source, s.start, s.end) for s in shifts] == [
        ("CB-1", "rota", vn(2, 7), vn(2, 9)),
        ("CB-9", "assignment", vn(2, 9), vn(2, 10)),
        ("CB-5", "signin", vn(2, 10), vn(2, 11)),
        ("CB-9", "assignment", vn(2, 11), None),
    ]
    assert shifts[2].assignment_id == 10 and shifts[3].assignment_id == 9
    assert officer_at(shifts, vn(2, 10, 30)) == "CB-5"


@pytest.mark.parametrize(
    ("officer_id", "unit_id", "cut"),
    [
        ("CB-1", None, True),
        ("CB-2", None, False),
        (None, "DH", True),
        (None, "XX", False),
        (None, None, True),
    ],
)
def test_leave_a_unit_day_off_and_a_holiday_cut_rota_shifts(
    officer_id: str | None, unit_id: str | None, cut: bool
) -> None:
    row = rota(**{"from": "2026-12-01", "to": "2026-12-03"})
    absence = Absence(officer_id=officer_id, unit_id=unit_id, start=vn(2), end=vn(3))
    days = [s.start.astimezone(VN_TZ).day for s in resolved([row], [], [absence])["Q1"]]
    assert days == ([1, 3] if cut else [1, 2, 3])


def test_absences_do_not_cut_one_offs_so_a_substitute_can_be_put_in() -> None:
    one = Assignment(id=9, officer_id="CB-1", counter_id="Q1", start=vn(2, 8), end=vn(2, 9))
    holiday = Absence(start=vn(2), end=vn(3))
    assert [s.source for s in resolved([], [one], [holiday])["Q1"]] == ["assignment"]


def test_subtract_keeps_what_no_cut_covers() -> None:
    a, b, c, d = (vn(1, h) for h in (7, 9, 11, 17))
    assert subtract([(a, d)], [(b, c)]) == [(a, b), (c, d)]
    assert subtract([(a, d)], [(a, None)]) == []
    assert subtract([(b, c)], [(a, b), (c, d)]) == [(b, c)]


def test_shift_times_are_written_in_vietnam_time() -> None:
    shift = Shift("Q2", "CB-1", vn(2, 7, 30), vn(2, 11, 30), "rota")
    assert span_text(shift.start, shift.end) == (
        "từ 07:30 đến 11:30 ngày 02/12/2026",
        "from 07:30 to 11:30 on 02/12/2026",
    )
    assert span_text(vn(2), vn(3))[0] == "từ 00:00 đến 24:00 ngày 02/12/2026"
    assert span_text(vn(2, 8), vn(4, 8))[1] == "from 08:00 on 02/12/2026 to 08:00 on 04/12/2026"
