"""Reading the rollups over any date range: a range is split into whole years, whole months and
the ragged days at either end, so a year costs one row per key plus at most two partial months,
and the database sums the parts in one statement.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import false, func, select, union_all
from sqlmodel import Session

from server.storage.rollups import NO_OFFICER, RATINGS, Family, Level, month_end, month_of

GroupBy = Literal["officer_id", "counter_id", "unit_id", "day"]


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
