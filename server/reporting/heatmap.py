"""When an officer's or a unit's ratings came: a count per hour of the day and day of the week,
in Vietnam time, for the drill-down's heatmap.

The rollups keep days, not hours, so this reads the rating table, but only counts: one statement
grouped by day and hour, over the index on (officer_id, day) or (counter_id, day), so a year is
a few thousand rows, never the ratings themselves. Flagged ratings are counted or left out by the
policy's `[misuse] count`, as the rollups count them, so the grid adds up to the review's figure;
an officer's grid leaves out the ratings its `[channels] officer_excluded` keeps from officers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, extract, func, select
from sqlmodel import Session, col

from server.reporting.recount import flagged_sql
from server.storage.models import Counter, Rating
from server.storage.rollups import as_date

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
VN_OFFSET_HOURS = 7  # server/timeutil.py: Vietnam is UTC+7 all year


@dataclass(frozen=True)
class HourWeekday:
    """counts[weekday][hour]: weekday 0 is Monday, hour 0..23 in Vietnam time."""

    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))

    def hours_used(self) -> range:
        """The hours from the first to the last with any rating (all 24 if none), so a chart
        shows the opening hours, not a night of empty cells."""
        used = [h for h in range(24) if any(day[h] for day in self.counts)]
        return range(used[0], used[-1] + 1) if used else range(24)


def grid(rows: Iterable[tuple[date, int, int, int]], *, include_flagged: bool) -> HourWeekday:
    """Pure: (Vietnam day, UTC hour, ratings, flagged) → the grid. The weekday is the stored
    Vietnam day's; the hour is moved from UTC to Vietnam time."""
    counts = [[0] * 24 for _ in range(7)]
    for day, utc_hour, n, flagged in rows:
        counted = n if include_flagged else n - flagged
        counts[day.weekday()][(utc_hour + VN_OFFSET_HOURS) % 24] += counted
    return HourWeekday(tuple(tuple(day) for day in counts))


def hour_weekday(
    session: Session,
    start: date,
    end: date,
    *,
    counted: Collection[str],
    officer_excluded: Collection[str] = (),
    unit_id: str | None = None,
    officer_id: str | None = None,
    include_flagged: bool = False,
) -> HourWeekday:
    """The grid of one officer's ratings (at the unit's counters, if a unit is given) or one
    unit's, pressed on start..end; `counted` is the policy's `misuse.count`, `officer_excluded`
    its `channels.officer_excluded`."""
    if unit_id is None and officer_id is None:
        raise ValueError("a heatmap is of one officer or one unit; give officer_id or unit_id")
    hour = extract("hour", col(Rating.pressed_at))
    flagged = func.sum(case((flagged_sql(counted), 1), else_=0))
    q: Any = (
        select(col(Rating.day), hour, func.count(), flagged)
        .where(col(Rating.day) >= start, col(Rating.day) <= end)
        .group_by(col(Rating.day), hour)
    )
    if officer_id is not None:
        q = q.where(col(Rating.officer_id) == officer_id)
        if officer_excluded:
            q = q.where(~flagged_sql(officer_excluded))
    if unit_id is not None:
        q = q.where(col(Rating.unit_id) == unit_id)
        if officer_id is None:
            # a counter never changes unit: its counters find the unit's ratings by an index
            counters = select(col(Counter.id)).where(col(Counter.unit_id) == unit_id)
            q = q.where(col(Rating.counter_id).in_(counters))
    rows = session.execute(q).all()
    return grid(
        ((as_date(d), int(h), int(n), int(f or 0)) for d, h, n, f in rows),
        include_flagged=include_flagged,
    )
