"""The rota, import and fleet pages' plain functions: the calendar, the table edits read back,
the import's progress and report, and the jobs an import runs in."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dashboard import fleet_table, import_view, rota_view
from dashboard.import_jobs import KEEP, Jobs
from hailong.errors import BrokerError
from server.storage.schedule import Rota
from server.timeutil import VN_TZ


@dataclass(frozen=True)
class Shift:
    counter_id: str
    officer_id: str
    start: datetime
    end: datetime | None
    source: str


NAMES = {"CB-A": "Nguyễn Thị An", "CB-B": "Trần Văn Bình"}


def vn(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


# --- the calendar -----------------------------------------------------------------------------


def test_months_step_across_the_year_and_an_unreadable_one_is_this_month() -> None:
    assert rota_view.step_month(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert rota_view.step_month(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert rota_view.month_of("2026-02", date(2026, 11, 20)) == date(2026, 2, 1)
    assert rota_view.month_of("feb", date(2026, 11, 20)) == date(2026, 11, 1)
    assert rota_view.next_month(date(2028, 12, 1)) == date(2029, 1, 1)
    assert rota_view.month_title(date(2026, 12, 1)) == "Tháng 12/2026"


def test_a_month_is_weeks_from_monday_with_the_days_outside_it_empty() -> None:
    weeks = rota_view.month_weeks(date(2026, 12, 1), [], NAMES)

    assert [len(w) for w in weeks] == [7] * 5
    assert weeks[0][0] is None  # 30 November, a Monday
    first = weeks[0][1]
    assert first is not None and first.day == date(2026, 12, 1) and first.entries == ()
    assert weeks[-1][3] is not None and weeks[-1][3].day == date(2026, 12, 31)
    assert weeks[-1][4] is None


def test_a_day_shows_its_shifts_cut_to_it_in_vietnam_time_with_their_source() -> None:
    shifts = [
        # stored naive UTC: 00:30 UTC is 07:30 in Vietnam
        Shift("Q1", "CB-A", datetime(2026, 12, 2, 0, 30), datetime(2026, 12, 2, 4, 30), "rota"),
        Shift("Q1", "CB-B", vn(2, 13), vn(3, 9), "assignment"),  # over midnight
        Shift("Q1", "CB-B", vn(4, 0), None, "assignment"),  # open-ended
    ]

    second = rota_view.day_entries(shifts, NAMES, date(2026, 12, 2))
    third = rota_view.day_entries(shifts, NAMES, date(2026, 12, 3))

    assert [rota_view.entry_text(e) for e in second] == [
        "Nguyễn Thị An 07:30–11:30",
        "Trần Văn Bình 13:00–24:00",
    ]
    assert [e.source for e in second] == ["rota", "assignment"]
    assert [rota_view.entry_text(e) for e in third] == ["Trần Văn Bình 00:00–09:00"]
    fifth = rota_view.day_entries(shifts, NAMES, date(2026, 12, 5))
    assert [rota_view.entry_text(e) for e in fifth] == ["Trần Văn Bình"]  # the whole day
    assert rota_view.day_entries(shifts, NAMES, date(2026, 12, 1)) == ()


# --- the rota rows ----------------------------------------------------------------------------


def rota_row(**fields: Any) -> Rota:
    base: dict[str, Any] = {
        "id": 7,
        "counter_id": "Q1",
        "officer_id": "CB-A",
        "first_day": date(2026, 12, 1),
        "last_day": None,
        "days": "mon,wed",
        "every": 2,
        "start_min": 450,
        "end_min": 1440,
    }
    return Rota(**{**base, **fields})


def test_a_rota_row_reads_as_written_and_back_as_the_same_row() -> None:
    (record,) = rota_view.rota_records([rota_row()], NAMES)

    assert record["officer"] == "Nguyễn Thị An (CB-A)"
    assert (record["from"], record["to"], record["days"]) == ("2026-12-01", "", "T2 T4")
    assert (record["every"], record["start"], record["end"]) == (2, "07:30", "24:00")
    again = rota_view.record_to_create(record)
    assert (again.from_day, again.to_day, again.days) == (date(2026, 12, 1), None, "mon,wed")
    assert (again.every, again.start_min, again.end_min) == (2, 450, 1440)


def test_cell_edits_give_each_edited_row_once_as_last_left() -> None:
    first, second = rota_view.rota_records([rota_row(), rota_row(id=8, officer_id="CB-B")], NAMES)
    days = {**first, "days": "T3 CN"}
    both = {**days, "end": "11:30"}
    other = {**second, "every": 3}

    changed = rota_view.edited_rows(
        [{"colId": "days", "data": days}, {"colId": "end", "data": both}, {"data": other}]
    )

    assert changed == [both, other]
    assert rota_view.record_to_create(both).days == "tue,sun"
    assert rota_view.edited_rows({"colId": "end", "data": both}) == [both]
    assert rota_view.edited_rows(None) == []


def test_only_an_admin_edits_rota_cells_and_never_who_or_from() -> None:
    editable = {c["field"] for c in rota_view.rota_columns(True) if c.get("editable")}
    assert editable == set(rota_view.EDITABLE)
    assert not any(c.get("editable") for c in rota_view.rota_columns(False))


def test_the_form_says_what_is_missing_or_wrong() -> None:
    with pytest.raises(ValueError, match=r"cán bộ \(officer\)"):
        rota_view.form_to_create("Q1", None, "2026-12-01", None, [], 1, None, None)
    with pytest.raises(ValueError) as caught:
        rota_view.form_to_create("Q1", "CB-A", "2026-12-01", None, [], 1, "11:00", "07:00")
    assert "end: must be after start" in str(caught.value)

    made = rota_view.form_to_create("Q1", "CB-A", "2026-12-01", "", ["mon", "fri"], 2, "", "")
    assert (made.days, made.every, made.to_day, made.start, made.end) == (
        "mon,fri",
        2,
        None,
        "00:00",
        "24:00",
    )


# --- the import -------------------------------------------------------------------------------


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


REPORT: dict[str, Any] = {
    "file_name": "dang-ky.xlsx",
    "dry_run": True,
    "written": False,
    "sheets": {
        "units": {"created": ["DH"], "updated": [], "unchanged": []},
        "counters": {"created": ids("Q", 40), "updated": ids("R", 2), "unchanged": ids("S", 3)},
    },
    "errors": [],
}


def test_progress_is_counted_in_rows_the_vietnamese_way() -> None:
    assert import_view.progress_text(120, 1248) == (
        "Đã xử lý 120/1.248 bước (10 %) · 120 of 1.248 steps done"
    )
    assert import_view.progress_text(0, 0).startswith("Đang đọc tệp")


def test_the_report_lists_sheets_and_says_what_happened() -> None:
    assert import_view.sheet_records(REPORT) == [
        {"sheet": "units", "created": 1, "updated": 0, "unchanged": 0},
        {"sheet": "counters", "created": 40, "updated": 2, "unchanged": 3},
    ]
    assert import_view.summary(REPORT)[0].startswith("Tệp hợp lệ: sẽ thay đổi 43")
    written = {**REPORT, "dry_run": False, "written": True}
    assert import_view.summary(written)[1] == "Imported: 43 rows changed."


def test_errors_are_listed_by_sheet_row_and_column_and_nothing_is_written() -> None:
    error = {
        "sheet": "rota",
        "row": 5,
        "column": "days",
        "message_vi": "thứ không hợp lệ",
        "message_en": "unknown weekday",
    }
    failed = {**REPORT, "dry_run": False, "errors": [error]}

    assert import_view.error_records(failed) == [error]
    assert import_view.summary(failed)[0].startswith("1 lỗi: không ghi gì")


def test_a_job_reports_progress_then_its_report_to_its_owner_only() -> None:
    jobs = Jobs()
    halfway = threading.Event()
    go_on = threading.Event()

    def work(progress: Any) -> dict[str, Any]:
        progress(120, 248)
        halfway.set()
        go_on.wait()
        progress(248, 248)
        return REPORT

    job_id = jobs.start("admin", work)
    halfway.wait()
    running = jobs.get(job_id, "admin")
    assert running is not None and (running.done, running.total, running.finished) == (
        120,
        248,
        False,
    )
    assert jobs.get(job_id, "someone-else") is None
    go_on.set()
    jobs.wait(job_id)
    done = jobs.get(job_id, "admin")
    assert done is not None and done.finished and done.report == REPORT and done.done == 248


def test_a_failed_job_says_why() -> None:
    jobs = Jobs()

    def work(_progress: Any) -> dict[str, Any]:
        raise OSError("disk full")

    def refused(_progress: Any) -> dict[str, Any]:
        raise BrokerError("the broker is not reachable")

    job_id = jobs.start("admin", work)
    words = jobs.start("admin", refused)
    jobs.wait(job_id)
    jobs.wait(words)
    failed = jobs.get(job_id, "admin")
    assert failed is not None and failed.failure == "OSError: disk full"
    said = jobs.get(words, "admin")
    assert said is not None and said.failure == "the broker is not reachable"


# --- the fleet --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FleetRow:
    device_id: str
    counter_name: str
    unit_name: str
    status: str
    since: datetime | None
    last_seen_at: datetime | None
    officer_name: str | None
    outbox: int | None
    missing_seqs: int
    firmware: str | None


def test_a_fleet_row_shows_its_status_and_since_when_in_vietnam_time() -> None:
    row = FleetRow(
        "HL-01",
        "Quầy 1",
        "Phường Diên Hồng",
        "offline",
        datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 1, 59, tzinfo=UTC),
        None,
        3,
        2,
        None,
    )

    (record,) = fleet_table.records([row])

    assert record["status"] == "Mất kết nối (offline)" and record["status_code"] == "offline"
    assert (record["since"], record["last_seen"]) == ("2026-12-02 09:00", "2026-12-02 08:59")
    assert (record["officer"], record["firmware"]) == ("—", "—")
    assert (record["backlog"], record["missing"]) == (3, 2)
    assert [o["value"] for o in fleet_table.status_options()] == [
        "*",
        "online",
        "silent",
        "offline",
        "never_seen",
        "revoked",
    ]


def test_only_the_last_jobs_are_kept() -> None:
    jobs = Jobs()
    started = [jobs.start("admin", lambda _progress: REPORT) for _ in range(KEEP + 1)]
    for job_id in started:
        jobs.wait(job_id)

    assert jobs.get(started[0], "admin") is None
    assert all(jobs.get(job_id, "admin") is not None for job_id in started[1:])
