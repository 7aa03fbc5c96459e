"""The HR office's report figures, computed from counts alone so each can be redone by hand.

No database and no web here: the report code sums the rollups into level counts and passes them
in. Every percentage is rounded once, at the end, to 2 decimals with round-half-up on the decimal
digits (`round2`), because that is how a person with a calculator rounds; Python's `round` rounds
half to even and on binary floats, so 0.125 → 0.12 and 2.675 → 2.67, which would not match.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple, TypeVar

from hailong.protocol import SCALES

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal: a two-sided 95 % interval
NOT_ENOUGH_DATA_VI = "chưa đủ dữ liệu"
NOT_ENOUGH_DATA_EN = "not enough data"

T = TypeVar("T")


@dataclass(frozen=True)
class LevelTally:
    """Ratings at one (scale, score): `flagged` of the `n` were flagged as misuse, and `ticketed`
    of the unflagged ones carried a queue ticket (as the rollups count them).

    A flagged rating is never a rated service, even in a report that includes flagged ratings:
    a burst of presses on one ticket is one service, not five.
    """

    n: int
    flagged: int = 0
    ticketed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.flagged <= self.n:
            raise ValueError(f"{self}: flagged must be between 0 and n")
        if not 0 <= self.ticketed <= self.n - self.flagged:
            raise ValueError(f"{self}: ticketed must be between 0 and the unflagged n − flagged")

    def counted(self, include_flagged: bool) -> int:
        return self.n if include_flagged else self.n - self.flagged


@dataclass(frozen=True)
class Figures:
    """One report row. Percentages are 0..100 with 2 decimals, None when there are no ratings.

    `mean_score` is given only when every counted rating is on one scale: a 3 on vn3 ("Rất hài
    lòng") is not a 3 on vn4 ("Hài lòng"), so a mean across scales means nothing; `happy_index`
    maps every scale onto 0..100 and is the figure to compare.
    """

    ratings: int
    flagged: int
    include_flagged: bool
    counts: dict[str, dict[str, int]]
    satisfied: int
    satisfied_pct: float | None
    unsatisfied: int
    unsatisfied_pct: float | None
    happy_index: float | None
    mean_score: float | None
    wilson_low: float | None
    wilson_high: float | None
    rated_services: int
    announced: int | None
    response_rate: float | None
    reasons: dict[str, float]
    reason_counts: dict[str, int]


def round2(value: Fraction | float) -> float:
    """Round to 2 decimals, halves away from zero, on the value as written in decimal.

    A Fraction is rounded exactly; a float is first read as its shortest decimal text (repr), so
    round2(2.675) is 2.68 as on paper, not 2.67 as the binary value 2.67499… would give.
    """
    if isinstance(value, Fraction):
        return ratio2(value.numerator, value.denominator)
    return float(Decimal(repr(value)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)) + 0.0


_HUNDREDTH = Decimal("0.01")
# Every level's happy value (hailong.protocol's Scale.happy_value, exact) over one common
# denominator is a whole number: a report sums whole numbers and divides exactly once.
_HAPPY_DENOMINATOR = math.lcm(*(scale.size - 1 for scale in SCALES.values()))
_HAPPY_UNITS = {  # scale → its levels' values, from level 1
    code: tuple(
        int(scale.happy_value(level) * _HAPPY_DENOMINATOR) for level in range(1, scale.size + 1)
    )
    for code, scale in SCALES.items()
}


def ratio2(numerator: int, denominator: int) -> float:
    """numerator / denominator rounded as `round2` does, in whole numbers only: a province's
    table rounds some ten thousand figures, and Fraction arithmetic made that the slow part."""
    if denominator <= 0:
        raise ValueError(f"the denominator must be positive, not {denominator}")
    hundredths = (200 * abs(numerator) + denominator) // (2 * denominator)
    return (hundredths if numerator >= 0 else -hundredths) / 100 + 0.0  # + 0.0: never "-0.0"


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else ratio2(100 * part, whole)


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of successes/n as proportions 0..1, unrounded; None for n = 0.

    Unlike p ± z·√(p(1−p)/n) it stays inside 0..1 and is honest for 30 ratings all satisfied,
    which is why rankings use its lower bound: few ratings mean a wide interval, a low bound.
    """
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n, not {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At p = 0 or 1 one bound is 0 or 1 on paper; clamping removes only float noise.
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson_pct(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """`wilson` in percent, rounded with `round2`, as reports show it."""
    interval = wilson(successes, n, z)
    if interval is None:
        return None
    low, high = interval
    return round2(low * 100), round2(high * 100)


def _check_level(scale: str, score: int) -> None:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; the scales are {', '.join(SCALES)}")
    size = SCALES[scale].size
    if not 1 <= score <= size:
        raise ValueError(f"score {score} is outside the {scale} scale (1..{size})")


def _reason_shares(
    reasons: Mapping[str, tuple[int, int]], include_flagged: bool
) -> tuple[dict[str, float], dict[str, int]]:
    counts: dict[str, int] = {}
    for code, (n, flagged) in reasons.items():
        if not 0 <= flagged <= n:
            raise ValueError(f"reason {code!r}: flagged {flagged} must be between 0 and n {n}")
        counts[code] = n if include_flagged else n - flagged
    # Most given first; ties by code, so the order never depends on the query's.
    counts = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    total = sum(counts.values())
    if total == 0:
        return {}, counts
    return {code: ratio2(100 * n, total) for code, n in counts.items()}, counts


def figures(
    levels: Mapping[tuple[str, int], LevelTally],
    reasons: Mapping[str, tuple[int, int]] | None = None,
    announced: int | None = None,
    include_flagged: bool = False,
) -> Figures:
    """Report figures from level counts keyed by (scale, score).

    `satisfied_pct` and `happy_index` are hailong.protocol's, of the counted ratings, rounded with
    `round2`; they are computed here in one pass of whole numbers rather than by calling those.

    Ratings flagged as misuse are left out of every figure unless `include_flagged`; how many
    there were is always reported. `reasons` maps a reason code to (mentions, flagged mentions);
    a reason's share is of all counted mentions, so the shares add up to 100 (give or take the
    rounding) though one rating may give several reasons. `announced` is how many services the
    queue system announced (None: no queue system); the response rate is unflagged ticketed
    ratings over it and is not capped, so a figure over 100 % shows tickets rated twice or
    services the queue system never reported.
    """
    if announced is not None and announced < 0:
        raise ValueError(f"announced services cannot be negative, not {announced}")
    # One pass over the levels: a province's table computes this for thousands of officers.
    counted: dict[tuple[str, int], int] = {}
    flagged = rated_services = ratings = satisfied = unsatisfied = happy = score_sum = 0
    used: set[str] = set()
    for (scale, score), tally in levels.items():
        _check_level(scale, score)
        n = tally.n if include_flagged else tally.n - tally.flagged
        counted[(scale, score)] = n
        flagged += tally.flagged
        rated_services += tally.ticketed
        if not n:
            continue
        used.add(scale)
        ratings += n
        score_sum += score * n
        if SCALES[scale].is_satisfied(score):
            satisfied += n
        if score == 1:
            unsatisfied += n
        happy += n * _HAPPY_UNITS[scale][score - 1]

    # With nothing counted, still show the unit's own scale (its levels, all 0) if it is known.
    present = [code for code in SCALES if code in used]
    present = present or [code for code in SCALES if any(s == code for s, _ in levels)] or ["vn4"]
    counts = {
        code: {
            str(level): counted.get((code, level), 0) for level in range(1, SCALES[code].size + 1)
        }
        for code in present
    }
    mean = ratio2(score_sum, ratings) if len(used) == 1 else None
    interval = wilson_pct(satisfied, ratings)
    shares, reason_counts = _reason_shares(reasons or {}, include_flagged)
    return Figures(
        ratings=ratings,
        flagged=flagged,
        include_flagged=include_flagged,
        counts=counts,
        satisfied=satisfied,
        satisfied_pct=_pct(satisfied, ratings),
        unsatisfied=unsatisfied,
        unsatisfied_pct=_pct(unsatisfied, ratings),
        happy_index=None if ratings == 0 else ratio2(happy, _HAPPY_DENOMINATOR * ratings),
        mean_score=mean,
        wilson_low=None if interval is None else interval[0],
        wilson_high=None if interval is None else interval[1],
        rated_services=rated_services,
        announced=announced,
        response_rate=_pct(rated_services, announced) if announced else None,
        reasons=shares,
        reason_counts=reason_counts,
    )


def change(current: float | None, previous: float | None) -> float | None:
    """current − previous in percentage points, 2 decimals; None when either is missing."""
    if current is None or previous is None:
        return None
    return round2(Fraction(Decimal(repr(current))) - Fraction(Decimal(repr(previous))))


class Standing(NamedTuple):
    """An item's place in a ranking; unranked items have too few ratings (NOT_ENOUGH_DATA_*)."""

    ranked: bool
    rank: int | None


def rank(
    items: Sequence[T],
    ratings: Callable[[T], int],
    low: Callable[[T], float | None],
    min_ratings: int,
) -> list[Standing]:
    """Rank items with at least `min_ratings` ratings by Wilson lower bound, highest first.

    Returns one Standing per item, in the order given. Equal bounds share a rank and the next
    rank skips (1, 2, 2, 4), so a rank never depends on the order of the input. Pass the
    rounded bound of `Figures`, so two officers shown with the same figure share a rank.
    """
    if min_ratings < 0:
        raise ValueError(f"min_ratings cannot be negative, not {min_ratings}")
    bounds: list[float | None] = []
    for item in items:
        bound = low(item)
        bounds.append(bound if ratings(item) >= min_ratings else None)
    ascending = sorted(b for b in bounds if b is not None)
    return [
        Standing(False, None)
        if b is None
        else Standing(True, 1 + len(ascending) - bisect_right(ascending, b))
        for b in bounds
    ]
