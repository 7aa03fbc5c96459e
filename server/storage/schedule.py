"""The duty schedule's tables: rotas (recurring shifts) and absences (leave, holidays).

One-off assignments (`models.Assignment`) stay as they were and win over a rota for their span;
server/registry/ resolves the three into who is at a counter at any moment. A rota row is what an
administrator writes once a season instead of one assignment per day: dates are Vietnam calendar
days, times of day are Vietnam wall-clock minutes, so a rota means the same thing whatever the
server's or the unit's clock says.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.storage.models import MAX_YEAR, MIN_YEAR

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Vietnamese weekday names as written on schedules: Thứ Hai is T2 ... Chủ nhật is CN.
VI_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
_DAY_NAMES = {name.lower(): i for names in (WEEKDAYS, VI_WEEKDAYS) for i, name in enumerate(names)}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
DAY_MINUTES = 24 * 60
MAX_EVERY = 52


def parse_days(text: str | None) -> str:
    """`T2 T4 T6`, `mon,wed,fri` or empty, as the canonical `mon,wed,fri` ('' = every day)."""
    found: set[int] = set()
    for word in re.split(r"[\s,;]+", (text or "").strip()):
        if not word:
            continue
        index = _DAY_NAMES.get(word.lower())
        if index is None:
            raise ValueError(
                f"unknown weekday {word!r}: use T2 T3 T4 T5 T6 T7 CN or mon tue wed thu fri sat sun"
            )
        found.add(index)
    return ",".join(WEEKDAYS[i] for i in sorted(found))


def weekday_set(days: str) -> frozenset[int]:
    """The canonical `days` as Python weekday numbers (Monday 0); empty means every day."""
    return frozenset(WEEKDAYS.index(d) for d in days.split(",") if d)


def vi_days(days: str) -> str:
    """`mon,wed` as `T2 T4`, for the screen and the template."""
    return " ".join(VI_WEEKDAYS[i] for i in sorted(weekday_set(days)))


def parse_minute(text: str | None, *, default: int, end: bool = False) -> int:
    """`07:30` as 450; empty is the default; `24:00` only as an end (midnight after the day)."""
    if text is None or not str(text).strip():
        return default
    match = _HHMM.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day: write HH:MM, e.g. 07:30")
    hours, minutes = int(match[1]), int(match[2])
    value = hours * 60 + minutes
    if minutes > 59 or value > DAY_MINUTES or (value == DAY_MINUTES and not end):
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return value


def format_minute(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


class RotaCreate(SQLModel):
    """A recurring shift as written in a rota sheet or sent to `POST /api/v1/rota`.

    `days` empty: every `every` days from `from`; `days` given: those weekdays of every `every`th
    week counting from the week of `from`. Two officers alternating days at one counter are two
    rows with `every` 2 and `from` one day apart."""

    model_config = ConfigDict(populate_by_name=True)  # type: ignore[assignment]

    counter_id: str = Field(max_length=64)
    officer_id: str = Field(max_length=64)
    from_day: date = Field(alias="from", description="first Vietnam day of the rota")
    to_day: date | None = Field(
        default=None, alias="to", description="last Vietnam day (included); null: open-ended"
    )
    days: str = Field(
        default="", description="weekdays: T2 T3 T4 T5 T6 T7 CN or mon..sun; empty: every day"
    )
    every: int = Field(
        default=1, ge=1, le=MAX_EVERY, description="every N weeks (with days) or N days"
    )
    start: str = Field(default="00:00", description="Vietnam time of day the shift starts, HH:MM")
    end: str = Field(default="24:00", description="Vietnam time of day it ends, HH:MM (24:00 ok)")

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> str:
        return parse_days(value)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> str:
        return format_minute(parse_minute(value, default=0))

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> str:
        return format_minute(parse_minute(value, default=DAY_MINUTES, end=True))

    @model_validator(mode="after")
    def _order(self) -> RotaCreate:
        for name, day in (("from", self.from_day), ("to", self.to_day)):
            if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
                raise ValueError(f"{name}: must be a day between {MIN_YEAR} and {MAX_YEAR}")
        if self.to_day is not None and self.to_day < self.from_day:
            raise ValueError("to: must not be before from")
        if parse_minute(self.end, default=DAY_MINUTES, end=True) <= parse_minute(
            self.start, default=0
        ):
            raise ValueError("end: must be after start (a shift ends on the day it starts)")
        return self

    @property
    def start_min(self) -> int:
        return parse_minute(self.start, default=0)

    @property
    def end_min(self) -> int:
        return parse_minute(self.end, default=DAY_MINUTES, end=True)


class Rota(SQLModel, table=True):
    """One rota row. Keyed for imports by (counter, officer, first day): a re-import of the same
    sheet finds its rows again instead of adding copies."""

    __table_args__ = (
        Index(
            "ux_rota_counter_officer_first", "counter_id", "officer_id", "first_day", unique=True
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    counter_id: str = Field(foreign_key="counter.id", index=True, max_length=64)
    officer_id: str = Field(foreign_key="officer.id", index=True, max_length=64)
    first_day: date
    last_day: date | None = None
    days: str = Field(default="", max_length=32)
    every: int = 1
    start_min: int = 0
    end_min: int = DAY_MINUTES


class RotaPublic(SQLModel):
    model_config = ConfigDict(populate_by_name=True)  # type: ignore[assignment]

    id: int
    counter_id: str
    officer_id: str
    from_day: date = Field(alias="from")
    to_day: date | None = Field(alias="to")
    days: str
    every: int
    start: str
    end: str


class AbsenceCreate(SQLModel):
    """Leave (an officer), a unit's day off (a unit) or a public holiday (neither): rota shifts
    inside it do not happen. One-off assignments still do, so a substitute can be put in."""

    officer_id: str | None = Field(default=None, max_length=64)
    unit_id: str | None = Field(default=None, max_length=64)
    start: datetime = Field(description="with its offset")
    end: datetime = Field(description="with its offset; after start")
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _span(self) -> AbsenceCreate:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start, end: give the offset, e.g. 2026-12-24T00:00:00+07:00")
        if not all(MIN_YEAR <= m.year <= MAX_YEAR for m in (self.start, self.end)):
            raise ValueError(f"start, end: must be moments between {MIN_YEAR} and {MAX_YEAR}")
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        return self


class Absence(SQLModel, table=True):
    __table_args__ = (Index("ix_absence_start_end", "start", "end"),)

    id: int | None = Field(default=None, primary_key=True)
    officer_id: str | None = Field(
        default=None, foreign_key="officer.id", index=True, max_length=64
    )
    unit_id: str | None = Field(default=None, foreign_key="unit.id", max_length=64)
    start: datetime
    end: datetime
    note: str = Field(default="", max_length=200)
