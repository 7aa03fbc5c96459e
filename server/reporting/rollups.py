"""Counts per officer, counter and day (and month, and year), kept with the ratings themselves.

A report over a year of a province would otherwise scan millions of ratings. The ingest adds the
counts of exactly the rows it inserted (INSERT … RETURNING), in the same transaction, so the
rollups can never drift from the ratings while the database is only written by the server;
`rebuild` and `check` recompute them from the raw rows for when it was written otherwise
(a restore, a manual repair) or for an auditor who wants to see it for themselves.

Four families of counts share the machinery: ratings per level (with how many of them were
flagged as misuse and how many carried a ticket), reasons given after a low score, ratings per
flag they carry (server/storage/flags.py, whatever the policy makes of it), and the services the
queue system announced (the response rate's denominator).

Reads split a date range into whole years, whole months and the ragged days at either end, so a
year costs one row per key plus at most two partial months.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.storage import bulk
from server.storage.models import (
    NO_OFFICER,
    Rating,
    RollupDay,
    RollupFlagDay,
    RollupFlagMonth,
    RollupFlagYear,
    RollupMonth,
    RollupReasonDay,
    RollupReasonMonth,
    RollupReasonYear,
    RollupServiceDay,
    RollupServiceMonth,
    RollupServiceYear,
    RollupYear,
    ServiceRecord,
)

Level = Literal["year", "month", "day"]
GroupBy = Literal["officer_id", "counter_id", "unit_id", "day"]
Progress = Callable[[int, int, date], None]
Key = tuple[Any, ...]  # (period, *family.keys, unit_id)
Values = tuple[int, ...]  # family.values, in order
RATING = Rating.__table__  # type: ignore[attr-defined]
SERVICE = ServiceRecord.__table__  # type: ignore[attr-defined]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


@dataclass(frozen=True)
class Family:
    """One kind of count: its day, month and year tables, the columns that key a row between
    the period and `unit_id`, the ones a report splits by (`detail`), and the summed values."""

    name: str
    tables: Mapping[Level, Table]
    keys: tuple[str, ...]
    detail: tuple[str, ...]
    values: tuple[str, ...]


RATINGS = Family(
    "ratings",
    {"day": _table(RollupDay), "month": _table(RollupMonth), "year": _table(RollupYear)},
    ("counter_id", "officer_id", "scale", "score"),
    ("scale", "score"),
    ("n", "flagged", "ticketed"),
)
REASONS = Family(
    "reasons",
    {
        "day": _table(RollupReasonDay),
        "month": _table(RollupReasonMonth),
        "year": _table(RollupReasonYear),
    },
    ("counter_id", "officer_id", "reason"),
    ("reason",),
    ("n", "flagged"),
)
FLAGS = Family(
    "flags",
    {
        "day": _table(RollupFlagDay),
        "month": _table(RollupFlagMonth),
        "year": _table(RollupFlagYear),
    },
    ("counter_id", "officer_id", "flag"),
    ("flag",),
    ("n",),
)
SERVICES = Family(
    "services",
    {
        "day": _table(RollupServiceDay),
        "month": _table(RollupServiceMonth),
        "year": _table(RollupServiceYear),
    },
    ("counter_id", "officer_id"),
    (),
    ("n",),
)
FAMILIES = (RATINGS, REASONS, FLAGS, SERVICES)


def month_of(day: date) -> date:
    return day.replace(day=1)


def year_of(day: date) -> date:
    return date(day.year, 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


# tallies of new rows (pure) ------------------------------------------------------------------


class Tallied(Protocol):
    """What the tallies read of a stored rating: a RatingRow (server/storage/rows.py) as the
    ingest stores it, or the columns of one read back for a rebuild."""

    @property
    def day(self) -> date: ...
    @property
    def counter_id(self) -> str | None: ...
    @property
    def officer_id(self) -> str | None: ...
    @property
    def unit_id(self) -> str | None: ...
    @property
    def scale(self) -> str: ...
    @property
    def score(self) -> int: ...
    @property
    def ticket(self) -> str | None: ...
    @property
    def reasons(self) -> str: ...
    @property
    def flags(self) -> str: ...


def is_flagged(flags: str, counted: Collection[str]) -> bool:
    """Does a rating's stored `flags` text carry a flag the policy counts as misuse?"""
    return bool(flags) and any(flag in counted for flag in flags.split(","))


def _add(counts: dict[Key, Values], key: Key, values: Values) -> None:
    old = counts.get(key)
    counts[key] = values if old is None else tuple(a + b for a, b in zip(old, values, strict=True))


def tally(rows: Iterable[Tallied], counted: Collection[str] = ()) -> dict[Key, Values]:
    """Stored rating rows → (n, flagged, ticketed) per (day, counter, officer, scale, score,
    unit); `counted` are the misuse flags that leave a rating out of scores. `ticketed` counts
    only unflagged ratings with a ticket: a flagged rating is never a rated service."""
    counts: dict[Key, Values] = {}
    for r in rows:
        key = (
            r.day,
            r.counter_id or "",
            r.officer_id or NO_OFFICER,
            r.scale,
            r.score,
            r.unit_id or "",
        )
        flagged = 1 if is_flagged(r.flags, counted) else 0
        ticketed = 1 if r.ticket is not None and not flagged else 0
        _add(counts, key, (1, flagged, ticketed))
    return counts


def tally_reasons(rows: Iterable[Tallied], counted: Collection[str] = ()) -> dict[Key, Values]:
    """Stored rating rows → (n, flagged) per (day, counter, officer, reason, unit)."""
    counts: dict[Key, Values] = {}
    for r in rows:
        if not r.reasons:
            continue
        flagged = 1 if is_flagged(r.flags, counted) else 0
        for reason in r.reasons.split(","):
            key = (r.day, r.counter_id or "", r.officer_id or NO_OFFICER, reason, r.unit_id or "")
            _add(counts, key, (1, flagged))
    return counts


def tally_flags(rows: Iterable[Tallied]) -> dict[Key, Values]:
    """Stored rating rows → (n,) per (day, counter, officer, flag, unit): how many ratings
    carried each flag, flagged as misuse by the policy or not."""
    counts: dict[Key, Values] = {}
    for r in rows:
        for flag in r.flags.split(","):
            if not flag:
                continue
            key = (r.day, r.counter_id or "", r.officer_id or NO_OFFICER, flag, r.unit_id or "")
            _add(counts, key, (1,))
    return counts


def tally_services(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Values]:
    """Stored service rows → (n,) per (day, counter, officer, unit)."""
    counts: dict[Key, Values] = {}
    for r in rows:
        key = (r["day"], r["counter_id"], r["officer_id"] or NO_OFFICER, r["unit_id"] or "")
        _add(counts, key, (1,))
    return counts


def add(session: Session, family: Family, counts: Mapping[Key, Values]) -> None:
    """Add counts to the family's day, month and year rollups. Keys go in sorted order, so that
    two ingest processes updating the same rows lock them in the same order and cannot
    deadlock."""
    if not counts:
        return
    days: list[dict[str, Any]] = []
    months: dict[Key, Values] = {}
    years: dict[Key, Values] = {}
    for key in sorted(counts):
        values = counts[key]
        days.append(_row(family, "day", key, values))
        _add(months, _dated(key, month_of(key[0])), values)
        _add(years, _dated(key, year_of(key[0])), values)
    tables = family.tables
    bulk.upsert(session, tables["day"], days, "add", family.values)
    levels: tuple[tuple[Level, dict[Key, Values]], ...] = (("month", months), ("year", years))
    for level, per in levels:
        rows = [_row(family, level, k, per[k]) for k in sorted(per)]
        bulk.upsert(session, tables[level], rows, "add", family.values)


def _dated(key: Key, when: date) -> Key:
    """The same key at the coarser period `when` (a month's or year's first day)."""
    return (when, *key[1:])


def _at(counts: Mapping[Key, Values], when: date) -> dict[Key, Values]:
    """Counts of finer periods summed into the one period `when`."""
    total: dict[Key, Values] = {}
    for key, values in counts.items():
        _add(total, _dated(key, when), values)
    return total


def _row(family: Family, level: Level, key: Key, values: Values) -> dict[str, Any]:
    row: dict[str, Any] = {level: key[0], "unit_id": key[-1]}
    row.update(zip(family.keys, key[1:-1], strict=True))
    row.update(zip(family.values, values, strict=True))
    return row


# reading -------------------------------------------------------------------------------------


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


def tallies(
    session: Session,
    family: Family,
    start: date,
    end: date,
    by: Sequence[GroupBy],
    *,
    unit_id: str | None = None,
    officer_id: str | None = None,
    counter_ids: Collection[str] | None = None,
) -> list[tuple[Any, ...]]:
    """(*by, *family.detail, *family.values) for start..end (Vietnam days), from the rollups.

    Counts with no officer are left out when grouping or filtering by officer. Several parts
    are summed by the database in one statement, so Python sees each group once."""
    parts = split_range(start, end) if "day" not in by else [Part("day", start, end)]
    queries = []
    for part in parts:
        table = family.tables[part.level]
        when = table.c[part.level]
        group = [when.label("day") if name == "day" else table.c[name] for name in by]
        group += [table.c[name] for name in family.detail]
        sums: list[Any] = [func.sum(table.c[name]).label(name) for name in family.values]
        q = select(*group, *sums).where(when >= part.first, when <= part.last)
        if unit_id is not None:
            q = q.where(table.c.unit_id == unit_id)
        if counter_ids is not None:
            q = q.where(table.c.counter_id.in_(list(counter_ids)) if counter_ids else false())
        if officer_id is not None:
            q = q.where(table.c.officer_id == officer_id)
        elif "officer_id" in by:
            q = q.where(table.c.officer_id != NO_OFFICER)
        queries.append(q.group_by(*group))
    if not queries:
        return []
    width = len(by) + len(family.detail)
    if len(queries) == 1:
        rows = session.execute(queries[0]).all()
    else:
        both = union_all(*queries).subquery()
        keys = [both.c[name] for name in (*by, *family.detail)]
        sums = [func.sum(both.c[name]) for name in family.values]
        rows = session.execute(select(*keys, *sums).group_by(*keys)).all()
    # With nothing to group by, SQL's SUM over no rows is one row of NULLs, not no row. Both
    # databases sum INTEGER columns as whole numbers; a driver that gives another type is
    # converted (the check costs far less than converting every value of a province's year).
    return [
        tuple(row) if type(row[-1]) is int else (*row[:width], *map(int, row[width:]))
        for row in rows
        if row[-1] is not None
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
    """(*by, scale, score, n) of every rating pressed on start..end, flagged ones included."""
    rows = tallies(
        session,
        RATINGS,
        start,
        end,
        by,
        unit_id=unit_id,
        officer_id=officer_id,
        counter_ids=None if counter_id is None else [counter_id],
    )
    return [(*row[: len(by)], row[len(by)], int(row[len(by) + 1]), row[-3]) for row in rows]


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
            conn.exec_driver_sql("LOCK TABLE service IN SHARE MODE")
        yield conn


def _is_flagged_sql(counted: Collection[str]) -> Any:
    if not counted:
        return false()
    marked = literal_column("','") + RATING.c.flags + literal_column("','")
    return or_(*(marked.like(f"%,{flag},%") for flag in sorted(counted)))


def _raw_ratings(conn: Connection, month: date, counted: Collection[str]) -> dict[Key, Values]:
    empty: Any = literal_column("''")  # a literal, not a parameter: GROUP BY must match SELECT
    counter = func.coalesce(RATING.c.counter_id, empty)
    officer = func.coalesce(RATING.c.officer_id, empty)
    flagged = _is_flagged_sql(counted)
    q = (
        select(
            RATING.c.day,
            counter,
            officer,
            RATING.c.scale,
            RATING.c.score,
            func.max(func.coalesce(RATING.c.unit_id, empty)),
            func.count(),
            func.sum(case((flagged, 1), else_=0)),
            func.sum(case((and_(RATING.c.ticket.is_not(None), ~flagged), 1), else_=0)),
        )
        .where(RATING.c.day >= month, RATING.c.day <= month_end(month))
        .group_by(RATING.c.day, counter, officer, RATING.c.scale, RATING.c.score)
    )
    return {
        (as_date(d), c, o, s, int(sc), u): (int(n), int(f), int(t))
        for d, c, o, s, sc, u, n, f, t in conn.execute(q)
    }


def _raw_reasons(conn: Connection, month: date, counted: Collection[str]) -> dict[Key, Values]:
    q = select(
        RATING.c.day,
        RATING.c.counter_id,
        RATING.c.officer_id,
        RATING.c.unit_id,
        RATING.c.reasons,
        RATING.c.flags,
    ).where(RATING.c.day >= month, RATING.c.day <= month_end(month), RATING.c.reasons != "")
    return tally_reasons(conn.execute(q), counted)


def _raw_flags(conn: Connection, month: date) -> dict[Key, Values]:
    q = select(
        RATING.c.day, RATING.c.counter_id, RATING.c.officer_id, RATING.c.unit_id, RATING.c.flags
    ).where(RATING.c.day >= month, RATING.c.day <= month_end(month), RATING.c.flags != "")
    return tally_flags(conn.execute(q))


def _raw_services(conn: Connection, month: date) -> dict[Key, Values]:
    q = select(SERVICE.c.day, SERVICE.c.counter_id, SERVICE.c.officer_id, SERVICE.c.unit_id).where(
        SERVICE.c.day >= month, SERVICE.c.day <= month_end(month)
    )
    return tally_services({**r._mapping, "day": as_date(r.day)} for r in conn.execute(q))


def _raw(
    conn: Connection, family: Family, month: date, counted: Collection[str]
) -> dict[Key, Values]:
    if family is RATINGS:
        return _raw_ratings(conn, month, counted)
    if family is REASONS:
        return _raw_reasons(conn, month, counted)
    if family is FLAGS:
        return _raw_flags(conn, month)
    return _raw_services(conn, month)


def _stored(
    conn: Connection, family: Family, level: Level, first: date, last: date
) -> dict[Key, Values]:
    table = family.tables[level]
    when = table.c[level]
    q = select(
        when,
        *(table.c[name] for name in family.keys),
        table.c.unit_id,
        *(table.c[name] for name in family.values),
    ).where(when >= first, when <= last)
    width = 2 + len(family.keys)
    return {
        (as_date(r[0]), *_key_values(family, r[1:width])): tuple(int(v) for v in r[width:])
        for r in conn.execute(q)
    }


def _key_values(family: Family, values: Sequence[Any]) -> tuple[Any, ...]:
    """Scores come back from some drivers as other integer types: normalise for comparing."""
    return tuple(
        int(v) if name == "score" else v
        for name, v in zip((*family.keys, "unit_id"), values, strict=True)
    )


def months_with_ratings(engine: Engine) -> list[date]:
    """Every month from the first rating's (or service's) to the last, and any a rollup names."""
    with engine.connect() as conn:
        return _months(conn)


def _months(conn: Connection) -> list[date]:
    sources = [(RATING, "day"), (SERVICE, "day")]
    sources += [(f.tables[level], level) for f in FAMILIES for level in ("day", "month", "year")]
    found = [conn.execute(select(func.min(t.c[w]), func.max(t.c[w]))).one() for t, w in sources]
    lows = [as_date(low) for low, _ in found if low is not None]
    highs = [as_date(high) for _, high in found if high is not None]
    if not lows:
        return []
    month, last = month_of(min(lows)), month_of(max(highs))
    months = []
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def _last_of_its_year(months: list[date], i: int) -> bool:
    """Is months[i] the last month of its year in the list (the moment to settle the year)?"""
    return i + 1 == len(months) or months[i + 1].year != months[i].year


def _year_from_months(conn: Connection, family: Family, year: date) -> dict[Key, Values]:
    return _at(_stored(conn, family, "month", year, date(year.year, 12, 1)), year)


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _replace(
    conn: Connection,
    family: Family,
    level: Level,
    when: date,
    last: date,
    counts: Mapping[Key, Values],
) -> None:
    table = family.tables[level]
    conn.execute(delete(table).where(and_(table.c[level] >= when, table.c[level] <= last)))
    if counts:
        conn.execute(insert(table), [_row(family, level, k, counts[k]) for k in sorted(counts)])


def rebuild(engine: Engine, counted: Collection[str], progress: Progress | None = None) -> int:
    """Recount every rollup from the raw rows, a month per transaction (a year's rows with its
    last month); `counted` are the misuse flags the policy leaves out of scores. Returns how
    many ratings were counted."""
    months = months_with_ratings(engine)
    total = 0
    for i, month in enumerate(months):
        with _writer_lock(engine) as conn:
            for family in FAMILIES:
                raw = _raw(conn, family, month, counted)
                _replace(conn, family, "day", month, month_end(month), raw)
                _replace(conn, family, "month", month, month, _at(raw, month))
                if _last_of_its_year(months, i):
                    year = year_of(month)
                    _replace(
                        conn, family, "year", year, year, _year_from_months(conn, family, year)
                    )
                if family is RATINGS:
                    total += sum(values[0] for values in raw.values())
        if progress:
            progress(i + 1, len(months), month)
    return total


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: Key
    raw: Values
    stored: Values
    names: tuple[str, ...]

    def describe(self) -> str:
        when, *keys, unit_id = self.key
        row = [f"{self.table} {when.isoformat()} counter={keys[0]} officer={keys[1] or '(none)'}"]
        row += [str(k) for k in keys[2:]]
        said = ", ".join(f"{n} {r}" for n, r in zip(self.names, self.raw, strict=True))
        kept = ", ".join(f"{n} {s}" for n, s in zip(self.names, self.stored, strict=True))
        return f"{' '.join(row)}: raw rows say {said}; rollup says {kept}"


def compare(
    table: str, names: tuple[str, ...], raw: Mapping[Key, Values], stored: Mapping[Key, Values]
) -> list[Mismatch]:
    """Pure: every key where the two differ (a missing row counts as zeros)."""
    zero = (0,) * len(names)
    return [
        Mismatch(table, k, raw.get(k, zero), stored.get(k, zero), names)
        for k in sorted(set(raw) | set(stored))
        if raw.get(k, zero) != stored.get(k, zero)
    ]


def _compare_month(
    conn: Connection, family: Family, month: date, raw: Mapping[Key, Values]
) -> list[Mismatch]:
    """The family's day rows and month row of `month` against its recount `raw` (per day)."""
    tables = family.tables
    days = _stored(conn, family, "day", month, month_end(month))
    per_month = _stored(conn, family, "month", month, month)
    return [
        *compare(tables["day"].name, family.values, raw, days),
        *compare(tables["month"].name, family.values, _at(raw, month), per_month),
    ]


def _compare_year(
    conn: Connection, family: Family, year: date, expected: Mapping[Key, Values]
) -> list[Mismatch]:
    stored = _stored(conn, family, "year", year, year)
    return compare(family.tables["year"].name, family.values, expected, stored)


def check(
    engine: Engine, counted: Collection[str], progress: Progress | None = None
) -> list[Mismatch]:
    """Recount from the raw rows and compare with the day and month rollups, and the year
    rollups with their months; nothing is written. Each month is compared in its own moment
    with ingest held back, so a year is compared with its stored months, read in the same
    moment, rather than with recounts taken at different moments."""
    mismatches: list[Mismatch] = []
    months = months_with_ratings(engine)
    for i, month in enumerate(months):
        with _writer_lock(engine) as conn:
            for family in FAMILIES:
                raw = _raw(conn, family, month, counted)
                mismatches += _compare_month(conn, family, month, raw)
                if _last_of_its_year(months, i):
                    year = year_of(month)
                    expected = _year_from_months(conn, family, year)
                    mismatches += _compare_year(conn, family, year, expected)
        if progress:
            progress(i + 1, len(months), month)
    return mismatches


def check_snapshot(
    conn: Connection, counted: Collection[str], progress: Progress | None = None
) -> tuple[int, list[Mismatch]]:
    """`check` within one read snapshot the caller holds (`hailong verify` proves the ratings
    in it first), without holding back ingest: every day, month and year row of every family
    is compared with a recount of the raw rows. Returns (months compared, mismatches), in
    time order, days before their month and the month before its year."""
    mismatches: list[Mismatch] = []
    months = _months(conn)
    years: dict[str, dict[Key, Values]] = {}
    for i, month in enumerate(months):
        for family in FAMILIES:
            raw = _raw(conn, family, month, counted)
            mismatches += _compare_month(conn, family, month, raw)
            year = years.setdefault(family.name, {})
            for key, values in _at(raw, year_of(month)).items():
                _add(year, key, values)
            if _last_of_its_year(months, i):
                mismatches += _compare_year(conn, family, year_of(month), years.pop(family.name))
        if progress:
            progress(i + 1, len(months), month)
    return len(months), mismatches
