"""The officer's sign-in at the unit: the PIN pad's state, the SignIn it makes, the server's answer.

The server decides who serves at a counter (it checks the credential, locks after repeated
failures, and sends the new Config); the unit only collects a PIN on its touchscreen or a card
from its reader (`device.card_reader`), stores the contract's SignIn in `SignInOutbox` before
sending it, and shows what the Ack said. As belt and braces it also refuses the pad for a
minute after five rejections in a row. Everything an officer reads is Vietnamese first.

Pure of pygame and MQTT: the desk is driven with the unit's monotonic clock, so every step is
tested without a screen or a broker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from device.signin_outbox import SignInOutbox
from hailong.protocol import Credential, SignIn

log = logging.getLogger(__name__)

PAD_TIMEOUT_S = 30.0  # an untouched pad goes back to idle
ANSWER_S = 4.0  # how long a refusal is shown
CHECK_TIMEOUT_S = 15.0  # no Ack by then: back to idle, the SignIn stays in the outbox
LOCAL_FAILURES = 5  # rejections in a row that lock the pad on this unit …
LOCAL_LOCK_S = 60.0  # … for this long
PIN_DIGITS = (4, 8)

Phase = Literal["closed", "entering", "checking", "answer"]
Action = Literal["in", "out"]
Methods = Literal["none", "pin", "card", "pin_or_card"]
Words = tuple[str, str]  # Vietnamese, English

CHECKING: Words = ("Đang kiểm tra…", "Checking…")
SHORT: Words = ("Mã PIN gồm từ 4 đến 8 chữ số", "A PIN has 4 to 8 digits")
REFUSED_EN = "Sign-in refused"
REFUSED_VI = "Đăng nhập không thành công"
NO_ANSWER: Words = (
    "Máy chủ chưa trả lời; yêu cầu đã được lưu và sẽ tự gửi lại",
    "No answer yet; the request is kept and sent again",
)


def locked_words(seconds: int) -> Words:
    return (
        f"Tạm khóa đăng nhập trên thiết bị này, vui lòng thử lại sau {seconds} giây",
        f"Sign-in locked on this unit; try again in {seconds} s",
    )


@dataclass(frozen=True)
class Pad:
    """What the sign-in screen shows: the phase, how many digits (as dots), a message."""

    phase: Phase = "closed"
    digits: int = 0
    message: Words | None = None
    can_sign_out: bool = False  # an officer is shown: the pad offers Đăng xuất too


class SignInDesk:
    """One unit's sign-in: `open`, digits, `submit`; `answered` when the Ack comes."""

    def __init__(
        self,
        outbox: SignInOutbox,
        make: Callable[[Action, Credential], SignIn],
        monotonic: Callable[[], float],
        kick: Callable[[], None],
    ) -> None:
        """`make` builds a SignIn (time, boot) for the credential; `kick` wakes the link."""
        self._outbox = outbox
        self._make = make
        self._monotonic = monotonic
        self._kick = kick
        self._lock = threading.Lock()
        self._phase: Phase = "closed"
        self._digits = ""
        self._since = 0.0  # the last touch, or when the phase began
        self._message: Words | None = None
        self._pending: str | None = None  # the SignIn id the screen waits for
        self._rejections = 0  # in a row
        self._locked_until = 0.0
        self._can_sign_out = False

    # --- the officer's input -----------------------------------------------------------------

    def open(self, methods: Methods, officer_shown: bool) -> bool:
        """The officer's control on the idle page; False when this unit takes no PIN."""
        if methods not in ("pin", "pin_or_card"):
            return False
        with self._lock:
            now = self._monotonic()
            self._can_sign_out = officer_shown
            if not self._refuse_if_locked(now):
                self._enter(now, "entering")
        return True

    def digit(self, number: int) -> None:
        with self._lock:
            if self._phase == "entering" and len(self._digits) < PIN_DIGITS[1]:
                self._digits += str(number)
            self._touch()

    def delete(self) -> None:
        with self._lock:
            if self._phase == "entering":
                self._digits = self._digits[:-1]
            self._touch()

    def cancel(self) -> None:
        with self._lock:
            self._close()

    def submit(self, action: Action = "in") -> SignIn | None:
        """Đăng nhập (or Đăng xuất): the PIN typed goes to the server; None when too short."""
        with self._lock:
            now = self._monotonic()
            if self._phase != "entering":
                return None
            if not PIN_DIGITS[0] <= len(self._digits) <= PIN_DIGITS[1]:
                self._message, self._since = SHORT, now
                return None
            pin, self._digits = self._digits, ""
            return self._send(action, Credential(kind="pin", value=pin), now)

    def card(self, value: str, methods: Methods) -> SignIn | None:
        """A card held to the reader: a sign-in when this unit takes cards and is not locked."""
        if methods not in ("card", "pin_or_card"):
            log.info("a card was read but this unit's Config takes no card sign-in")
            return None
        with self._lock:
            now = self._monotonic()
            if self._refuse_if_locked(now):
                return None
            self._digits = ""
            return self._send("in", Credential(kind="card", value=value), now)

    # --- the server's answer -----------------------------------------------------------------

    def answered(self, signin_id: str, accepted: bool, reason: str | None) -> None:
        """The Ack named `signin_id`: accepted (the new Config shows the officer) or refused."""
        with self._lock:
            now = self._monotonic()
            waiting = signin_id == self._pending
            if accepted:
                log.info("sign-in %s accepted", signin_id)
                self._rejections = 0
                if waiting:
                    self._close()
                return
            log.warning("sign-in %s refused: %s", signin_id, reason)
            self._rejections += 1
            if self._rejections >= LOCAL_FAILURES:
                self._rejections, self._locked_until = 0, now + LOCAL_LOCK_S
            if waiting:
                self._enter(now, "answer")
                self._message = refusal_words(reason)

    def state(self) -> Pad:
        """The pad as it is now, after its timers."""
        with self._lock:
            now = self._monotonic()
            phase = self._phase
            if phase == "entering" and now - self._since >= PAD_TIMEOUT_S:
                self._close()
            elif phase == "checking" and now - self._since >= CHECK_TIMEOUT_S:
                self._enter(now, "answer")
                self._message = NO_ANSWER
            elif phase == "answer" and now - self._since >= ANSWER_S:
                self._close()
            elif phase == "entering" and self._message and now - self._since >= ANSWER_S:
                self._message = None
            return Pad(self._phase, len(self._digits), self._message, self._can_sign_out)

    # --- inside the lock -----------------------------------------------------------------------

    def _send(self, action: Action, credential: Credential, now: float) -> SignIn:
        signin = self._make(action, credential)
        self._outbox.add(signin)  # on disk before it goes: a power cut loses no sign-in
        log.info("sign-in %s (%s, %s) stored for sending", signin.id, action, credential.kind)
        self._pending = signin.id
        self._enter(now, "checking")
        self._message = CHECKING
        self._kick()
        return signin

    def _refuse_if_locked(self, now: float) -> bool:
        if now >= self._locked_until:
            return False
        self._enter(now, "answer")
        self._message = locked_words(int(self._locked_until - now + 0.999))
        return True

    def _enter(self, now: float, phase: Phase) -> None:
        self._phase, self._since, self._message = phase, now, None

    def _touch(self) -> None:
        if self._phase == "entering":
            self._since = self._monotonic()
            self._message = None

    def _close(self) -> None:
        self._phase, self._digits, self._message, self._pending = "closed", "", None, None


def refusal_words(reason: str | None) -> Words:
    """The server writes a refusal as "Vietnamese; English" (server/ingest/signins.py): the
    unit shows the two on their own lines; a reason without the English half keeps the unit's."""
    if not reason:
        return (REFUSED_VI, REFUSED_EN)
    vi, sep, en = reason.partition("; ")
    return (vi, en) if sep and en else (reason, REFUSED_EN)
