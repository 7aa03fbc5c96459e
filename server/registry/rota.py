"""Who is at a counter, from rotas, absences and one-off assignments: pure, with no database.

A rota row expands into shifts on Vietnam days (UTC+7, no daylight saving, so a day is always
24 hours); an absence cuts the rota shifts it covers (an officer's leave, a unit's day off, a
public holiday for everyone); a one-off assignment wins over the rota shifts of its counter for
its span, which keep only their uncovered parts; and an officer's sign-in at the unit (an
assignment whose `source` is `signin`) wins over both at its counter, since it is the officer's
own word that they are there. server/registry/roster.py reads the rows and calls `resolve`; the
write rules check the same resolution with a change applied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

from server.storage.schedule import weekday_set
from server.timeutil import VN_TZ, utc, vn_day, vn_day_start

Source = Literal["assignment", "rota", "signin"]
SIGNIN = "signin"  # Assignment.source of a shift an officer started at the unit
Span = tuple[datetime, datetime | None]  # end None: open-ended


class RotaRow(Protocol):
    id: int | None
    counter_id: str
    officer_id: str
    first_day: date
    last_day: date | None
    days: str
    every: int
    start_min: int
    end_min: int


class AssignmentRow(Protocol):
    id: int | None
    counter_id: str
    officer_id: str
    start: datetime
    end: datetime | None
    source: str


class AbsenceRow(Protocol):
    officer_id: str | None
    unit_id: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Shift:
    """An officer at a counter from `start` (inclusive) to `end` (exclusive; None: open),
    as aware UTC times, and where it comes from."""

    counter_id: str
    officer_id: str
    start: datetime
    end: datetime | None
    source: Source
    rota_id: int | None = None
    assignment_id: int | None = None


def period_days(row: RotaRow) -> int:
    """The length in days after which the row's pattern repeats."""
    return row.every * 7 if row.days else row.every


def occurs_on(row: RotaRow, day: date) -> bool:
    if day < row.first_day or (row.last_day is not None and day > row.last_day):
        return False
    if not row.days:
        return (day - row.first_day).days % row.every == 0
    week_one = row.first_day - timedelta(days=row.first_day.weekday())
    weeks = (day - week_one).days // 7
    return day.weekday() in weekday_set(row.days) and weeks % row.every == 0


def occurrences(row: RotaRow, first_day: date, last_day: date) -> list[tuple[datetime, datetime]]:
    """The row's shifts on the Vietnam days first_day..last_day (both included), in UTC."""
    start_day = max(first_day, row.first_day)
    end_day = last_day if row.last_day is None else min(last_day, row.last_day)
    found: list[tuple[datetime, datetime]] = []
    day = start_day
    while day <= end_day:
        if occurs_on(row, day):
            midnight = vn_day_start(day)
            found.append(
                (
                    (midnight + timedelta(minutes=row.start_min)).astimezone(UTC),
                    (midnight + timedelta(minutes=row.end_min)).astimezone(UTC),
                )
            )
        day += timedelta(days=1)
    return found


def subtract(spans: Iterable[Span], cuts: Sequence[Span]) -> list[Span]:
    """What is left of `spans` outside every cut (cuts may overlap; None ends are open)."""
    left = list(spans)
    for cut_start, cut_end in cuts:
        pieces: list[Span] = []
        for start, end in left:
            if (cut_end is not None and cut_end <= start) or (end is not None and end <= cut_start):
                pieces.append((start, end))
                continue
            if start < cut_start:
                pieces.append((start, cut_start))
            if cut_end is not None and (end is None or cut_end < end):
                pieces.append((cut_end, end))
        left = pieces
    return left


def overlaps(
    a_start: datetime, a_end: datetime | None, b_start: datetime, b_end: datetime | None
) -> bool:
    return (a_end is None or b_start < a_end) and (b_end is None or a_start < b_end)


def resolve(
    first: datetime,
    last: datetime,
    rotas: Iterable[RotaRow],
    assignments: Iterable[AssignmentRow],
    absences: Sequence[AbsenceRow],
    unit_of: Mapping[str, str],
) -> dict[str, list[Shift]]:
    """Every counter's shifts that overlap first..last, sorted by start.

    Rota shifts lose what an absence of their officer, of their counter's unit or of everyone
    covers, then what an assignment at their counter covers; a one-off from the registry loses
    what a sign-in at its counter covers; sign-ins are kept whole."""
    first, last = utc(first), utc(last)
    found: dict[str, list[Shift]] = defaultdict(list)
    taken: dict[str, list[Span]] = defaultdict(list)
    signed: dict[str, list[Span]] = defaultdict(list)
    rows = [(a, utc(a.start), utc(a.end) if a.end is not None else None) for a in assignments]
    for a, start, end in rows:
        taken[a.counter_id].append((start, end))
        if a.source == SIGNIN:
            signed[a.counter_id].append((start, end))
    for a, start, end in rows:
        source: Source = "signin" if a.source == SIGNIN else "assignment"
        spans = (
            [(start, end)] if source == "signin" else subtract([(start, end)], signed[a.counter_id])
        )
        for piece_start, piece_end in spans:
            if overlaps(piece_start, piece_end, first, last + timedelta.resolution):
                found[a.counter_id].append(
                    Shift(
                        a.counter_id,
                        a.officer_id,
                        piece_start,
                        piece_end,
                        source,
                        assignment_id=a.id,
                    )
                )
    cuts = [(a, utc(a.start), utc(a.end)) for a in absences]
    days = (vn_day(first), vn_day(last))
    for row in rotas:
        unit = unit_of.get(row.counter_id)
        row_cuts = [
            (start, end)
            for a, start, end in cuts
            if (a.officer_id is None and a.unit_id is None)
            or (a.officer_id is not None and a.officer_id == row.officer_id)
            or (a.unit_id is not None and a.unit_id == unit)
        ]
        spans = subtract(occurrences(row, *days), row_cuts + taken[row.counter_id])
        for start, end in spans:
            if end is not None and overlaps(start, end, first, last + timedelta.resolution):
                found[row.counter_id].append(
                    Shift(row.counter_id, row.officer_id, start, end, "rota", rota_id=row.id)
                )
    for shifts in found.values():
        shifts.sort(key=lambda s: (s.start, s.source, s.officer_id))
    return dict(found)


def vn_text(moment: datetime) -> tuple[str, str]:
    """(HH:MM, dd/mm/yyyy) of a moment in Vietnam time."""
    local = moment.astimezone(VN_TZ)
    return local.strftime("%H:%M"), local.strftime("%d/%m/%Y")


def span_text(start: datetime, end: datetime | None) -> tuple[str, str]:
    """A shift's times in Vietnam time, in Vietnamese and in English."""
    start_time, start_day = vn_text(start)
    if end is None:
        return (
            f"từ {start_time} ngày {start_day}, không có giờ kết thúc",
            f"from {start_time} on {start_day}, with no end",
        )
    end_time, end_day = vn_text(end)
    if end <= vn_day_start(vn_day(start) + timedelta(days=1)):  # ends on its day
        end_time = "24:00" if end_time == "00:00" else end_time
        return (
            f"từ {start_time} đến {end_time} ngày {start_day}",
            f"from {start_time} to {end_time} on {start_day}",
        )
    return (
        f"từ {start_time} ngày {start_day} đến {end_time} ngày {end_day}",
        f"from {start_time} on {start_day} to {end_time} on {end_day}",
    )
