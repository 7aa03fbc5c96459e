"""Reading a report's counts: every group's rollup counts for a period, in one statement per family
(ratings, reasons, flags, services, channels), summed into one `Counts` per officer, counter,
unit or day.

SQL only counts (server/reporting/reading.py splits the period over the day, month and year
rollups); every figure is made from these counts by server/reporting/scoring.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from server.reporting import reading, scoring
from server.reporting.reading import GroupBy
from server.reporting.scoring import Figures, LevelTally
from server.storage import flags
from server.storage.channels import INPUTS
from server.storage.rollups import CHANNELS, FLAGS, RATINGS, REASONS, SERVICES, Family


def _plus(a: LevelTally | None, b: LevelTally) -> LevelTally:
    if a is None:
        return b
    return LevelTally(a.n + b.n, a.flagged + b.flagged, a.ticketed + b.ticketed)


@dataclass
class Counts:
    """One group's rollup counts for a period: an officer's, a counter's, a unit's or a day's.
    `flags` is how many ratings carried each flag, left out of scores or not; `channels` how
    many came by each input and how many of those were flagged, like `reasons`; `announced` is
    None where the queue system reported no services at all."""

    levels: dict[tuple[str, int], LevelTally] = field(default_factory=dict)
    reasons: dict[str, tuple[int, int]] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    announced: int | None = None
    channels: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        for key, tally in other.levels.items():
            self.levels[key] = _plus(self.levels.get(key), tally)
        for code, (n, flagged) in other.reasons.items():
            had_n, had_flagged = self.reasons.get(code, (0, 0))
            self.reasons[code] = (had_n + n, had_flagged + flagged)
        for name, n in other.flags.items():
            self.flags[name] = self.flags.get(name, 0) + n
        for name, (n, flagged) in other.channels.items():
            had_n, had_flagged = self.channels.get(name, (0, 0))
            self.channels[name] = (had_n + n, had_flagged + flagged)
        if other.announced is not None:
            self.announced = (self.announced or 0) + other.announced

    def figures(self, include_flagged: bool) -> Figures:
        return scoring.figures(self.levels, self.reasons, self.announced, include_flagged)

    def flag_counts(self) -> dict[str, int]:
        """The flags that occur, in server/storage/flags.py's order (any unknown to it after, by
        name)."""
        known = [name for name in flags.NAMES if self.flags.get(name)]
        others = sorted(name for name, n in self.flags.items() if n and name not in flags.BY_NAME)
        return {name: self.flags[name] for name in (*known, *others)}

    def channel_counts(self, include_flagged: bool) -> dict[str, int]:
        """The counted ratings (all, with `include_flagged`) per input: every input of
        server/storage/channels.py, zeros included, in its order, so they add up to the
        figures' ratings and a column never goes missing."""
        counted = {
            name: n if include_flagged else n - flagged
            for name, (n, flagged) in self.channels.items()
        }
        others = sorted(name for name in counted if name not in INPUTS and counted[name])
        return {name: counted.get(name, 0) for name in (*INPUTS, *others)}

    def rating_figures(self, include_flagged: bool) -> Figures:
        """Without reasons or services: a previous period shows only its ratings, satisfied %
        and happy index, and a province's table computes one for every officer."""
        return scoring.figures(self.levels, None, None, include_flagged)


def combine(parts: Iterable[Counts | None]) -> Counts:
    """The parts' sum, as a new Counts; a single part is itself (an officer's row has one
    group, and copying 2,000 of them was a tenth of a province's table)."""
    found = [part for part in parts if part is not None]
    if len(found) == 1:
        return found[0]
    total = Counts()
    for part in found:
        total.add(part)
    return total


@dataclass(frozen=True)
class Filters:
    """What every count of a report is limited to; None: no limit."""

    unit_id: str | None = None
    officer_id: str | None = None
    counter_ids: tuple[str, ...] | None = None


def _tallies(
    session: Session,
    family: Family,
    start: date,
    end: date,
    by: GroupBy | None,
    filters: Filters,
) -> list[tuple[Any, ...]]:
    return reading.tallies(
        session,
        family,
        start,
        end,
        [by] if by else [],
        unit_id=filters.unit_id,
        officer_id=filters.officer_id,
        counter_ids=filters.counter_ids,
    )


def _key(row: Sequence[Any], by: GroupBy | None) -> Any:
    return row[0] if by else None


def read_levels(
    session: Session,
    start: date,
    end: date,
    by: GroupBy | None,
    filters: Filters,
    into: dict[Any, Counts],
) -> None:
    for row in _tallies(session, RATINGS, start, end, by, filters):
        scale, score, n, flagged, ticketed = row[-5:]
        # `ticketed` counts only unflagged ratings: a flagged one is never a rated service.
        counts = into.setdefault(_key(row, by), Counts())
        counts.levels[(scale, int(score))] = LevelTally(n, flagged, ticketed)


def read_counts(
    session: Session,
    start: date,
    end: date,
    by: GroupBy | None,
    filters: Filters,
    levels_only: bool = False,
) -> dict[Any, Counts]:
    """Every group's counts for start..end in five statements, one per rollup family (one with
    `levels_only`, as a previous period needs); with `by` None all of them are one group, keyed
    None."""
    found: dict[Any, Counts] = {}
    read_levels(session, start, end, by, filters, found)
    if levels_only:
        return found
    for row in _tallies(session, REASONS, start, end, by, filters):
        reason, n, flagged = row[-3:]
        found.setdefault(_key(row, by), Counts()).reasons[reason] = (n, flagged)
    for row in _tallies(session, FLAGS, start, end, by, filters):
        name, n = row[-2:]
        found.setdefault(_key(row, by), Counts()).flags[name] = n
    for row in _tallies(session, CHANNELS, start, end, by, filters):
        name, n, flagged = row[-3:]
        found.setdefault(_key(row, by), Counts()).channels[name] = (n, flagged)
    # Grouped by unit even for one group: with no group and no detail columns, a SUM over no
    # rows would come back as one row of NULL.
    for row in _tallies(session, SERVICES, start, end, by or "unit_id", filters):
        counts = found.setdefault(_key(row, by), Counts())
        counts.announced = (counts.announced or 0) + row[-1]
    return found
