"""The clock seam: aware wall time, and a manual clock whose monotonic time never goes back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from device.clock import ManualClock, SystemClock
from tests.device.conftest import ICT


def test_system_clock_is_timezone_aware() -> None:
    clock = SystemClock()
    assert clock.now().utcoffset() is not None
    assert isinstance(clock.synced(), bool)
    assert SystemClock(trust=True).synced() is True
    first = clock.monotonic()
    assert clock.monotonic() >= first


def test_manual_clock_moves_only_when_told() -> None:
    start = datetime(2026, 11, 23, 8, 0, tzinfo=ICT)
    clock = ManualClock(start)
    assert clock.now() == start
    clock.advance(2.5)
    assert clock.now() == start + timedelta(seconds=2.5)
    assert clock.monotonic() == 2.5


def test_jumping_back_in_history_still_moves_monotonic_time_forward() -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=ICT))
    clock.set(datetime(2026, 11, 1, 8, 0, tzinfo=ICT))
    assert clock.now().day == 1
    assert clock.monotonic() == 22 * 86400


def test_manual_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 11, 23, 8, 0))
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=ICT), synced=False)
    assert clock.synced() is False
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 11, 23, 9, 0))
