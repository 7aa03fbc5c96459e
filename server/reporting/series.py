"""An officer's or a unit's figures over a period, one point per day, week or month: the
drill-down's trend. The grain grows with the range (days up to a month, weeks up to half a
year, months beyond), so a year is twelve readable points, not 365 squeezed ones.

The counts are the day rollups (server/reporting/counts.py `read_levels`), grouped here by a
pure function; each point's figures are server/reporting/scoring.py's, flagged ratings counted
or left out as the report's are, so a point's ratings add up to the review's row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlmodel import Session

from server.reporting.counts import Counts, Filters, combine, read_levels
from server.reporting.scoring import Figures
from server.storage.rollups import month_end

Grain = Literal["day", "week", "month"]
BY_DAY_UP_TO = 31  # days: a month or less is drawn day by day
BY_WEEK_UP_TO = 183  # days: up to about half a year week by week; longer, month by month


def grain_for(start: date, end: date) -> Grain:
    """The point a range is drawn in: day, week or month, by its length."""
    days = (end - start).days + 1
    if days <= BY_DAY_UP_TO:
        return "day"
    if days <= BY_WEEK_UP_TO:
        return "week"
    return "month"


def buckets(start: date, end: date, grain: Grain) -> list[tuple[date, date]]:
    """Pure: start..end cut into days, weeks (Monday to Sunday) or calendar months, the first
    and last cut at the range's ends; every day of the range in exactly one."""
    found: list[tuple[date, date]] = []
    first = start
    while first <= end:
        if grain == "day":
            last = first
        elif grain == "week":
            last = first + timedelta(days=6 - first.weekday())
        else:
            last = month_end(first)
        last = min(last, end)
        found.append((first, last))
        first = last + timedelta(days=1)
    return found


@dataclass(frozen=True)
class Point:
    """One day, week or month of the trend, with the figures of its counted ratings."""

    first: date
    last: date
    grain: Grain
    figures: Figures

    @property
    def label_vi(self) -> str:
        if self.grain == "day":
            return f"{self.first:%d/%m}"
        if self.grain == "week":
            return f"{self.first:%d/%m}–{self.last:%d/%m}"
        return f"{self.first.month:02d}/{self.first.year}"

    @property
    def label_en(self) -> str:
        return {"day": "Day", "week": "Week", "month": "Month"}[self.grain]


def group(
    days: Mapping[date, Counts],
    start: date,
    end: date,
    *,
    include_flagged: bool,
    grain: Grain | None = None,
) -> list[Point]:
    """Pure: each day's counts → one point per bucket of start..end, empty buckets included
    (0 ratings, no percentages), so the axis has no holes that hide a quiet week."""
    chosen = grain or grain_for(start, end)
    points = []
    for first, last in buckets(start, end, chosen):
        inside = [c for day, c in days.items() if first <= day <= last]
        # a new Counts even for one part: combine() would hand back the day's own object
        total = Counts()
        total.add(combine(inside))
        points.append(Point(first, last, chosen, total.rating_figures(include_flagged)))
    return points


def series(
    session: Session,
    start: date,
    end: date,
    *,
    unit_id: str | None = None,
    officer_id: str | None = None,
    include_flagged: bool = False,
) -> list[Point]:
    """The trend of one officer (at the unit's counters, if a unit is given) or one unit over
    start..end: up to half a year, one statement over the day rollups; longer, one per month,
    each reading that month's rollup row rather than its thirty days."""
    filters = Filters(unit_id, officer_id)
    found: dict[Any, Counts] = {}
    if grain_for(start, end) != "month":
        read_levels(session, start, end, "day", filters, found)
        return group(found, start, end, include_flagged=include_flagged)
    for first, last in buckets(start, end, "month"):
        month: dict[Any, Counts] = {}
        read_levels(session, first, last, None, filters, month)
        found[first] = month.get(None, Counts())
    return group(found, start, end, include_flagged=include_flagged, grain="month")
