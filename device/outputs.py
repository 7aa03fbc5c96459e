"""The unit's optional lights and buzzer (gpiozero), each fitted or not by device.toml.

- the accepted LED blinks once when a rating is stored, so the citizen sees the press was taken;
- the attention LED is on while the unit is offline or more than [outbox] warn_backlog ratings
  wait for the server's Ack, so the officer knows to call for help;
- the buzzer beeps once when a press is taken.

gpiozero blinks and beeps in its own background thread, so none of this ever holds up a press.
The pin factory is injectable, as for the buttons (MockFactory in the tests).
"""

from __future__ import annotations

from typing import Any

from gpiozero import LED, Buzzer
from gpiozero.exc import GPIOZeroError

from device.feedback import Feedback
from device.settings import BuzzerSection, LedsSection
from hailong.errors import ConfigError


class Outputs(Feedback):
    def __init__(
        self, leds: LedsSection, buzzer: BuzzerSection, *, pin_factory: Any = None
    ) -> None:
        self._blink_s = leds.blink_s
        self._beep_s = buzzer.beep_ms / 1000
        self._accepted: LED | None = None
        self._attention: LED | None = None
        self._buzzer: Buzzer | None = None
        option, pin = "", 0
        try:
            if leds.enabled:
                option, pin = "[leds] accepted_pin", leds.accepted_pin
                self._accepted = LED(pin, pin_factory=pin_factory)
                option, pin = "[leds] attention_pin", leds.attention_pin
                self._attention = LED(pin, pin_factory=pin_factory)
            if buzzer.enabled:
                option, pin = "[buzzer] pin", buzzer.pin
                self._buzzer = Buzzer(pin, pin_factory=pin_factory)
        except GPIOZeroError as exc:
            self.close()
            raise ConfigError(
                f"{option}: cannot use pin {pin} ({exc}); check the wiring and pin number, "
                "or set enabled = false where it is not fitted"
            ) from None

    @staticmethod
    def wanted(leds: LedsSection, buzzer: BuzzerSection) -> bool:
        return leds.enabled or buzzer.enabled

    def pressed(self, label_vi: str) -> None:
        if self._buzzer is not None:
            self._buzzer.beep(on_time=self._beep_s, off_time=0.01, n=1, background=True)

    def stored(self) -> None:
        if self._accepted is not None:
            self._accepted.blink(on_time=self._blink_s, off_time=0.01, n=1, background=True)

    def attention(self, on: bool) -> None:
        if self._attention is not None:
            self._attention.value = on

    def close(self) -> None:
        for device in (self._accepted, self._attention, self._buzzer):
            if device is not None:
                device.close()
        self._accepted = self._attention = self._buzzer = None
