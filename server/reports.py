"""Report figures: SQL only counts; every figure is computed by the pure functions here.

The counts come from the rollups (server/rollups.py), never from a scan of the ratings, so a
province's year opens as fast as a commune's week.

The API, the dashboard and (later) the exports all call these, so one number is the same number
everywhere. Days are Vietnam days, from the stored `Rating.day`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from sqlmodel import Session, col, select

from hailong.protocol import SCALES, happy_index, satisfied_pct
from server import rollups
from server.models import Officer

LevelCounts = Mapping[tuple[str, int], int]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass(frozen=True)
class Figures:
    """What every report row shows: how many, how they split, and the two headline figures."""

    ratings: int
    counts: dict[str, int]
    satisfied_pct: float | None
    happy_index: float | None


def figures(levels: LevelCounts) -> Figures:
    size = max((SCALES[scale].size for scale, _ in levels), default=SCALES["vn4"].size)
    counts = {str(level): 0 for level in range(1, size + 1)}
    for (_scale, score), n in levels.items():
        counts[str(score)] += n
    return Figures(
        ratings=sum(levels.values()),
        counts=counts,
        satisfied_pct=_round(satisfied_pct(levels)),
        happy_index=_round(happy_index(levels)),
    )


@dataclass(frozen=True)
class OfficerRow:
    officer_id: str
    name: str
    unit_id: str
    title: str | None
    figures: Figures

    def as_dict(self) -> dict[str, object]:
        return {
            "officer_id": self.officer_id,
            "name": self.name,
            "unit_id": self.unit_id,
            "ratings": self.figures.ratings,
            "counts": self.figures.counts,
            "satisfied_pct": self.figures.satisfied_pct,
            "happy_index": self.figures.happy_index,
        }


@dataclass(frozen=True)
class DayRow:
    day: date
    figures: Figures


@dataclass
class _Tally:
    levels: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, scale: str, score: int, n: int) -> None:
        self.levels[(scale, score)] = self.levels.get((scale, score), 0) + n


class OfficerLike(Protocol):
    id: str
    name: str
    unit_id: str
    title: str | None


def officer_rows(
    officers: Iterable[OfficerLike], counts: Iterable[tuple[str, str, int, int]]
) -> list[OfficerRow]:
    """Pure: officers plus (officer_id, scale, score, n) tallies → one row per officer."""
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for officer_id, scale, score, n in counts:
        tallies[officer_id].add(scale, score, n)
    return [
        OfficerRow(o.id, o.name, o.unit_id, o.title, figures(tallies[o.id].levels))
        for o in officers
    ]


def day_rows(counts: Iterable[tuple[date, str, int, int]]) -> list[DayRow]:
    """Pure: (day, scale, score, n) tallies → one row per day that has ratings, in order."""
    tallies: dict[date, _Tally] = defaultdict(_Tally)
    for day, scale, score, n in counts:
        tallies[day].add(scale, score, n)
    return [DayRow(day, figures(tallies[day].levels)) for day in sorted(tallies)]


def officer_report(
    session: Session, start: date, end: date, unit_id: str | None = None
) -> list[OfficerRow]:
    """Every officer (of one unit, or all), with the ratings pressed on start..end inclusive."""
    officers_q = select(
        col(Officer.id), col(Officer.name), col(Officer.unit_id), col(Officer.title)
    ).order_by(col(Officer.unit_id), col(Officer.name), col(Officer.id))
    if unit_id is not None:
        officers_q = officers_q.where(Officer.unit_id == unit_id)
    officers = session.execute(officers_q).all()  # rows, not ORM objects: 2,000 of them add up
    counts = rollups.counts(session, start, end, ["officer_id"], unit_id=unit_id)
    return officer_rows(officers, counts)


def period_report(session: Session, start: date, end: date, unit_id: str | None = None) -> Figures:
    """All ratings pressed on start..end inclusive (of one unit, or all), as one row."""
    counts = rollups.counts(session, start, end, [], unit_id=unit_id)
    return figures({(scale, score): n for scale, score, n in counts})


def daily_report(
    session: Session, start: date, end: date, unit_id: str | None = None
) -> list[DayRow]:
    """Satisfaction per Vietnam day, for the satisfaction-over-time chart."""
    return day_rows(rollups.counts(session, start, end, ["day"], unit_id=unit_id))


def officer_figures(session: Session, officer_id: str, start: date, end: date) -> Figures:
    """One officer's ratings pressed on start..end inclusive, at whatever counter, as one row."""
    counts = rollups.counts(session, start, end, [], officer_id=officer_id)
    return figures({(scale, score): n for scale, score, n in counts})
