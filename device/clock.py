"""The unit's sense of time, behind a seam so tests and the simulator can set it.

Two kinds of time matter: the wall clock stamps `pressed_at` (and may be wrong on a Pi with no
RTC before NTP), while monotonic time measures cooldowns and screen timers (and must never jump).
A unit also tells the server whether its wall clock is synchronised, so that is asked here too.
The boot id names the run of monotonic time: a `mono_ms` means something only within its boot,
so that true time learnt later in the same boot can date a press exactly.
"""

from __future__ import annotations

import ctypes
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

_TIME_ERROR = 5  # adjtimex(2): the kernel's clock is not synchronised
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall clock, timezone-aware (the unit's local offset)."""
        ...

    def monotonic(self) -> float:
        """Seconds since this boot, never going backwards."""
        ...

    def boot_id(self) -> str:
        """The same for as long as `monotonic` counts from the same start; new at each boot."""
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


def random_boot_id() -> str:
    return uuid.uuid4().hex


def kernel_boot_id(path: Path = BOOT_ID_FILE) -> str:
    """Linux's own id of this boot, whose CLOCK_MONOTONIC `time.monotonic` reads; where there
    is none, a random id per process, since its monotonic clock is only known to run that long."""
    try:
        text = path.read_text().strip()
    except OSError:
        return random_boot_id()
    return text[:64] if text else random_boot_id()


class SystemClock:
    """The real clocks; `trust` forces `synced()` true (an RTC-backed unit without NTP)."""

    def __init__(self, trust: bool = False) -> None:
        self._trust = trust
        self._boot_id = kernel_boot_id()

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def monotonic(self) -> float:
        return time.monotonic()

    def synced(self) -> bool:
        return self._trust or kernel_clock_synced() is not False

    def boot_id(self) -> str:
        return self._boot_id


class ManualClock:
    """A clock that moves only when told, for tests and for making history in the simulator.

    `set` may move the wall clock anywhere, even back to a past day; monotonic time then moves
    forward by the size of the jump, as if the jump took that long, so it never goes backwards
    and a jump never looks like no time passed (which would swallow presses in the cooldown).
    Each ManualClock is one boot of its own (a random boot id, monotonic time from 0): a unit
    restarted on a new ManualClock has rebooted.
    """

    def __init__(self, start: datetime, *, synced: bool = True) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._lock = threading.Lock()
        self._now = start
        self._mono = 0.0
        self._boot_id = random_boot_id()
        self.is_synced = synced

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def synced(self) -> bool:
        return self.is_synced

    def boot_id(self) -> str:
        return self._boot_id

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("advance() moves forward only; use set() to jump back")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def step(self, when: datetime) -> None:
        """The wall clock is stepped to `when` (NTP, or a person setting it); unlike `set`,
        no time passes: monotonic time stays where it is."""
        if when.tzinfo is None:
            raise ValueError("ManualClock.step needs a timezone-aware time")
        with self._lock:
            self._now = when

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        with self._lock:
            self._mono += abs((when - self._now).total_seconds())
            self._now = when
