"""The counter unit: where a press becomes a Rating.

Buttons, the touch screen and the simulator all call `Unit.press` (buttons and keys through
`Unit.button`, which on the reasons page chooses reasons instead). The rating is written to the
outbox before anything else (before it is sent, before the next page), so a power cut right
after a press loses nothing. Config from the server says who is serving, on which scale, which
reasons to offer and how long to ignore presses after a rating; until the first Config arrives a
rating is still taken, with no officer.

After a low score, when the Config has reasons and there is a screen to show them, the rating is
stored *held* (durable, not yet sent) and the reasons page opens. Gửi, Bỏ qua or the page's
timeout release it with the chosen reasons written in, in one transaction, keeping the id, seq
and pressed_at of the press; a unit that starts with a held rating (a power cut on the reasons
page) sends it as pressed, without reasons. The cooldown and the thank-you page start when the
rating is complete, so a second press of Gửi is not a new rating; and input on the reasons page
within REASONS_GUARD_S of the score is ignored, so a double press cannot choose a reason.

Time (the contract's "Time on the unit"): every live press and Status carries the boot id and
the monotonic clock of this boot. A press made while the system clock is not synchronised, and
before this boot has learnt true time, waits in the outbox for it; true time comes from NTP
(the clock turns synchronised: its wall clock is then true) or from the `server_time` of an Ack
heard live in this boot, and dates the waiting presses exactly by their monotonic distance to
that moment. A boot that ends first leaves its presses to go as pressed, with `clock_synced`
false, when the next boot starts. Nothing is ever dropped for its time; a synchronised clock
is trusted as it is (the server corrects one that is far off, from this boot's Status).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from device.clock import Clock
from device.feedback import Feedback
from device.link import Link
from device.outbox import Outbox
from device.photo import PhotoCache
from device.settings import DeviceSettings
from device.view import Language, ReasonChoice, View
from hailong.protocol import (
    CLOCK_TOLERANCE_S,
    DEFAULT_SCALE,
    SCALES,
    Config,
    ContractError,
    Rating,
    Service,
    Status,
    decode_config,
    press_time,
)

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_S = 3.0  # the contract's Config default, used until the first Config arrives
REASONS_GUARD_S = 1.0  # at most this (and at most the cooldown) after the score
TICK_S = 0.2  # how often timers and the attention light are looked at
PHOTOS_DIR = "photos"
InputKind = Literal["button", "touch", "keyboard"]


def firmware_version() -> str:
    try:
        return version("hailong")
    except PackageNotFoundError:
        return "0+unknown"


def rfc3339(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def mono_ms(seconds: float) -> int:
    return int(seconds * 1000)


def is_low(scale: str, score: int) -> bool:
    """Không hài lòng, and Bình thường on vn4: the scores that ask for reasons."""
    return not SCALES[scale].is_satisfied(score)


@dataclass(frozen=True)
class _TrueTime:
    """A moment of this boot whose true time is known: `true` at monotonic `mono_ms`."""

    true: datetime
    mono_ms: int

    def at(self, press_mono_ms: int) -> datetime:
        return press_time(self.true, self.mono_ms, press_mono_ms)

    def later_than(self, other: _TrueTime | None) -> bool:
        """The better of two: an Ack is never heard before it was sent, so the one that puts
        the boot's start latest is the least delayed."""
        return other is None or self.at(0) > other.at(0)


@dataclass
class _Opening:
    """A rating the server (a Service) or the officer's button opened."""

    ticket: str | None
    officer_id: str | None
    until: float  # monotonic


@dataclass
class _Asking:
    """The reasons page: a held low-score rating waiting for its reasons."""

    rating: Rating
    offered: tuple[ReasonChoice, ...]
    opened_at: float  # monotonic
    guard_s: float
    deadline: float
    selected: set[str] = field(default_factory=set)

    def chosen(self) -> list[str]:
        return [r.code for r in self.offered if r.code in self.selected]


class Unit:
    """One counter unit: its outbox, its link to the broker and the Config it was sent."""

    def __init__(self, settings: DeviceSettings, clock: Clock) -> None:
        self.settings = settings
        self.device_id = settings.device.id
        self.clock = clock
        self.boot_id = clock.boot_id()
        self.firmware = firmware_version()
        self.outbox = Outbox(settings.outbox_path, self.device_id)
        self.link = Link(
            self.device_id,
            settings.mqtt.target,
            self.outbox,
            self,
            resend_s=settings.mqtt.resend_s,
            status_s=settings.mqtt.status_s,
            warn_backlog=settings.outbox.warn_backlog,
            monotonic=clock.monotonic,
        )
        # Whether a low score opens the reasons page; main clears it when no screen opens.
        self.ask_reasons = settings.screen.enabled
        self._photos = (
            PhotoCache(settings.device.data_dir / PHOTOS_DIR) if settings.screen.enabled else None
        )
        self._feedback: list[Feedback] = []
        self._lock = threading.Lock()
        self._config = self._cached_config()
        self._opening: _Opening | None = None
        self._asking: _Asking | None = None
        self._last_rating_at: float | None = None  # monotonic, when the last rating completed
        self._last_score: int | None = None
        self._ignored = 0
        self._language: Language | None = None  # the citizen's choice over the configured one
        self._last_touch = clock.monotonic()
        self._attention: bool | None = None
        self._started_at = clock.monotonic()
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None
        self._true_time: _TrueTime | None = None  # learnt from an Ack in this boot
        self._clock_off = False  # the synchronised clock disagrees with the server's
        self._release_left_held()
        self._release_past_boots()
        self._waiting_for_time = self.boot_id in self.outbox.waiting_for_time()
        if self._config is not None:
            self._apply_periods(self._config)

    def add_feedback(self, feedback: Feedback) -> None:
        """Lights, buzzer or speech to tell about each rating; add them before `start`."""
        self._feedback.append(feedback)

    def start(self) -> None:
        self.link.start()
        self._ticker = threading.Thread(
            target=self._tick_loop, name=f"unit-{self.device_id}", daemon=True
        )
        self._ticker.start()

    def stop(self) -> None:
        """Send a rating still on the reasons page, say goodbye to the broker (offline Status)
        and close the outbox; safe to repeat."""
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._finish(self.clock.monotonic(), "the unit is stopping")
        self.link.stop()
        self.outbox.close()

    @property
    def config(self) -> Config | None:
        return self._config

    @property
    def ignored_presses(self) -> int:
        return self._ignored

    # --- input -------------------------------------------------------------------------------

    def press(
        self,
        score: int,
        input: InputKind = "button",
        reasons: Sequence[str] = (),
        *,
        live: bool = True,
        history: bool = False,
    ) -> Rating | None:
        """Take a rating, or return None when the press is ignored (the log says why).

        `live=False` is for history made up by the simulator: the guards against a citizen's
        double press and against rating outside a transaction (cooldown, require_service) are
        for real counters, not for a caller who picks the moments itself; nor does it ask for
        reasons.

        `history=True` (the simulator's presses on a clock it set to another day): the time is
        whatever the caller set the clock to, so the rating carries no boot id or monotonic time
        (which would tie it to this boot's live Status and have the server date it now), and
        never waits for true time.
        """
        with self._lock:
            now = self.clock.monotonic()
            config = self._config
            cooldown = config.cooldown_s if config else DEFAULT_COOLDOWN_S
            if live and self._last_rating_at is not None and now - self._last_rating_at < cooldown:
                self._ignored += 1
                log.info("press %d ignored: inside the %.1f s cooldown", score, cooldown)
                return None
            opening = self._open_now(now)
            if live and config and config.require_service and opening is None:
                log.info("press %d ignored: no transaction is open (require_service)", score)
                return None
            scale = config.scale if config else DEFAULT_SCALE
            if not 1 <= score <= SCALES[scale].size:
                log.warning("press %d ignored: not a level of the %s scale", score, scale)
                return None
            self._finish(now, "a new rating was pressed")
            officer_id = opening.officer_id if opening else None
            if officer_id is None and config and config.officer:
                officer_id = config.officer.id
            offered = tuple(
                ReasonChoice(r.code, r.label_vi, r.label_en)
                for r in (config.reasons if config else [])
            )
            ask = bool(
                live and not reasons and self.ask_reasons and offered and is_low(scale, score)
            )
            if not history:
                self._date_from_clock()
                pressed_at, synced, waits = self._stamp(now)
                boot: dict[str, object] = {"boot_id": self.boot_id, "mono_ms": mono_ms(now)}
            else:
                pressed_at, synced, waits, boot = self.clock.now(), self.clock.synced(), False, {}

            def make(seq: int) -> Rating:
                return Rating.model_validate(
                    {
                        "id": str(uuid.uuid4()),
                        "device_id": self.device_id,
                        "seq": seq,
                        "pressed_at": rfc3339(pressed_at),
                        "score": score,
                        "scale": scale,
                        "officer_id": officer_id,
                        "counter_id": config.counter_id if config else None,
                        "ticket": opening.ticket if opening else None,
                        "reasons": list(reasons),
                        "input": input,
                        "clock_synced": synced,
                        **boot,
                    }
                )

            rating = self.outbox.add(make, held=ask, time_boot=self.boot_id if waits else None)
            self._waiting_for_time |= waits
            self._last_rating_at = now
            self._last_score = score
            self._opening = None
            self._touch(now)
            if ask:
                guard = min(REASONS_GUARD_S, cooldown)
                self._asking = _Asking(
                    rating, offered, now, guard, now + self.settings.screen.reasons_s
                )
        log.info(
            "rating %s: seq %d, score %d (%s)%s%s",
            rating.id,
            rating.seq,
            score,
            input,
            ", waiting for reasons" if ask else "",
            ", waiting for true time (the clock is not synchronised)" if waits else "",
        )
        self.link.kick()
        self._tell("pressed", SCALES[scale].labels_vi[score - 1])
        self._tell("stored")
        self._tell("asked_reasons" if ask else "thanked")
        return rating

    def button(self, number: int, input: InputKind = "button") -> Rating | None:
        """Physical button (or key) `number`: a score, or on the reasons page, buttons 1..N-1
        toggle the first reasons shown and the last button (N) sends."""
        with self._lock:
            asking = self._asking
        if asking is None:
            return self.press(number, input)
        if number >= len(self.settings.buttons.pins):
            return self.send_reasons()
        if number <= len(asking.offered):
            self.toggle_reason(asking.offered[number - 1].code)
        return None

    def toggle_reason(self, code: str) -> bool:
        """Select or unselect a reason on the reasons page; False when it is not offered."""
        with self._lock:
            now = self.clock.monotonic()
            asking = self._guarded(now)
            if asking is None or code not in {r.code for r in asking.offered}:
                return False
            asking.selected ^= {code}
            self._touch(now)
            return True

    def send_reasons(self) -> Rating | None:
        """Gửi: send the held rating with the reasons selected."""
        return self._close_reasons(keep=True)

    def skip_reasons(self) -> Rating | None:
        """Bỏ qua: send the held rating without reasons."""
        return self._close_reasons(keep=False)

    def toggle_language(self) -> Language:
        """English / Tiếng Việt: the other language, until `language_reset_s` untouched."""
        with self._lock:
            now = self.clock.monotonic()
            self._expire(now)
            current = self._language or self.settings.screen.language
            self._language = "en" if current == "vi" else "vi"
            self._touch(now)
            return self._language

    def invite(self) -> None:
        """The idle page was touched away from the levels: say the prompt again."""
        with self._lock:
            self._touch(self.clock.monotonic())
        self._tell("invited")

    def officer_done(self, open_s: float | None = None) -> None:
        """The officer's Hoàn thành button: one rating may be given within `open_s` seconds."""
        open_s = self.settings.officer_button.open_s if open_s is None else open_s
        with self._lock:
            self._opening = _Opening(None, None, self.clock.monotonic() + open_s)
        log.info("the officer opened one rating for %.0f s", open_s)
        self._tell("invited")

    # --- from the server -----------------------------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """A retained Config from the server; it applies to the next press and the screen."""
        if config.device_id != self.device_id:
            log.error("ignored a Config for %r: this unit is %r", config.device_id, self.device_id)
            return
        with self._lock:
            changed = config != self._config
            self._config = config
        if changed:
            officer = config.officer
            log.info(
                "Config: counter %s, officer %s, scale %s, cooldown %.1f s, %d reasons",
                config.counter_id,
                f"{officer.name} ({officer.id})" if officer else "none",
                config.scale,
                config.cooldown_s,
                len(config.reasons),
            )
            self._cache_config(config)
        self._apply_periods(config)

    def learn_time(self, server_time: datetime, received_mono: float) -> None:
        """The `server_time` of an Ack heard live in this boot at monotonic `received_mono`:
        true time, which dates the presses waiting for it (a retained Config's is not: it is
        when the Config was published)."""
        heard = _TrueTime(server_time, mono_ms(received_mono))
        with self._lock:
            if self.clock.synced():
                self._compare_clock(heard, received_mono)
                self._date_from_clock()
                return
            if heard.later_than(self._true_time):
                self._true_time = heard
            if self._waiting_for_time:
                self._date(self._true_time or heard, "the server's time")

    def open_service(self, service: Service) -> None:
        """A served transaction: the next rating carries its ticket and officer."""
        with self._lock:
            self._opening = _Opening(
                service.ticket, service.officer_id, self.clock.monotonic() + service.open_s
            )
        log.info("transaction %s open for %d s", service.ticket, service.open_s)
        self._tell("invited")

    def status(self, state: Literal["online", "offline"]) -> Status:
        return Status.model_validate(
            {
                "state": state,
                "firmware": self.firmware,
                "outbox": self.outbox.count(),
                "uptime_s": int(self.clock.monotonic() - self._started_at),
                "at": rfc3339(self.clock.now()),
                "ignored_presses": self._ignored,
                "clock_synced": self.clock.synced(),
                "boot_id": self.boot_id,
                "mono_ms": mono_ms(self.clock.monotonic()),
            }
        )

    # --- what the screen shows -----------------------------------------------------------------

    def view(self) -> View:
        """What the screen should show now (and the reasons page's timeout, when it is due)."""
        with self._lock:
            now = self.clock.monotonic()
            timed_out = self._expire(now)
            config, last, score, asking = (
                self._config,
                self._last_rating_at,
                self._last_score,
                self._asking,
            )
            service_open = self._open_now(now) is not None
            language = self._language or self.settings.screen.language
            selected = frozenset(asking.selected) if asking else frozenset()
        if timed_out:
            self._tell("thanked")
        thanks = asking is None and last is not None and now - last < self.settings.screen.thanks_s
        officer = config.officer if config else None
        photo = None
        if self._photos is not None and officer is not None and officer.photo_url:
            photo = self._photos.get(officer.photo_url)
        return View(
            page="reasons" if asking else "thanks" if thanks else "idle",
            unit_name=config.unit_name if config else "",
            counter_id=config.counter_id if config else None,
            officer_name=officer.name if officer else None,
            officer_title=officer.title if officer else None,
            officer_photo=photo,
            scale=config.scale if config else DEFAULT_SCALE,
            language=language,
            chosen=score if asking or thanks else None,
            device_id=self.device_id,
            online=self.link.connected,
            waiting_for_service=bool(config and config.require_service and not service_open),
            reasons=asking.offered if asking else (),
            selected=selected,
            reasons_left_s=max(0, math.ceil(asking.deadline - now)) if asking else 0,
            buttons=len(self.settings.buttons.pins) if self.settings.buttons.enabled else 0,
        )

    # --- inside the lock -----------------------------------------------------------------------

    def _stamp(self, now: float) -> tuple[datetime, bool, bool]:
        """A live press's pressed_at and clock_synced, and whether it must wait for true time."""
        if self.clock.synced():
            return self.clock.now(), True, False
        if self._true_time is not None:
            local = self.clock.now().tzinfo
            return self._true_time.at(mono_ms(now)).astimezone(local), True, False
        return self.clock.now(), False, True

    def _date_from_clock(self) -> None:
        """NTP has synchronised the clock: its wall clock now is true time."""
        if self._waiting_for_time and self.clock.synced():
            mono = self.clock.monotonic()
            self._date(_TrueTime(self.clock.now(), mono_ms(mono)), "NTP")

    def _date(self, true_time: _TrueTime, source: str) -> None:
        local = self.clock.now().tzinfo

        def dated(rating: Rating) -> Rating:
            if rating.mono_ms is None:
                raise ValueError(f"rating {rating.id} waits for true time without a mono_ms")
            pressed_at = true_time.at(rating.mono_ms).astimezone(local)
            return rating.model_copy(update={"pressed_at": pressed_at, "clock_synced": True})

        done = self.outbox.date(self.boot_id, dated)
        self._waiting_for_time = False
        if done:
            log.info(
                "true time from %s: %d ratings dated and released (seq %d to %d)",
                source,
                len(done),
                done[0].seq,
                done[-1].seq,
            )
            self.link.kick(from_seq=done[0].seq)

    def _compare_clock(self, heard: _TrueTime, received_mono: float) -> None:
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

    def _apply_periods(self, config: Config) -> None:
        """The Config's Status and resend periods, where it gives them, over device.toml's."""
        given = config.model_fields_set
        self.link.set_periods(
            status_s=config.status_s if "status_s" in given else self.settings.mqtt.status_s,
            resend_s=config.resend_s if "resend_s" in given else self.settings.mqtt.resend_s,
        )

    def _open_now(self, now: float) -> _Opening | None:
        opening = self._opening
        return opening if opening is not None and now < opening.until else None

    def _touch(self, now: float) -> None:
        """A citizen is at the unit: the language choice stays, the reasons page waits."""
        self._last_touch = now
        if self._asking is not None:
            self._asking.deadline = max(self._asking.deadline, now + self.settings.screen.reasons_s)

    def _guarded(self, now: float) -> _Asking | None:
        """The reasons page, unless the input comes so soon after the score that it is the
        same press twice (then it is ignored and counted)."""
        asking = self._asking
        if asking is not None and now - asking.opened_at < asking.guard_s:
            self._ignored += 1
            log.info("reasons page input ignored: %.1f s after the score", now - asking.opened_at)
            return None
        return asking

    def _expire(self, now: float) -> bool:
        """Apply the timers; True when the reasons page timed out and sent its rating."""
        if self._language and now - self._last_touch >= self.settings.screen.language_reset_s:
            self._language = None
        if self._asking is not None and now >= self._asking.deadline:
            return self._finish(now, "no answer on the reasons page") is not None
        return False

    def _finish(self, now: float, why: str) -> Rating | None:
        """Release the held rating with the reasons selected; the cooldown starts again."""
        asking, self._asking = self._asking, None
        if asking is None:
            return None
        rating = asking.rating.model_copy(update={"reasons": asking.chosen()})
        if not self.outbox.release(rating):
            log.error("rating %s was not held in the outbox; it was sent as pressed", rating.id)
        self._last_rating_at = now
        log.info("rating %s: seq %d, reasons %s (%s)", rating.id, rating.seq, rating.reasons, why)
        self.link.kick()
        return rating

    def _close_reasons(self, keep: bool) -> Rating | None:
        with self._lock:
            now = self.clock.monotonic()
            asking = self._guarded(now)
            if asking is None:
                return None
            if not keep:
                asking.selected.clear()
            rating = self._finish(now, "Gửi" if keep else "Bỏ qua")
        self._tell("thanked")
        return rating

    # --- housekeeping --------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        while not self._stopping.wait(TICK_S):
            try:
                self._tick()
            except Exception:
                log.exception("unit %s: timer error; carrying on", self.device_id)

    def _tick(self) -> None:
        """The reasons page's timeout, NTP's arrival and the attention light, also when
        nobody looks."""
        with self._lock:
            self._date_from_clock()
            timed_out = self._expire(self.clock.monotonic())
        if timed_out:
            self._tell("thanked")
        if not self._feedback:
            return
        backlog = self.outbox.count()
        offline = not self.link.connected
        attention = offline or backlog > self.settings.outbox.warn_backlog
        if attention != self._attention:
            self._attention = attention
            if attention:
                log.info(
                    "attention light on: %s",
                    "offline" if offline else f"{backlog} ratings wait for the server's Ack",
                )
            self._tell("attention", attention)

    def _tell(self, moment: str, *args: object) -> None:
        for feedback in self._feedback:
            try:
                getattr(feedback, moment)(*args)
            except Exception:
                log.exception("%s failed at %r; the rating is not affected", feedback, moment)

    def _release_left_held(self) -> None:
        """Ratings a power cut left on the reasons page go as pressed, without reasons."""
        for entry in self.outbox.held():
            rating = Rating.model_validate_json(entry.payload)
            self.outbox.release(rating)
            log.warning(
                "rating %s (seq %d) was waiting for reasons when the unit stopped; "
                "sending it without reasons",
                entry.id,
                entry.seq,
            )

    def _release_past_boots(self) -> None:
        """Presses of a boot that ended before it knew true time go as they were pressed."""
        for entry in self.outbox.release_boots_other_than(self.boot_id):
            log.warning(
                "rating %s (seq %d) was waiting for true time when its boot ended; sending it "
                "with its unsynchronised time (the server dates it)",
                entry.id,
                entry.seq,
            )

    def _cached_config(self) -> Config | None:
        """The last Config heard, so a unit that starts offline still shows its officer."""
        path = self.settings.config_cache_path
        try:
            config = decode_config(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ContractError) as exc:
            log.warning("ignored the cached Config %s: %s", path, exc)
            return None
        return config if config.device_id == self.device_id else None

    def _cache_config(self, config: Config) -> None:
        path = self.settings.config_cache_path
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(config.to_payload())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not cache the Config in %s: %s", path, exc)
