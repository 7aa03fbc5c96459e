"""The unit's sense of time, behind a seam so tests and the simulator can set it.

Two kinds of time matter: the wall clock stamps `pressed_at` (and may be wrong on a Pi with no
RTC before NTP), while monotonic time measures cooldowns and screen timers (and must never jump).
A unit also tells the server whether its wall clock is synchronised, so that is asked here too.
"""

from __future__ import annotations

import ctypes
import threading
import time
from datetime import datetime, timedelta
from typing import Protocol

_TIME_ERROR = 5  # adjtimex(2): the kernel's clock is not synchronised


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall clock, timezone-aware (the unit's local offset)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going backwards."""
        ...

    def synced(self) -> bool:
        """False only when the unit knows its wall clock is not synchronised."""
        ...


def kernel_clock_synced() -> bool | None:
    """Ask Linux (adjtimex) whether NTP has synchronised the clock; None when it cannot say."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buffer = ctypes.create_string_buffer(512)  # larger than struct timex; modes = 0 reads
        state = int(libc.adjtimex(buffer))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != _TIME_ERROR


class SystemClock:
    """The real clocks; `trust` forces `synced()` true (an RTC-backed unit without NTP)."""

    def __init__(self, trust: bool = False) -> None:
        self._trust = trust

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def monotonic(self) -> float:
        return time.monotonic()

    def synced(self) -> bool:
        return self._trust or kernel_clock_synced() is not False


class ManualClock:
    """A clock that moves only when told, for tests and for making history in the simulator.

    `set` may move the wall clock anywhere, even back to a past day; monotonic time then moves
    forward by the size of the jump, as if the jump took that long, so it never goes backwards
    and a jump never looks like no time passed (which would swallow presses in the cooldown).
    """

    def __init__(self, start: datetime, *, synced: bool = True) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._lock = threading.Lock()
        self._now = start
        self._mono = 0.0
        self.is_synced = synced

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def synced(self) -> bool:
        return self.is_synced

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("advance() moves forward only; use set() to jump back")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        with self._lock:
            self._mono += abs((when - self._now).total_seconds())
            self._now = when
