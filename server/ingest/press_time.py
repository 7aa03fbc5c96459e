"""When a press was made: the contract's time rule (docs/protocol.md, "Server rules for a Rating").

A unit has no battery clock and often no NTP, so its `pressed_at` may be a day off, or a guess it
says itself is unsynchronised. The server's own clock dates a press independently where it can:
a live Status of the same boot ties the unit's monotonic clock to the server's (its receipt minus
its `mono_ms`), and monotonic time never jumps. A rating is never rejected for its time: what
cannot be dated is dated by its receipt and flagged, and the reports show the flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hailong import protocol

CLOCK_TOLERANCE = timedelta(seconds=protocol.CLOCK_TOLERANCE_S)
CLOCK_CORRECTED = "clock_corrected"
TIME_UNKNOWN = "time_unknown"
# The flags of a rating dated by its receipt, the old time rule's included: its pressed_at is no
# press time, so the order and late rules leave it out.
UNKNOWN_TIME_FLAGS = (TIME_UNKNOWN, "clock_unsynced", "clock_implausible")


@dataclass(frozen=True)
class BootMark:
    """A live Status of one boot: when the server received it and the unit's mono_ms then."""

    received_at: datetime
    mono_ms: int


@dataclass(frozen=True)
class Dated:
    pressed_at: datetime
    flags: tuple[str, ...]

    @property
    def known(self) -> bool:
        return TIME_UNKNOWN not in self.flags


def date_press(
    pressed_at: datetime,
    clock_synced: bool,
    mono_ms: int | None,
    mark: BootMark | None,
    received_at: datetime,
    max_age: timedelta,
    future_tolerance: timedelta,
) -> Dated:
    """The press time the server keeps, and its time flag if any.

    With a mark of the press's boot, the estimate (mark's receipt − mark's mono_ms + the press's
    mono_ms) wins over a `pressed_at` more than 2 minutes off it (`clock_corrected`). The estimate
    itself must be plausible (not ahead of the receipt, not older than `max_age`): a Status with
    an invented mono_ms must not date a press anywhere. Without an estimate, a `pressed_at` that
    the unit says is unsynchronised, that lies ahead of the receipt by more than
    `future_tolerance`, or is older than `max_age` is no time at all: the receipt is kept and
    the rating flagged `time_unknown`.
    """

    def plausible(moment: datetime) -> bool:
        return received_at - max_age <= moment <= received_at + future_tolerance

    if mark is not None and mono_ms is not None:
        estimate = protocol.press_time(mark.received_at, mark.mono_ms, mono_ms)
        if plausible(estimate):
            if abs(pressed_at - estimate) > CLOCK_TOLERANCE:
                return Dated(estimate, (CLOCK_CORRECTED,))
            return Dated(pressed_at, ())
    if not clock_synced or not plausible(pressed_at):
        return Dated(received_at, (TIME_UNKNOWN,))
    return Dated(pressed_at, ())
