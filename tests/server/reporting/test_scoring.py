"""Report figures, checked against numbers worked out by hand (the arithmetic is in comments).

Wilson literals were computed apart from the code under test, from the quadratic the interval
solves, (1 + z²/n)·p² − (2p̂ + z²/n)·p + p̂² = 0 with z = 1.959963984540054, in 40-digit
decimals; the comment keeps four decimals of each root.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pytest

from hailong.protocol import SCALES, happy_index, satisfied_pct
from server.reporting.scoring import (
    NOT_ENOUGH_DATA_EN,
    NOT_ENOUGH_DATA_VI,
    LevelTally,
    Standing,
    change,
    figures,
    rank,
    round2,
    wilson,
    wilson_pct,
)

# One officer's month on vn4, with misuse: levels 1..4 pressed 3, 2, 10, 19 times, two of the
# 1s and two of the 4s flagged; `ticketed` counts the unflagged ratings with a ticket.
MONTH = {
    ("vn4", 1): LevelTally(3, flagged=2, ticketed=1),
    ("vn4", 2): LevelTally(2, ticketed=2),
    ("vn4", 3): LevelTally(10, ticketed=8),
    ("vn4", 4): LevelTally(19, flagged=2, ticketed=13),
}


def test_flagged_left_out_by_default() -> None:
    fig = figures(MONTH, announced=40)
    # counted: 3−2, 2, 10, 19−2 = 1, 2, 10, 17 → 30; flagged 2 + 2 = 4 still reported
    assert fig.ratings == 30
    assert fig.flagged == 4
    assert not fig.include_flagged
    assert fig.counts == {"vn4": {"1": 1, "2": 2, "3": 10, "4": 17}}
    assert fig.satisfied == 27  # levels 3 and 4: 10 + 17
    assert fig.satisfied_pct == 90.0  # 27 / 30
    assert fig.unsatisfied == 1
    assert fig.unsatisfied_pct == 3.33  # 1 / 30 = 3.333…
    # (1·0 + 2·100/3 + 10·200/3 + 17·100) / 30 = (2200/3 + 1700) / 30 = 7300/90 = 81.111…
    assert fig.happy_index == 81.11
    assert fig.mean_score == 3.43  # (1·1 + 2·2 + 10·3 + 17·4) / 30 = 103/30 = 3.4333…
    # Wilson 27/30: roots 0.7437…, 0.9654… → 74.3789…, 96.5400…
    assert (fig.wilson_low, fig.wilson_high) == (74.38, 96.54)
    # rated services: 1 + 2 + 8 + 13 = 24 of 40 announced
    assert fig.rated_services == 24
    assert fig.response_rate == 60.0


def test_flagged_included_when_asked() -> None:
    fig = figures(MONTH, announced=40, include_flagged=True)
    assert fig.ratings == 34  # 3 + 2 + 10 + 19
    assert fig.flagged == 4
    assert fig.counts == {"vn4": {"1": 3, "2": 2, "3": 10, "4": 19}}
    assert fig.satisfied_pct == 85.29  # 29 / 34 = 85.294…
    assert fig.unsatisfied_pct == 8.82  # 3 / 34 = 8.8235…
    # (2·100/3 + 10·200/3 + 19·100) / 34 = (2200 + 5700) / 102 = 77.4509…
    assert fig.happy_index == 77.45
    assert fig.mean_score == 3.32  # (3 + 4 + 30 + 76) / 34 = 113/34 = 3.3235…
    # Wilson 29/34: 69.8719…, 93.5505…
    assert (fig.wilson_low, fig.wilson_high) == (69.87, 93.55)
    # flagged ratings are counted here, but a flagged rating is never a rated service
    assert fig.rated_services == 24
    assert fig.response_rate == 60.0


def test_mixed_scales_have_no_mean_but_a_happy_index() -> None:
    levels = {
        ("vn4", 3): LevelTally(6),
        ("vn4", 4): LevelTally(4),
        ("vn3", 1): LevelTally(2),
        ("vn3", 2): LevelTally(3),
        ("vn3", 3): LevelTally(5),
    }
    fig = figures(levels)
    assert fig.ratings == 20
    assert fig.counts == {
        "vn4": {"1": 0, "2": 0, "3": 6, "4": 4},
        "vn3": {"1": 2, "2": 3, "3": 5},
    }
    assert list(fig.counts) == ["vn4", "vn3"]
    assert fig.satisfied == 18  # vn4 3,4: 6 + 4; vn3 2,3: 3 + 5
    assert fig.satisfied_pct == 90.0
    assert fig.unsatisfied_pct == 10.0  # vn3 level 1: 2 / 20
    # (6·200/3 + 4·100 + 2·0 + 3·50 + 5·100) / 20 = (400 + 400 + 150 + 500) / 20 = 72.5
    assert fig.happy_index == 72.5
    assert fig.mean_score is None
    assert (fig.wilson_low, fig.wilson_high) == (69.9, 97.21)  # 18/20: 69.8966…, 97.2133…


def test_vn3_alone_has_a_mean() -> None:
    fig = figures({("vn3", 2): LevelTally(1), ("vn3", 3): LevelTally(2)})
    assert fig.counts == {"vn3": {"1": 0, "2": 1, "3": 2}}
    assert fig.mean_score == 2.67  # (2 + 3 + 3) / 3 = 2.666…
    assert fig.happy_index == 83.33  # (50 + 100 + 100) / 3 = 83.333…


def test_percentages_round_half_up() -> None:
    # 1 satisfied of 160 is 0.625 % exactly: 0.63 by hand; Python's round(0.625, 2) gives 0.62
    fig = figures({("vn4", 1): LevelTally(159), ("vn4", 3): LevelTally(1)})
    assert round(0.625, 2) == 0.62
    assert fig.satisfied_pct == 0.63
    assert fig.unsatisfied_pct == 99.38  # 159/160 = 99.375
    assert fig.happy_index == 0.42  # (200/3) / 160 = 0.41666…
    assert (fig.wilson_low, fig.wilson_high) == (0.11, 3.45)  # 0.1104…, 3.4548…


def test_no_ratings() -> None:
    fig = figures({})
    assert fig.ratings == 0
    assert fig.flagged == 0
    assert fig.counts == {"vn4": {"1": 0, "2": 0, "3": 0, "4": 0}}
    assert fig.satisfied_pct is None
    assert fig.unsatisfied_pct is None
    assert fig.happy_index is None
    assert fig.mean_score is None
    assert fig.wilson_low is None and fig.wilson_high is None
    assert fig.response_rate is None
    assert fig.reasons == {} and fig.reason_counts == {}


def test_all_flagged_keeps_the_scale_and_reports_the_flags() -> None:
    fig = figures({("vn3", 1): LevelTally(4, flagged=4)})
    assert fig.ratings == 0
    assert fig.flagged == 4
    assert fig.counts == {"vn3": {"1": 0, "2": 0, "3": 0}}
    assert fig.satisfied_pct is None and fig.mean_score is None


def test_response_rate() -> None:
    levels = {("vn4", 4): LevelTally(5, ticketed=3)}
    assert figures(levels, announced=None).response_rate is None  # no queue system
    assert figures(levels, announced=0).response_rate is None  # nothing announced
    assert figures(levels, announced=7).response_rate == 42.86  # 3/7 = 42.857…
    # more rated than announced is shown, not capped: 3/2
    assert figures(levels, announced=2).response_rate == 150.0
    # announced services with no ratings at all: nobody rated, 0 %
    assert figures({}, announced=10).response_rate == 0.0
    with pytest.raises(ValueError, match="negative"):
        figures(levels, announced=-1)


def test_reason_shares() -> None:
    reasons = {"slow": (6, 1), "rude": (3, 0), "unclear": (3, 2), "other": (0, 0)}
    fig = figures({("vn4", 1): LevelTally(9)}, reasons=reasons)
    # counted mentions 5, 3, 1, 0 of 9
    assert fig.reason_counts == {"slow": 5, "rude": 3, "unclear": 1, "other": 0}
    assert list(fig.reason_counts) == ["slow", "rude", "unclear", "other"]
    assert fig.reasons == {"slow": 55.56, "rude": 33.33, "unclear": 11.11, "other": 0.0}
    assert sum(fig.reasons.values()) == pytest.approx(100.0)

    everything = figures({("vn4", 1): LevelTally(9)}, reasons=reasons, include_flagged=True)
    # 6, 3, 3 of 12; the tie between rude and unclear is ordered by code
    assert list(everything.reasons) == ["slow", "rude", "unclear", "other"]
    assert everything.reasons == {"slow": 50.0, "rude": 25.0, "unclear": 25.0, "other": 0.0}

    none_counted = figures({}, reasons={"slow": (2, 2)})
    assert none_counted.reasons == {}
    assert none_counted.reason_counts == {"slow": 0}


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        figures({("vn5", 1): LevelTally(1)})
    with pytest.raises(ValueError, match=r"outside the vn3 scale \(1..3\)"):
        figures({("vn3", 4): LevelTally(1)})
    with pytest.raises(ValueError, match="reason 'slow'"):
        figures({}, reasons={"slow": (1, 2)})
    with pytest.raises(ValueError, match="flagged must be between 0 and n"):
        LevelTally(2, flagged=3)
    with pytest.raises(ValueError, match="flagged must be between 0 and n"):
        LevelTally(2, flagged=-1)
    with pytest.raises(ValueError, match="ticketed must be between 0 and the unflagged"):
        LevelTally(3, flagged=2, ticketed=2)
    with pytest.raises(ValueError, match="ticketed must be between 0 and the unflagged"):
        LevelTally(3, ticketed=-1)


def test_happy_value_is_the_protocol_mapping() -> None:
    for scale in SCALES.values():
        for level in range(1, scale.size + 1):
            one_level = figures({(scale.code, level): LevelTally(3)})
            assert one_level.happy_index == round2(scale.happy_value(level))
    assert SCALES["vn4"].happy_value(2) == Fraction(100, 3)


def test_the_figures_are_the_protocol_definitions_rounded_once() -> None:
    levels = [(code, level) for code, scale in SCALES.items() for level in range(1, scale.size + 1)]
    for seed in range(200):
        counts = {key: (seed * 7 + i * 13) % (seed % 11 + 2) for i, key in enumerate(levels)}
        fig = figures({key: LevelTally(n) for key, n in counts.items()})
        pct, index = satisfied_pct(counts), happy_index(counts)
        assert fig.satisfied_pct == (None if pct is None else round2(pct))
        assert fig.happy_index == (None if index is None else round2(index))


def test_wilson() -> None:
    low, high = wilson(27, 30) or (0.0, 0.0)
    assert low == pytest.approx(0.7437891742081592, abs=1e-12)
    assert high == pytest.approx(0.9654001112526658, abs=1e-12)
    assert wilson(0, 0) is None
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775327998628892, abs=1e-12))
    assert wilson(10, 10) == pytest.approx((0.7224672001371108, 1.0), abs=1e-12)
    assert wilson_pct(10, 10) == (72.25, 100.0)
    # a 90 % interval (z = 1.6448536269514722) is narrower than 95 %: 9/10 → 0.6522…, 0.9773…
    assert wilson(9, 10, z=1.6448536269514722) == pytest.approx(
        (0.6522813326641416, 0.9773650912691328), abs=1e-12
    )
    assert wilson_pct(9, 10) == (59.58, 98.21)  # 95 %: 59.5849…, 98.2123…
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_wilson_pct() -> None:
    assert wilson_pct(24, 30) == (62.69, 90.49)  # 62.6943…, 90.4948…
    assert wilson_pct(48, 50) == (86.54, 98.9)  # 86.5399…, 98.8961…
    assert wilson_pct(0, 0) is None


def test_round2() -> None:
    assert round2(2.675) == 2.68  # the binary double is 2.67499…; on paper it is a half
    assert round2(0.125) == 0.13
    assert round2(-0.125) == -0.13
    assert round2(Fraction(1, 8)) == 0.13
    zero = round2(-0.001)
    assert zero == 0.0 and math.copysign(1.0, zero) == 1.0  # no "-0.0" in a report


def test_change() -> None:
    assert change(86.67, 80.0) == 6.67
    assert change(80.0, 86.67) == -6.67
    assert change(0.1, 0.2) == -0.1  # not -0.1000000000000000055…
    assert change(70.005, 70.0) == 0.01  # as written, a half: up
    assert change(None, 80.0) is None
    assert change(80.0, None) is None


@dataclass(frozen=True)
class Row:
    name: str
    ratings: int
    wilson_low: float | None


ROWS = [
    Row("an", 40, 85.0),
    Row("binh", 30, 90.0),  # exactly the minimum: ranked
    Row("chi", 29, 99.0),  # one short: not ranked, however good
    Row("dung", 50, 85.0),  # ties with an
    Row("em", 100, 70.0),
    Row("giang", 0, None),
]


def _standings(rows: list[Row], minimum: int = 30) -> dict[str, Standing]:
    found = rank(rows, lambda r: r.ratings, lambda r: r.wilson_low, minimum)
    return {row.name: standing for row, standing in zip(rows, found, strict=True)}


def test_rank_competition_order_and_minimum() -> None:
    assert _standings(ROWS) == {
        "binh": (True, 1),
        "an": (True, 2),
        "dung": (True, 2),
        "em": (True, 4),  # 1, 2, 2, 4: the tie uses up rank 3
        "chi": (False, None),
        "giang": (False, None),
    }


def test_rank_does_not_depend_on_input_order() -> None:
    assert _standings(list(reversed(ROWS))) == _standings(ROWS)


def test_rank_edges() -> None:
    assert _standings([]) == {}
    # with no minimum an officer without ratings still has no bound to rank by
    assert _standings(ROWS, minimum=0)["giang"] == Standing(False, None)
    assert _standings(ROWS, minimum=0)["chi"] == Standing(True, 1)
    with pytest.raises(ValueError):
        _standings(ROWS, minimum=-1)


def test_not_enough_data_labels() -> None:
    assert NOT_ENOUGH_DATA_VI == "chưa đủ dữ liệu"
    assert NOT_ENOUGH_DATA_EN == "not enough data"
