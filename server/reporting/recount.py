"""Recounting the rollups from the raw rows: `rebuild` them, or `check` them against the raw rows.

The ingest keeps the rollups (server/storage/rollups.py) equal to the ratings in its own
transaction; these are for when the database was written otherwise (a restore, a manual repair) or
for an auditor who wants to see it for themselves. Both work a month at a time, with ingest held
back, and tally the raw rows as the ingest does (server/reporting/tally.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Engine

from server.policy import ChannelRules
from server.reporting.tally import tally_channels, tally_flags, tally_reasons, tally_services
from server.storage.models import Rating, ServiceRecord
from server.storage.rollups import (
    CHANNELS,
    FAMILIES,
    FLAGS,
    RATINGS,
    REASONS,
    Family,
    Key,
    Level,
    Values,
    as_date,
    merge,
    month_end,
    month_of,
    row,
    summed_at,
    year_of,
)

Progress = Callable[[int, int, date], None]
# As IngestRules counts by default: the shipped policy's `[channels] officer_excluded`.
OFFICER_EXCLUDED = ChannelRules().officer_excluded
RATING = Rating.__table__  # type: ignore[attr-defined]
SERVICE = ServiceRecord.__table__  # type: ignore[attr-defined]


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


def flagged_sql(counted: Collection[str]) -> Any:
    """SQL true for a rating whose stored flags include one of `counted` (tally.is_flagged)."""
    if not counted:
        return false()
    marked = literal_column("','") + RATING.c.flags + literal_column("','")
    return or_(*(marked.like(f"%,{flag},%") for flag in sorted(counted)))


def officer_sql(officer_excluded: Collection[str]) -> Any:
    """SQL for the officer a rating counts for, '' for none (tally.officer_of)."""
    empty: Any = literal_column("''")
    officer = func.coalesce(RATING.c.officer_id, empty)
    if not officer_excluded:
        return officer
    return case((flagged_sql(officer_excluded), empty), else_=officer)


def _raw_ratings(
    conn: Connection, month: date, counted: Collection[str], officer_excluded: Collection[str]
) -> dict[Key, Values]:
    empty: Any = literal_column("''")  # a literal, not a parameter: GROUP BY must match SELECT
    flagged = flagged_sql(counted)
    # The officer is worked out in a subquery and grouped by its name: an expression with the
    # flags' LIKE parameters in both SELECT and GROUP BY is not the same expression to
    # PostgreSQL.
    each = (
        select(
            RATING.c.day,
            func.coalesce(RATING.c.counter_id, empty).label("counter"),
            officer_sql(officer_excluded).label("officer"),
            RATING.c.scale,
            RATING.c.score,
            func.coalesce(RATING.c.unit_id, empty).label("unit"),
            case((flagged, 1), else_=0).label("flagged"),
            case((and_(RATING.c.ticket.is_not(None), ~flagged), 1), else_=0).label("ticketed"),
        )
        .where(RATING.c.day >= month, RATING.c.day <= month_end(month))
        .subquery()
    )
    groups = (each.c.day, each.c.counter, each.c.officer, each.c.scale, each.c.score)
    q = select(
        *groups,
        func.max(each.c.unit),
        func.count(),
        func.sum(each.c.flagged),
        func.sum(each.c.ticketed),
    ).group_by(*groups)
    return {
        (as_date(d), c, o, s, int(sc), u): (int(n), int(f), int(t))
        for d, c, o, s, sc, u, n, f, t in conn.execute(q)
    }


def _month_rows(conn: Connection, month: date, *columns: Any, nonempty: Any = None) -> Any:
    """The month's raw ratings with the key columns the tallies read and `columns`; only
    those whose `nonempty` text column holds something, when given."""
    q = select(
        RATING.c.day, RATING.c.counter_id, RATING.c.officer_id, RATING.c.unit_id, *columns
    ).where(RATING.c.day >= month, RATING.c.day <= month_end(month))
    if nonempty is not None:
        q = q.where(nonempty != "")
    return conn.execute(q)


def _raw_reasons(
    conn: Connection, month: date, counted: Collection[str], officer_excluded: Collection[str]
) -> dict[Key, Values]:
    rows = _month_rows(conn, month, RATING.c.reasons, RATING.c.flags, nonempty=RATING.c.reasons)
    return tally_reasons(rows, counted, officer_excluded)


def _raw_flags(
    conn: Connection, month: date, officer_excluded: Collection[str]
) -> dict[Key, Values]:
    rows = _month_rows(conn, month, RATING.c.flags, nonempty=RATING.c.flags)
    return tally_flags(rows, officer_excluded)


def _raw_channels(
    conn: Connection, month: date, counted: Collection[str], officer_excluded: Collection[str]
) -> dict[Key, Values]:
    rows = _month_rows(conn, month, RATING.c.input, RATING.c.flags)
    return tally_channels(rows, counted, officer_excluded)


def _raw_services(conn: Connection, month: date) -> dict[Key, Values]:
    q = select(SERVICE.c.day, SERVICE.c.counter_id, SERVICE.c.officer_id, SERVICE.c.unit_id).where(
        SERVICE.c.day >= month, SERVICE.c.day <= month_end(month)
    )
    return tally_services({**r._mapping, "day": as_date(r.day)} for r in conn.execute(q))


def _raw(
    conn: Connection,
    family: Family,
    month: date,
    counted: Collection[str],
    officer_excluded: Collection[str],
) -> dict[Key, Values]:
    if family is RATINGS:
        return _raw_ratings(conn, month, counted, officer_excluded)
    if family is REASONS:
        return _raw_reasons(conn, month, counted, officer_excluded)
    if family is FLAGS:
        return _raw_flags(conn, month, officer_excluded)
    if family is CHANNELS:
        return _raw_channels(conn, month, counted, officer_excluded)
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
    return summed_at(_stored(conn, family, "month", year, date(year.year, 12, 1)), year)


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
        conn.execute(insert(table), [row(family, level, k, counts[k]) for k in sorted(counts)])


def rebuild(
    engine: Engine,
    counted: Collection[str],
    progress: Progress | None = None,
    *,
    officer_excluded: Collection[str] = OFFICER_EXCLUDED,
) -> int:
    """Recount every rollup from the raw rows, a month per transaction (a year's rows with its
    last month); `counted` are the misuse flags the policy leaves out of scores,
    `officer_excluded` those it leaves out of officers' (`[channels]`). Returns how many
    ratings were counted."""
    months = months_with_ratings(engine)
    total = 0
    for i, month in enumerate(months):
        with _writer_lock(engine) as conn:
            for family in FAMILIES:
                raw = _raw(conn, family, month, counted, officer_excluded)
                _replace(conn, family, "day", month, month_end(month), raw)
                _replace(conn, family, "month", month, month, summed_at(raw, month))
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
        *compare(tables["month"].name, family.values, summed_at(raw, month), per_month),
    ]


def _compare_year(
    conn: Connection, family: Family, year: date, expected: Mapping[Key, Values]
) -> list[Mismatch]:
    stored = _stored(conn, family, "year", year, year)
    return compare(family.tables["year"].name, family.values, expected, stored)


def check(
    engine: Engine,
    counted: Collection[str],
    progress: Progress | None = None,
    *,
    officer_excluded: Collection[str] = OFFICER_EXCLUDED,
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
                raw = _raw(conn, family, month, counted, officer_excluded)
                mismatches += _compare_month(conn, family, month, raw)
                if _last_of_its_year(months, i):
                    year = year_of(month)
                    expected = _year_from_months(conn, family, year)
                    mismatches += _compare_year(conn, family, year, expected)
        if progress:
            progress(i + 1, len(months), month)
    return mismatches


def check_snapshot(
    conn: Connection,
    counted: Collection[str],
    progress: Progress | None = None,
    *,
    officer_excluded: Collection[str] = OFFICER_EXCLUDED,
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
            raw = _raw(conn, family, month, counted, officer_excluded)
            mismatches += _compare_month(conn, family, month, raw)
            year = years.setdefault(family.name, {})
            for key, values in summed_at(raw, year_of(month)).items():
                merge(year, key, values)
            if _last_of_its_year(months, i):
                mismatches += _compare_year(conn, family, year_of(month), years.pop(family.name))
        if progress:
            progress(i + 1, len(months), month)
    return len(months), mismatches
