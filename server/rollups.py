"""Rating counts per officer, counter and day (and month), kept with the ratings themselves.

A report over a year of a province would otherwise scan millions of ratings. The ingest adds the
counts of exactly the rows it inserted (INSERT … RETURNING), in the same transaction, so the
rollups can never drift from the ratings while the database is only written by the server;
`rebuild` and `check` recompute them from the raw ratings for when it was written otherwise
(a restore, a manual repair) or for an auditor who wants to see it for themselves.

Reads split a date range into whole months (from `rollup_month`) and the ragged days at either
end (from `rollup_day`), so a year costs 12 rows per key plus at most two partial months.
"""

from __future__ import annotations

import calendar
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, insert, literal_column, select, union_all
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import bulk
from server.models import NO_OFFICER, Rating, RollupDay, RollupMonth, RollupYear

DAY = RollupDay.__table__  # type: ignore[attr-defined]
MONTH = RollupMonth.__table__  # type: ignore[attr-defined]
YEAR = RollupYear.__table__  # type: ignore[attr-defined]
TABLES = {"day": DAY, "month": MONTH, "year": YEAR}
RATING = Rating.__table__  # type: ignore[attr-defined]

Key = tuple[date, str, str, str, int, str]  # day, counter, officer, scale, score, unit
GroupBy = Literal["officer_id", "counter_id", "unit_id", "day"]
Progress = Callable[[int, int, date], None]


def month_of(day: date) -> date:
    return day.replace(day=1)


def year_of(day: date) -> date:
    return date(day.year, 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def tally(rows: Iterable[Mapping[str, Any]]) -> dict[Key, int]:
    """Pure: stored rating rows → how many of each (day, counter, officer, scale, score, unit)."""
    counts: Tally[Key] = Tally()
    for r in rows:
        counts[
            (
                r["day"],
                r["counter_id"] or "",
                r["officer_id"] or NO_OFFICER,
                r["scale"],
                r["score"],
                r["unit_id"] or "",
            )
        ] += 1
    return dict(counts)


def add(session: Session, counts: Mapping[Key, int]) -> None:
    """Add counts to the day, month and year rollups. Keys go in sorted order, so that two
    ingest processes updating the same rows lock them in the same order and cannot deadlock."""
    days: list[dict[str, Any]] = []
    months: Tally[Key] = Tally()
    years: Tally[Key] = Tally()
    for key in sorted(counts):
        n = counts[key]
        days.append(_row("day", key, n))
        months[_dated(key, month_of(key[0]))] += n
        years[_dated(key, year_of(key[0]))] += n
    bulk.upsert(session, DAY, days, "add_n")
    bulk.upsert(session, MONTH, [_row("month", k, months[k]) for k in sorted(months)], "add_n")
    bulk.upsert(session, YEAR, [_row("year", k, years[k]) for k in sorted(years)], "add_n")


def _dated(key: Key, when: date) -> Key:
    """The same key at the coarser period `when` (a month's or year's first day)."""
    return (when, key[1], key[2], key[3], key[4], key[5])


def _at(counts: Mapping[Key, int], when: date) -> dict[Key, int]:
    """Counts of finer periods summed into the one period `when`."""
    total: Tally[Key] = Tally()
    for key, n in counts.items():
        total[_dated(key, when)] += n
    return dict(total)


def _row(period: str, key: Key, n: int) -> dict[str, Any]:
    when, counter_id, officer_id, scale, score, unit_id = key
    return {
        period: when,
        "counter_id": counter_id,
        "officer_id": officer_id,
        "scale": scale,
        "score": score,
        "unit_id": unit_id,
        "n": n,
        "flagged": 0,
        "ticketed": 0,
    }


# reading -------------------------------------------------------------------------------------


Level = Literal["year", "month", "day"]


@dataclass(frozen=True)
class Part:
    """Rows of one rollup table: `first`..`last` inclusive, as that table dates its rows (a
    year or month by its first day)."""

    level: Level
    first: date
    last: date


def _months_and_days(start: date, end: date) -> list[Part]:
    if end < start:
        return []
    first_whole = start if start.day == 1 else month_end(start) + timedelta(days=1)
    last_whole_end = end if end == month_end(end) else month_of(end) - timedelta(days=1)
    if first_whole > last_whole_end:
        return [Part("day", start, end)]
    parts = []
    if start < first_whole:
        parts.append(Part("day", start, first_whole - timedelta(days=1)))
    parts.append(Part("month", first_whole, month_of(last_whole_end)))
    if last_whole_end < end:
        parts.append(Part("day", last_whole_end + timedelta(days=1), end))
    return parts


def split_range(start: date, end: date) -> list[Part]:
    """Pure: [start, end] → whole calendar years, then whole months, then single days, with
    every day of the range in exactly one part: a year of a province is one read of its year
    rows, a ragged range a few more."""
    if end < start:
        return []
    first_year = start if (start.month, start.day) == (1, 1) else date(start.year + 1, 1, 1)
    last_year_end = end if (end.month, end.day) == (12, 31) else date(end.year - 1, 12, 31)
    if first_year > last_year_end:
        return _months_and_days(start, end)
    return [
        *_months_and_days(start, first_year - timedelta(days=1)),
        Part("year", first_year, date(last_year_end.year, 1, 1)),
        *_months_and_days(last_year_end + timedelta(days=1), end),
    ]


def counts(
    session: Session,
    start: date,
    end: date,
    by: Sequence[GroupBy],
    *,
    unit_id: str | None = None,
    officer_id: str | None = None,
    counter_id: str | None = None,
) -> list[tuple[Any, ...]]:
    """(*by, scale, score, n) for ratings pressed on start..end (Vietnam days), from rollups.

    Ratings with no officer are left out when grouping or filtering by officer. Several parts
    are summed by the database in one statement, so Python sees each group once."""
    parts = split_range(start, end) if "day" not in by else [Part("day", start, end)]
    queries = []
    for part in parts:
        table = TABLES[part.level]
        when = table.c[part.level]
        group = [when.label("day") if name == "day" else table.c[name] for name in by]
        q = select(*group, table.c.scale, table.c.score, func.sum(table.c.n).label("n"))
        q = q.where(when >= part.first, when <= part.last)
        if unit_id is not None:
            q = q.where(table.c.unit_id == unit_id)
        if counter_id is not None:
            q = q.where(table.c.counter_id == counter_id)
        if officer_id is not None:
            q = q.where(table.c.officer_id == officer_id)
        elif "officer_id" in by:
            q = q.where(table.c.officer_id != NO_OFFICER)
        queries.append(q.group_by(*group, table.c.scale, table.c.score))
    if not queries:
        return []
    if len(queries) == 1:
        rows = session.execute(queries[0])
    else:
        both = union_all(*queries).subquery()
        keys = [both.c[name] for name in (*by, "scale", "score")]
        rows = session.execute(select(*keys, func.sum(both.c.n)).group_by(*keys))
    return [(*keys, scale, int(score), int(n)) for *keys, scale, score, n in rows]


# rebuild and check ---------------------------------------------------------------------------


@contextmanager
def _writer_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction in which no rating can be committed by anyone else: ingest waits (it
    retries, it does not fail), so raw counts and rollups are compared or rebuilt at rest."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE rating IN SHARE MODE")
        yield conn


def _raw_month(conn: Connection, month: date) -> dict[Key, int]:
    empty: Any = literal_column("''")  # a literal, not a parameter: GROUP BY must match SELECT
    counter = func.coalesce(RATING.c.counter_id, empty)
    officer = func.coalesce(RATING.c.officer_id, empty)
    q = (
        select(
            RATING.c.day,
            counter,
            officer,
            RATING.c.scale,
            RATING.c.score,
            func.max(func.coalesce(RATING.c.unit_id, empty)),
            func.count(),
        )
        .where(RATING.c.day >= month, RATING.c.day <= month_end(month))
        .group_by(RATING.c.day, counter, officer, RATING.c.scale, RATING.c.score)
    )
    return {(d, c, o, s, int(sc), u): int(n) for d, c, o, s, sc, u, n in conn.execute(q)}


def _stored(conn: Connection, table: Any, when: Any, first: date, last: date) -> dict[Key, int]:
    q = select(
        when,
        table.c.counter_id,
        table.c.officer_id,
        table.c.scale,
        table.c.score,
        table.c.unit_id,
        table.c.n,
    ).where(when >= first, when <= last)
    return {(d, c, o, s, int(sc), u): int(n) for d, c, o, s, sc, u, n in conn.execute(q)}


def months_with_ratings(engine: Engine) -> list[date]:
    """Every month from the first rating's to the last's, and any month a rollup names."""
    with engine.connect() as conn:
        found = [
            conn.execute(select(func.min(t.c[w]), func.max(t.c[w]))).one() for t, w in _SOURCES
        ]
    lows = [_as_date(low) for low, _ in found if low is not None]
    highs = [_as_date(high) for _, high in found if high is not None]
    if not lows:
        return []
    month, last = month_of(min(lows)), month_of(max(highs))
    months = []
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


_SOURCES = ((RATING, "day"), (DAY, "day"), (MONTH, "month"), (YEAR, "year"))


def _last_of_its_year(months: list[date], i: int) -> bool:
    """Is months[i] the last month of its year in the list (the moment to settle the year)?"""
    return i + 1 == len(months) or months[i + 1].year != months[i].year


def _year_from_months(conn: Connection, year: date) -> dict[Key, int]:
    return _at(_stored(conn, MONTH, MONTH.c.month, year, date(year.year, 12, 1)), year)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def rebuild(engine: Engine, progress: Progress | None = None) -> int:
    """Recount the rollups from the raw ratings, a month per transaction (a year's rows with
    its last month); returns how many ratings were counted."""
    months = months_with_ratings(engine)
    total = 0
    for i, month in enumerate(months):
        with _writer_lock(engine) as conn:
            raw = _raw_month(conn, month)
            conn.execute(delete(DAY).where(DAY.c.day >= month, DAY.c.day <= month_end(month)))
            conn.execute(delete(MONTH).where(MONTH.c.month == month))
            if raw:
                conn.execute(insert(DAY), [_row("day", k, raw[k]) for k in sorted(raw)])
                per_month = _at(raw, month)
                conn.execute(
                    insert(MONTH), [_row("month", k, per_month[k]) for k in sorted(per_month)]
                )
            if _last_of_its_year(months, i):
                year = year_of(month)
                per_year = _year_from_months(conn, year)
                conn.execute(delete(YEAR).where(YEAR.c.year == year))
                if per_year:
                    conn.execute(
                        insert(YEAR), [_row("year", k, per_year[k]) for k in sorted(per_year)]
                    )
        total += sum(raw.values())
        if progress:
            progress(i + 1, len(months), month)
    return total


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: Key
    raw: int
    stored: int

    def describe(self) -> str:
        when, counter_id, officer_id, scale, score, unit_id = self.key
        return (
            f"{self.table} {when.isoformat()} counter={counter_id} "
            f"officer={officer_id or '(none)'} {scale}/{score}: "
            f"ratings say {self.raw}, rollup says {self.stored}"
        )


def compare(table: str, raw: Mapping[Key, int], stored: Mapping[Key, int]) -> list[Mismatch]:
    """Pure: every key where the two counts differ (a missing row counts as zero)."""
    return [
        Mismatch(table, k, raw.get(k, 0), stored.get(k, 0))
        for k in sorted(set(raw) | set(stored))
        if raw.get(k, 0) != stored.get(k, 0)
    ]


def check(engine: Engine, progress: Progress | None = None) -> list[Mismatch]:
    """Recount from the raw ratings and compare with the day and month rollups, and the year
    rollup with its months; nothing is written."""
    mismatches: list[Mismatch] = []
    months = months_with_ratings(engine)
    for i, month in enumerate(months):
        with _writer_lock(engine) as conn:
            raw = _raw_month(conn, month)
            days = _stored(conn, DAY, DAY.c.day, month, month_end(month))
            per_month = _stored(conn, MONTH, MONTH.c.month, month, month)
            if _last_of_its_year(months, i):
                year = year_of(month)
                mismatches += compare(
                    "rollup_year",
                    _year_from_months(conn, year),
                    _stored(conn, YEAR, YEAR.c.year, year, year),
                )
        mismatches += compare("rollup_day", raw, days)
        mismatches += compare("rollup_month", _at(raw, month), per_month)
        if progress:
            progress(i + 1, len(months), month)
    return mismatches
