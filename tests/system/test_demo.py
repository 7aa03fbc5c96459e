"""The demo fleet's history is what a real unit would send."""

from __future__ import annotations

import random
from datetime import date

from server.timeutil import vn_day
from system.demo import day_presses


def test_a_counters_day_is_pressed_in_time_order_within_working_hours() -> None:
    """A unit numbers presses as they come; history pressed out of time order was flagged
    out_of_order by the server (two ratings in three of the demo's history)."""
    rng = random.Random(5)
    for n in range(200):
        day = date(2026, 10, 1 + n % 28)
        presses = day_presses(rng, 0.8, day, 8)
        moments = [at for at, _ in presses]
        assert moments == sorted(moments)
        assert 4 <= len(presses) <= 12
        assert all(vn_day(at) == day and 7 <= at.hour < 17 for at in moments)
        assert all(1 <= score <= 4 for _, score in presses)
