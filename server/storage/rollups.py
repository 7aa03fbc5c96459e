"""The rollup tables, made from the one declaration of each family of counts, and the one way
counts are added to them.

A family (ratings per level, reasons given after a low score, flags carried, services the queue
system announced, ratings per channel) is declared once: the columns that key a row between its
period and `unit_id`, the ones a report splits by, and the summed values. Its day, month and
year tables are made from that declaration, so the tables, the ingest's upserts, the reports'
reads and the recount all name the same columns. server/reporting/ keeps them equal to the raw
rows and reads them.

Every row is dated by its period's first day (a month's, a year's); `officer_id` is `NO_OFFICER`
rather than NULL for ratings pressed while nobody was assigned, so the key stays unique.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Column, Date, Index, Integer, Table
from sqlmodel import AutoString, Session, SQLModel

from server.storage import bulk

Level = Literal["year", "month", "day"]
LEVELS: tuple[Level, ...] = ("day", "month", "year")
NO_OFFICER = ""  # the rollups' officer_id for ratings pressed while nobody was assigned
Key = tuple[Any, ...]  # (period, *family.keys, unit_id)
Values = tuple[int, ...]  # family.values, in order


@dataclass(frozen=True)
class Family:
    """One kind of count: its day, month and year tables, the columns that key a row between
    the period and `unit_id`, the ones a report splits by (`detail`), and the summed values."""

    name: str
    tables: Mapping[Level, Table]
    keys: tuple[str, ...]
    detail: tuple[str, ...]
    values: tuple[str, ...]


def _table(
    name: str, level: Level, keys: Mapping[str, int | None], values: tuple[str, ...]
) -> Table:
    """One level's table: the key columns (text of the given length, or whole numbers), the unit,
    the values (the first required, the others 0 by default), then the period; indexed for an
    officer's rows over time."""
    return Table(
        name,
        SQLModel.metadata,
        *(
            Column(key, Integer if length is None else AutoString(length), primary_key=True)
            for key, length in keys.items()
        ),
        Column("unit_id", AutoString(64), nullable=False, default=""),
        *(
            Column(v, Integer, nullable=False, default=None if i == 0 else 0)
            for i, v in enumerate(values)
        ),
        Column(level, Date, primary_key=True),
        Index(f"ix_{name}_officer", "officer_id", level),
    )


def _family(
    name: str,
    prefix: str,
    keys: Mapping[str, int | None],
    detail: tuple[str, ...],
    values: tuple[str, ...],
) -> Family:
    tables = {level: _table(f"{prefix}_{level}", level, keys, values) for level in LEVELS}
    return Family(name, tables, tuple(keys), detail, values)


_WHERE: dict[str, int | None] = {"counter_id": 64, "officer_id": 64}

# How many ratings of each level one officer got at one counter; `flagged`: how many of them the
# policy left out as misuse; `ticketed`: how many unflagged ones carried a queue ticket.
RATINGS = _family(
    "ratings",
    "rollup",
    {**_WHERE, "scale": 8, "score": None},
    ("scale", "score"),
    ("n", "flagged", "ticketed"),
)
# How often each reason was given after a low score: a report's "share of each reason".
REASONS = _family(
    "reasons", "rollup_reason", {**_WHERE, "reason": 64}, ("reason",), ("n", "flagged")
)
# How many ratings carried each flag (server/storage/flags.py), left out of scores or not.
FLAGS = _family("flags", "rollup_flag", {**_WHERE, "flag": 32}, ("flag",), ("n",))
# How many services (queue tickets) were announced: the response rate's denominator.
SERVICES = _family("services", "rollup_service", _WHERE, (), ("n",))
# How many ratings came in by each channel (`rating.input`: button, touch, keyboard, web,
# paper), and how many of them the policy left out: every report row's `channels`.
CHANNELS = _family(
    "channels", "rollup_channel", {**_WHERE, "input": 16}, ("input",), ("n", "flagged")
)
FAMILIES = (RATINGS, REASONS, FLAGS, SERVICES, CHANNELS)


def month_of(day: date) -> date:
    return day.replace(day=1)


def year_of(day: date) -> date:
    return date(day.year, 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def merge(counts: dict[Key, Values], key: Key, values: Values) -> None:
    """Add `values` to the counts of `key` (a new key starts at them)."""
    old = counts.get(key)
    counts[key] = values if old is None else tuple(a + b for a, b in zip(old, values, strict=True))


def dated(key: Key, when: date) -> Key:
    """The same key at the coarser period `when` (a month's or year's first day)."""
    return (when, *key[1:])


def summed_at(counts: Mapping[Key, Values], when: date) -> dict[Key, Values]:
    """Counts of finer periods summed into the one period `when`."""
    total: dict[Key, Values] = {}
    for key, values in counts.items():
        merge(total, dated(key, when), values)
    return total


def row(family: Family, level: Level, key: Key, values: Values) -> dict[str, Any]:
    """A key and its values as a row of the family's `level` table."""
    out: dict[str, Any] = {level: key[0], "unit_id": key[-1]}
    out.update(zip(family.keys, key[1:-1], strict=True))
    out.update(zip(family.values, values, strict=True))
    return out


def add(session: Session, family: Family, counts: Mapping[Key, Values]) -> None:
    """Add counts (keyed by day) to the family's day, month and year rollups. Keys go in sorted
    order, so that two ingest processes updating the same rows lock them in the same order and
    cannot deadlock."""
    if not counts:
        return
    days: list[dict[str, Any]] = []
    months: dict[Key, Values] = {}
    years: dict[Key, Values] = {}
    for key in sorted(counts):
        values = counts[key]
        days.append(row(family, "day", key, values))
        merge(months, dated(key, month_of(key[0])), values)
        merge(years, dated(key, year_of(key[0])), values)
    tables = family.tables
    bulk.upsert(session, tables["day"], days, "add", family.values)
    levels: tuple[tuple[Level, dict[Key, Values]], ...] = (("month", months), ("year", years))
    for level, per in levels:
        rows = [row(family, level, k, per[k]) for k in sorted(per)]
        bulk.upsert(session, tables[level], rows, "add", family.values)
