"""Time on the unit (the contract's "Time on the unit"): how a press is dated.

Every press of this boot and every Status carries the boot id and the monotonic clock of this
boot. A press made while the system clock is not synchronised, and before this boot has learnt
true time, waits in the outbox for it; true time comes from NTP (the clock turns synchronised:
its wall clock is then true) or from the `server_time` of an Ack heard live in this boot, and
dates the waiting presses exactly by their monotonic distance to that moment. A boot that ends
first leaves its presses to go as pressed, with `clock_synced` false, when the next boot
starts. Nothing is ever dropped for its time; a synchronised clock is trusted as it is (the
server corrects one that is far off, from this boot's Status).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from device.clock import Clock
from device.outbox import Outbox
from hailong.protocol import CLOCK_TOLERANCE_S, Rating, press_time

log = logging.getLogger(__name__)


def rfc3339(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def mono_ms(seconds: float) -> int:
    return int(seconds * 1000)


@dataclass(frozen=True)
class TrueTime:
    """A moment of this boot whose true time is known: `true` at monotonic `mono_ms`."""

    true: datetime
    mono_ms: int

    def at(self, press_mono_ms: int) -> datetime:
        return press_time(self.true, self.mono_ms, press_mono_ms)

    def later_than(self, other: TrueTime | None) -> bool:
        """The better of two: an Ack is never heard before it was sent, so the one that puts
        the boot's start latest is the least delayed."""
        return other is None or self.at(0) > other.at(0)


@dataclass(frozen=True)
class Stamp:
    """A press's time as stored: `waits` when it must wait in the outbox for true time."""

    pressed_at: datetime
    clock_synced: bool
    waits: bool = False
    boot_id: str | None = None
    mono_ms: int | None = None


class Timekeeper:
    """What this boot knows of true time, and its presses that wait for it.

    Not thread-safe: the unit calls it under its own lock. `kick(seq)` tells the link that
    ratings from `seq` on were released after newer ones may have been sent.
    """

    def __init__(self, clock: Clock, outbox: Outbox, kick: Callable[[int], None]) -> None:
        self.clock = clock
        self.boot_id = clock.boot_id()
        self.outbox = outbox
        self._kick = kick
        self._true_time: TrueTime | None = None  # learnt from an Ack in this boot
        self._clock_off = False  # the synchronised clock disagrees with the server's
        self._release_past_boots()
        self._waiting = self.boot_id in outbox.waiting_for_time()

    def stamp(self, now: float, of_this_boot: bool = True) -> Stamp:
        """The time of a press at monotonic `now`. A press not of this boot (its moment was
        set on the wall clock, not lived by this boot) is dated as the wall clock says and
        carries no boot, so nothing of this boot's time can move it."""
        if not of_this_boot:
            return Stamp(self.clock.now(), self.clock.synced())
        self.date_from_clock()
        if self.clock.synced():
            pressed_at, synced = self.clock.now(), True
        elif self._true_time is not None:
            pressed_at = self._true_time.at(mono_ms(now)).astimezone(self.clock.now().tzinfo)
            synced = True
        else:  # it waits in the outbox until this boot learns true time
            pressed_at, synced = self.clock.now(), False
            self._waiting = True
        return Stamp(pressed_at, synced, not synced, self.boot_id, mono_ms(now))

    def date_from_clock(self) -> None:
        """NTP has synchronised the clock: its wall clock now is true time."""
        if self._waiting and self.clock.synced():
            mono = self.clock.monotonic()
            self._date(TrueTime(self.clock.now(), mono_ms(mono)), "NTP")

    def learn(self, server_time: datetime, received_mono: float) -> None:
        """The `server_time` of an Ack heard live in this boot at monotonic `received_mono`."""
        heard = TrueTime(server_time, mono_ms(received_mono))
        if self.clock.synced():
            self._compare_clock(heard, received_mono)
            self.date_from_clock()
            return
        if heard.later_than(self._true_time):
            self._true_time = heard
        if self._waiting:
            self._date(self._true_time or heard, "the server's time")

    def _date(self, true_time: TrueTime, source: str) -> None:
        local = self.clock.now().tzinfo

        def dated(rating: Rating) -> Rating:
            if rating.mono_ms is None:
                raise ValueError(f"rating {rating.id} waits for true time without a mono_ms")
            pressed_at = true_time.at(rating.mono_ms).astimezone(local)
            return rating.model_copy(update={"pressed_at": pressed_at, "clock_synced": True})

        done = self.outbox.date(self.boot_id, dated)
        self._waiting = False
        if done:
            log.info(
                "true time from %s: %d ratings dated and released (seq %d to %d)",
                source,
                len(done),
                done[0].seq,
                done[-1].seq,
            )
            self._kick(done[0].seq)

    def _compare_clock(self, heard: TrueTime, received_mono: float) -> None:
        """A synchronised clock is trusted as it is; only say when the server's disagrees."""
        wall = self.clock.now() - timedelta(seconds=self.clock.monotonic() - received_mono)
        off = (wall - heard.true).total_seconds()
        if abs(off) > CLOCK_TOLERANCE_S and not self._clock_off:
            log.warning(
                "the clock says it is synchronised but is %+.0f s off the server's time (%s); "
                "ratings keep the unit's time and the server corrects them. Check the NTP "
                "server and time zone of this unit",
                off,
                heard.true.isoformat(),
            )
        self._clock_off = abs(off) > CLOCK_TOLERANCE_S

    def _release_past_boots(self) -> None:
        """Presses of a boot that ended before it knew true time go as they were pressed."""
        for entry in self.outbox.release_boots_other_than(self.boot_id):
            log.warning(
                "rating %s (seq %d) was waiting for true time when its boot ended; sending it "
                "with its unsynchronised time (the server dates it)",
                entry.id,
                entry.seq,
            )
