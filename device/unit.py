"""The counter unit: where a press becomes a Rating.

Buttons and the touch screen call `Unit.press` (buttons and keys through `Unit.button`, which
on the reasons page chooses reasons instead). The rating is written to the
outbox before anything else (before it is sent, before the next page), so a power cut right
after a press loses nothing. Config from the server says who is serving, on which scale, which
reasons to offer and how long to ignore presses after a rating; until the first Config arrives a
rating is still taken, with no officer.

After a low score, when the Config has reasons and there is a screen to show them, the rating
waits, held, on the reasons page (`device.reasons`). The cooldown and the thank-you page start
when the rating is complete, so a second press of Gửi is not a new rating.

Each press is put to the unit's Guard (`device.guard`: a citizen's cooldown, require_service,
whether to ask for reasons) and dated by its Timekeeper (`device.timekeeping`: the boot id and
monotonic time of a press, and presses that wait for true time).

When the Config takes a PIN, the idle page offers the officer's sign-in pad (`device.signin`
keeps its state and the SignIns in their own outbox); a Service's rating link is shown as a QR
code on the thank-you and idle pages while that ticket is the current one.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from device.clock import Clock
from device.config_cache import load_config, save_config
from device.feedback import Feedback, Feedbacks
from device.guard import CitizenGuard, Guard, Ignore, Opening, Press
from device.link import Link
from device.outbox import Outbox
from device.photo import PhotoCache
from device.reasons import (
    REASONS_GUARD_S,
    Asking,
    ReasonsPage,
    is_low,
    offered,
    release_left_held,
)
from device.settings import DeviceSettings
from device.signin import Action, SignInDesk
from device.signin_outbox import SignInOutbox
from device.timekeeping import Timekeeper, mono_ms, rfc3339
from device.view import Language, Page, View
from hailong.protocol import (
    DEFAULT_SCALE,
    SCALES,
    Config,
    Credential,
    Rating,
    Service,
    SignIn,
    Status,
)

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_S = 3.0  # the contract's Config default, used until the first Config arrives
TICK_S = 0.2  # how often timers and the attention light are looked at
PHOTOS_DIR = "photos"
QR_S = 180.0  # a ticket's QR code stays on the idle page this long, or until the next Service
InputKind = Literal["button", "touch", "keyboard"]


def firmware_version() -> str:
    try:
        return version("hailong")
    except PackageNotFoundError:
        return "0+unknown"


class Unit:
    """One counter unit: its outbox, its link to the broker and the Config it was sent."""

    def __init__(self, settings: DeviceSettings, clock: Clock, guard: Guard | None = None) -> None:
        """`guard` judges every press (a counter's CitizenGuard unless given)."""
        self.settings = settings
        self.device_id = settings.device.id
        self.clock = clock
        self.guard = guard or CitizenGuard()
        self.boot_id = clock.boot_id()
        self.firmware = firmware_version()
        self.outbox = Outbox(settings.outbox_path, self.device_id)
        self.signins = SignInOutbox(settings.outbox_path)
        self.link = Link(
            self.device_id,
            settings.mqtt.target,
            self.outbox,
            self,
            resend_s=settings.mqtt.resend_s,
            status_s=settings.mqtt.status_s,
            warn_backlog=settings.outbox.warn_backlog,
            monotonic=clock.monotonic,
            signins=self.signins,
        )
        self.desk = SignInDesk(self.signins, self._make_signin, clock.monotonic, self.link.kick)
        self._qr: tuple[str, float] | None = None  # the current ticket's link, and until when
        # Whether a low score opens the reasons page; main clears it when no screen opens.
        self.ask_reasons = settings.screen.enabled
        self._photos = (
            PhotoCache(settings.device.data_dir / PHOTOS_DIR) if settings.screen.enabled else None
        )
        self._feedback = Feedbacks()
        self._lock = threading.Lock()
        self._config = load_config(settings.config_cache_path, self.device_id)
        self._opening: Opening | None = None
        self._reasons = ReasonsPage(self.outbox, settings.screen.reasons_s)
        self._last_rating_at: float | None = None  # monotonic, when the last rating completed
        self._last_score: int | None = None
        self._ignored = 0
        self._language: Language | None = None  # the citizen's choice over the configured one
        self._last_touch = clock.monotonic()
        self._started_at = clock.monotonic()
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None
        release_left_held(self.outbox)
        self._time = Timekeeper(clock, self.outbox, lambda seq: self.link.kick(from_seq=seq))
        if self._config is not None:
            self._apply_periods(self._config)

    def add_feedback(self, feedback: Feedback) -> None:
        """Lights, buzzer or speech to tell about each rating; add them before `start`."""
        self._feedback.add(feedback)

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
        self.signins.close()

    @property
    def config(self) -> Config | None:
        return self._config

    @property
    def ignored_presses(self) -> int:
        """Double presses: of a score inside the cooldown, and of it on the reasons page."""
        return self._ignored + self._reasons.ignored

    # --- input -------------------------------------------------------------------------------

    def press(
        self, score: int, input: InputKind = "button", reasons: Sequence[str] = ()
    ) -> Rating | None:
        """Take a rating, or return None when the press is ignored (the log says why)."""
        with self._lock:
            now = self.clock.monotonic()
            config = self._config
            cooldown = config.cooldown_s if config else DEFAULT_COOLDOWN_S
            opening = self._open_now(now)
            since_last = None if self._last_rating_at is None else now - self._last_rating_at
            require = bool(config and config.require_service)
            verdict = self.guard.judge(Press(since_last, cooldown, require, opening is not None))
            if isinstance(verdict, Ignore):
                self._ignored += 1 if verdict.counted else 0
                log.info("press %d ignored: %s", score, verdict.why)
                return None
            scale = config.scale if config else DEFAULT_SCALE
            if not 1 <= score <= SCALES[scale].size:
                log.warning("press %d ignored: not a level of the %s scale", score, scale)
                return None
            self._finish(now, "a new rating was pressed")
            officer_id = opening.officer_id if opening else None
            if officer_id is None and config and config.officer:
                officer_id = config.officer.id
            choices = offered(config)
            ask = bool(
                verdict.ask_reasons
                and not reasons
                and self.ask_reasons
                and choices
                and is_low(scale, score)
            )
            stamp = self._time.stamp(now, verdict.of_this_boot)

            def make(seq: int) -> Rating:
                return Rating.model_validate(
                    {
                        "id": str(uuid.uuid4()),
                        "device_id": self.device_id,
                        "seq": seq,
                        "pressed_at": rfc3339(stamp.pressed_at),
                        "score": score,
                        "scale": scale,
                        "officer_id": officer_id,
                        "counter_id": config.counter_id if config else None,
                        "ticket": opening.ticket if opening else None,
                        "reasons": list(reasons),
                        "input": input,
                        "clock_synced": stamp.clock_synced,
                        "boot_id": stamp.boot_id,
                        "mono_ms": stamp.mono_ms,
                    }
                )

            waits = stamp.waits
            rating = self.outbox.add(make, held=ask, time_boot=self.boot_id if waits else None)
            self._last_rating_at = now
            self._last_score = score
            self._opening = None
            self._touch(now)
            if ask:
                guard_s = min(REASONS_GUARD_S, cooldown)
                per_page = self._keys - 1 if self.settings.buttons.enabled else None
                self._reasons.open(rating, choices, now, guard_s, per_page)
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
        self._feedback.tell("pressed", SCALES[scale].labels_vi[score - 1])
        self._feedback.tell("stored")
        self._feedback.tell("asked_reasons" if ask else "thanked")
        return rating

    def button(self, number: int, input: InputKind = "button") -> Rating | None:
        """Physical button (or key) `number`: a score, or on the reasons page buttons 1..N-1
        toggle the reasons shown above them and the last button (N) shows the next page of
        reasons, or on the last page sends (`device.reasons`)."""
        with self._lock:
            now = self.clock.monotonic()
            asking = self._reasons.asking is not None
            answer = self._reasons.button(number, self._keys, now) if asking else None
            if answer in ("toggled", "next"):
                self._touch(now)
        if not asking:
            return self.press(number, input)
        return self.send_reasons() if answer == "send" else None

    def next_reasons(self) -> bool:
        """Xem thêm: the next page of reasons; False on the last page or when ignored."""
        return self._on_reasons_page(Asking.next_page)

    def toggle_reason(self, code: str) -> bool:
        """Select or unselect a reason on the reasons page; False when it is not offered."""
        return self._on_reasons_page(lambda asking: asking.toggle(code))

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
        self._feedback.tell("invited")

    def officer_done(self, open_s: float | None = None) -> None:
        """The officer's Hoàn thành button: one rating may be given within `open_s` seconds."""
        open_s = self.settings.officer_button.open_s if open_s is None else open_s
        with self._lock:
            self._opening = Opening(None, None, self.clock.monotonic() + open_s)
        log.info("the officer opened one rating for %.0f s", open_s)
        self._feedback.tell("invited")

    def open_signin(self) -> bool:
        """The officer's control on the idle page: the PIN pad, when the Config takes a PIN."""
        config = self._config
        officer_shown = bool(config and config.officer)
        return self.desk.open(config.signin if config else "none", officer_shown)

    def pad_key(self, code: str, number: int = 0) -> SignIn | None:
        """A key of the PIN pad: a digit, delete, ok (sign in), out (sign out) or cancel."""
        if code == "digit":
            self.desk.digit(number)
        elif code == "delete":
            self.desk.delete()
        elif code in ("ok", "out"):
            return self.desk.submit("in" if code == "ok" else "out")
        else:
            self.desk.cancel()
        return None

    def card_signin(self, value: str) -> SignIn | None:
        """A card held to the reader (`device.card_reader`)."""
        config = self._config
        return self.desk.card(value, config.signin if config else "none")

    def signin_answered(self, signin_id: str, accepted: bool, reason: str | None) -> None:
        self.desk.answered(signin_id, accepted, reason)

    def _make_signin(self, action: Action, credential: Credential) -> SignIn:
        return SignIn.model_validate(
            {
                "id": str(uuid.uuid4()),
                "action": action,
                "credential": credential.model_dump(),
                "at": rfc3339(self.clock.now()),
                "boot_id": self.boot_id,
                "mono_ms": mono_ms(self.clock.monotonic()),
            }
        )

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
            save_config(self.settings.config_cache_path, config)
        self._apply_periods(config)

    def learn_time(self, server_time: datetime, received_mono: float) -> None:
        """The `server_time` of an Ack heard live in this boot at monotonic `received_mono`:
        true time, which dates the presses waiting for it (a retained Config's is not: it is
        when the Config was published)."""
        with self._lock:
            self._time.learn(server_time, received_mono)

    def open_service(self, service: Service) -> None:
        """A served transaction: the next rating carries its ticket and officer."""
        with self._lock:
            now = self.clock.monotonic()
            self._opening = Opening(service.ticket, service.officer_id, now + service.open_s)
            self._qr = (service.rating_url, now + QR_S) if service.rating_url else None
        log.info("transaction %s open for %d s", service.ticket, service.open_s)
        self._feedback.tell("invited")

    def status(self, state: Literal["online", "offline"]) -> Status:
        return Status.model_validate(
            {
                "state": state,
                "firmware": self.firmware,
                "outbox": self.outbox.count(),
                "uptime_s": int(self.clock.monotonic() - self._started_at),
                "at": rfc3339(self.clock.now()),
                "ignored_presses": self.ignored_presses,
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
                self._reasons.asking,
            )
            service_open = self._open_now(now) is not None
            qr_url = self._qr[0] if self._qr and now < self._qr[1] else None
            language = self._language or self.settings.screen.language
            shows = asking.shows(now) if asking else {}
        if timed_out:
            self._feedback.tell("thanked")
        thanks = asking is None and last is not None and now - last < self.settings.screen.thanks_s
        officer = config.officer if config else None
        photo = None
        if self._photos is not None and officer is not None and officer.photo_url:
            photo = self._photos.get(officer.photo_url)
        pad = self.desk.state()
        page: Page = "reasons" if asking else "thanks" if thanks else "idle"
        return View(
            page="signin" if pad.phase != "closed" else page,
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
            buttons=len(self.settings.buttons.pins) if self.settings.buttons.enabled else 0,
            qr_url=qr_url,
            signin_offered=bool(config and config.signin in ("pin", "pin_or_card")),
            pad=pad,
            **shows,
        )

    # --- inside the lock -----------------------------------------------------------------------

    @property
    def _keys(self) -> int:
        """The buttons (or number keys standing in for them): the last one sends."""
        return len(self.settings.buttons.pins)

    def _apply_periods(self, config: Config) -> None:
        """The Config's Status and resend periods, where it gives them, over device.toml's."""
        given = config.model_fields_set
        self.link.set_periods(
            status_s=config.status_s if "status_s" in given else self.settings.mqtt.status_s,
            resend_s=config.resend_s if "resend_s" in given else self.settings.mqtt.resend_s,
        )

    def _open_now(self, now: float) -> Opening | None:
        opening = self._opening
        return opening if opening is not None and now < opening.until else None

    def _touch(self, now: float) -> None:
        """A citizen is at the unit: the language choice stays, the reasons page waits."""
        self._last_touch = now
        self._reasons.touch(now)

    def _expire(self, now: float) -> bool:
        """Apply the timers; True when the reasons page timed out and sent its rating."""
        if self._language and now - self._last_touch >= self.settings.screen.language_reset_s:
            self._language = None
        if self._reasons.timed_out(now):
            return self._finish(now, "no answer on the reasons page") is not None
        return False

    def _finish(self, now: float, why: str) -> Rating | None:
        """Release the held rating with the reasons selected; the cooldown starts again."""
        rating = self._reasons.close(why)
        if rating is not None:
            self._last_rating_at = now
            self.link.kick()
        return rating

    def _on_reasons_page(self, act: Callable[[Asking], bool]) -> bool:
        """Do `act` on the open reasons page (not a double press); the page then waits."""
        with self._lock:
            now = self.clock.monotonic()
            asking = self._reasons.input(now)
            if asking is None or not act(asking):
                return False
            self._touch(now)
            return True

    def _close_reasons(self, keep: bool) -> Rating | None:
        with self._lock:
            now = self.clock.monotonic()
            asking = self._reasons.input(now)
            if asking is None:
                return None
            if not keep:
                asking.selected.clear()
            rating = self._finish(now, "Gửi" if keep else "Bỏ qua")
        self._feedback.tell("thanked")
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
            self._time.date_from_clock()
            timed_out = self._expire(self.clock.monotonic())
        if timed_out:
            self._feedback.tell("thanked")
        if not self._feedback:
            return
        backlog = self.outbox.count()
        offline = not self.link.connected
        why = "offline" if offline else f"{backlog} ratings wait for the server's Ack"
        self._feedback.attention(offline or backlog > self.settings.outbox.warn_backlog, why)
