"""The rota page's content as plain values: a month of resolved shifts laid out as a calendar,
the rota rows as table records, and a table record or the form read back as a `RotaCreate`.

No Dash and no database here, so each function is tested by looking at what it returns; the page
(dashboard/pages/rota.py) reads the registry and draws these.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from dashboard.components import column
from server.storage.schedule import (
    VI_WEEKDAYS,
    WEEKDAYS,
    Rota,
    RotaCreate,
    format_minute,
    vi_days,
)
from server.timeutil import VN_TZ, vn_day_start

SOURCES = {
    "assignment": ("phân công", "one-off"),
    "rota": ("lịch trực", "rota"),
    "signin": ("đăng nhập tại quầy", "signed in at the unit"),
}


class ShiftLike(Protocol):
    """What the calendar needs of a resolved shift (server.registry.roster.Shift)."""

    @property
    def officer_id(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class Entry:
    """One officer's time at the counter on one Vietnam day, as the calendar cell shows it."""

    officer_id: str
    name: str
    start: str
    end: str
    source: str


@dataclass(frozen=True)
class Day:
    day: date
    entries: tuple[Entry, ...]


# --- months -----------------------------------------------------------------------------------


def month_of(text: str | None, today: date) -> date:
    """ "2026-12" as its first day; anything unreadable is this month."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def step_month(first: date, step: int) -> date:
    index = first.year * 12 + first.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def month_key(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def month_title(first: date) -> str:
    return f"Tháng {first.month}/{first.year}"


def next_month(first: date) -> date:
    return step_month(first, 1)


# --- the calendar -----------------------------------------------------------------------------


def _vn(moment: datetime) -> datetime:
    """A stored time (naive means UTC) in Vietnam time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ)


def day_entries(
    shifts: Iterable[ShiftLike], names: Mapping[str, str], day: date
) -> tuple[Entry, ...]:
    """The shifts overlapping Vietnam day `day`, cut to it, by start time."""
    day_start = vn_day_start(day)
    day_end = day_start + timedelta(days=1)
    found = []
    for shift in shifts:
        start = max(_vn(shift.start), day_start)
        end = day_end if shift.end is None else min(_vn(shift.end), day_end)
        if end <= start:
            continue
        end_text = "24:00" if end == day_end else format_minute(end.hour * 60 + end.minute)
        found.append(
            Entry(
                officer_id=shift.officer_id,
                name=names.get(shift.officer_id, shift.officer_id),
                start=format_minute(start.hour * 60 + start.minute),
                end=end_text,
                source=shift.source,
            )
        )
    return tuple(sorted(found, key=lambda e: (e.start, e.end, e.name)))


def month_weeks(
    first: date, shifts: Sequence[ShiftLike], names: Mapping[str, str]
) -> list[list[Day | None]]:
    """The month as weeks Monday to Sunday (T2 to CN); days outside it are None."""
    weeks: list[list[Day | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        weeks.append(
            [
                Day(day, day_entries(shifts, names, day)) if day.month == first.month else None
                for day in week
            ]
        )
    return weeks


def entry_text(entry: Entry) -> str:
    """ "Nguyễn Văn An 07:30–11:30"; the whole day shows the name alone."""
    if (entry.start, entry.end) == ("00:00", "24:00"):
        return entry.name
    return f"{entry.name} {entry.start}–{entry.end}"


# --- the rota rows ----------------------------------------------------------------------------

# What an admin may change in a row, in the list itself (a double-click or Enter edits a cell).
EDITABLE = ("to", "days", "every", "start", "end")
ROTA_COLUMNS: list[dict[str, Any]] = [
    column("officer", "Cán bộ", "Officer"),
    column("from", "Từ ngày", "From"),
    column("to", "Đến ngày", "To"),
    column("days", "Thứ (trống: mọi ngày)", "Days (empty: every day)"),
    column("every", "Lặp mỗi", "Every", type="numericColumn"),
    column("start", "Bắt đầu", "Start"),
    column("end", "Kết thúc", "End"),
]


def rota_columns(writable: bool) -> list[dict[str, Any]]:
    """The columns, EDITABLE ones editable for an admin."""
    return [
        {**c, "editable": True} if writable and c["field"] in EDITABLE else c for c in ROTA_COLUMNS
    ]


def rota_records(rows: Iterable[Rota], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One record per rota row; `officer_id` and `counter_id` ride along unseen, for a write."""
    return [
        {
            "id": row.id,
            "counter_id": row.counter_id,
            "officer_id": row.officer_id,
            "officer": f"{names.get(row.officer_id, row.officer_id)} ({row.officer_id})",
            "from": row.first_day.isoformat(),
            "to": row.last_day.isoformat() if row.last_day else "",
            "days": vi_days(row.days),
            "every": row.every,
            "start": format_minute(row.start_min),
            "end": format_minute(row.end_min),
        }
        for row in sorted(rows, key=lambda r: (r.first_day, r.officer_id))
    ]


def record_to_create(record: Mapping[str, Any]) -> RotaCreate:
    """A table record, as the user edited it, as the row to write (ValueError if unreadable)."""
    return RotaCreate.model_validate(
        {
            "counter_id": record["counter_id"],
            "officer_id": record["officer_id"],
            "from": record["from"],
            "to": (str(record.get("to") or "").strip() or None),
            "days": record.get("days") or "",
            "every": record.get("every") or 1,
            "start": record.get("start") or None,
            "end": record.get("end") or None,
        }
    )


def edited_rows(changes: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None) -> list[Any]:
    """The rows a list's cell edits left (the grid's `cellValueChanged`: one event per edited
    cell, each with its whole row after the edit), the last state of each row once."""
    if isinstance(changes, Mapping):
        changes = [changes]
    rows: dict[Any, Mapping[str, Any]] = {}
    for change in changes or ():
        data = change.get("data") or {}
        if "id" in data:
            rows[data["id"]] = data
    return list(rows.values())


def form_to_create(
    counter_id: str | None,
    officer_id: str | None,
    from_day: str | None,
    to_day: str | None,
    days: Sequence[str] | None,
    every: Any,
    start: str | None,
    end: str | None,
) -> RotaCreate:
    """The add form as the row to write; a ValueError says which field is wrong."""
    missing = [
        label
        for label, value in (
            ("quầy (counter)", counter_id),
            ("cán bộ (officer)", officer_id),
            ("từ ngày (from)", from_day),
        )
        if not value
    ]
    if missing:
        raise ValueError("Chưa chọn / not chosen: " + ", ".join(missing))
    return RotaCreate.model_validate(
        {
            "counter_id": counter_id,
            "officer_id": officer_id,
            "from": from_day,
            "to": to_day or None,
            "days": " ".join(days or ()),
            "every": every or 1,
            "start": start or None,
            "end": end or None,
        }
    )


DAY_OPTIONS = [{"label": vi, "value": en} for vi, en in zip(VI_WEEKDAYS, WEEKDAYS, strict=True)]
