"""All the ratings of a span of days as one row, or one row per day: the figures a chart, a
benchmark or a printed month needs beside a report, without its entities or ranks.

Kept apart from server/reporting/reports.py, which builds the ranked rows; `reports` still
offers these names, so callers read every figure from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from server.reporting.counts import Counts, Filters, combine, read_counts, read_levels
from server.reporting.scoring import Figures


@dataclass(frozen=True)
class DayRow:
    day: date
    figures: Figures


def span_counts(session: Session, start: date, end: date, filters: Filters) -> Counts:
    """The counts of start..end inclusive under `filters`, as one total."""
    found = read_counts(session, start, end, None, filters)
    return combine([found.get(None)])


def period_report(
    session: Session,
    start: date,
    end: date,
    unit_id: str | None = None,
    *,
    include_flagged: bool = False,
) -> Figures:
    """All ratings pressed on start..end inclusive (of one unit, or all), as one row; unlike an
    officer report's total it includes those pressed while nobody was assigned."""
    return span_counts(session, start, end, Filters(unit_id)).figures(include_flagged)


def daily_report(
    session: Session,
    start: date,
    end: date,
    unit_id: str | None = None,
    *,
    officer_id: str | None = None,
    include_flagged: bool = False,
) -> list[DayRow]:
    """Satisfaction per Vietnam day that has ratings, in order, for the charts; one statement
    (no reasons or services per day)."""
    found: dict[Any, Counts] = {}
    read_levels(session, start, end, "day", Filters(unit_id, officer_id), found)
    return [DayRow(day, found[day].figures(include_flagged)) for day in sorted(found)]


def officer_figures(
    session: Session, officer_id: str, start: date, end: date, *, include_flagged: bool = False
) -> Figures:
    """One officer's ratings pressed on start..end inclusive, at whatever counter, as one row."""
    filters = Filters(officer_id=officer_id)
    return span_counts(session, start, end, filters).figures(include_flagged)
