"""The alert rules decided, without the database: bursts of presses within a window, and a
unit's day below its threshold.

Three kinds of rule (server/policy/): `count` "Không hài lòng" ratings at one counter within
`window_minutes`; a unit's satisfied % for the Vietnam day that has ended below `threshold_pct`;
and `count` ratings that the order rules flagged received from one device within
`window_minutes` (backdated or replayed with its password). Deciding is pure, so it is tested
without a database; server/alerts/checks.py reads the database and raises what these find.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hailong.protocol import satisfied_pct
from server.reporting.scoring import round2
from server.timeutil import vn_day

# A unit's day is judged this long after it ends, once the units' last presses have arrived.
UNIT_DAY_GRACE = timedelta(minutes=30)


@dataclass(frozen=True)
class Burst:
    """`ratings` level-1 presses at one counter from `start` to `end`, at least the rule's
    `count` of them, all within the window that opens at `start`."""

    start: datetime
    end: datetime
    ratings: int


def find_bursts(times: Iterable[datetime], count: int, window: timedelta) -> list[Burst]:
    """Each run of at least `count` press times within `window` (both ends included), oldest
    first.

    A burst is anchored at its first press and owns every press up to `start + window`, so it
    keeps its start (and its alert key) while it grows; the next burst starts after that."""
    ordered = sorted(times)
    bursts: list[Burst] = []
    i = 0
    while i + count <= len(ordered):
        start = ordered[i]
        if ordered[i + count - 1] - start > window:
            i += 1
            continue
        j = i + count
        while j < len(ordered) and ordered[j] - start <= window:
            j += 1
        bursts.append(Burst(start, ordered[j - 1], j - i))
        i = j
    return bursts


def unit_below(
    counts: Mapping[tuple[str, int], int], threshold_pct: float, min_ratings: int
) -> float | None:
    """The satisfied % (rounded to 2 decimals, as reports show it) when it is below
    `threshold_pct` with at least `min_ratings` ratings; otherwise None.

    The rounded figure is compared so that an alert never says "70 % (dưới 70 %)"."""
    if sum(counts.values()) < min_ratings:
        return None
    pct = satisfied_pct(counts)
    if pct is None:
        return None
    shown = round2(pct)
    return shown if shown < threshold_pct else None


def unit_day(now: datetime) -> date:
    """The Vietnam day a unit check judges at `now`: the one that ended, after the grace."""
    return vn_day(now - UNIT_DAY_GRACE) - timedelta(days=1)
