"""The unit's physical buttons: pin i (from settings) gives button i + 1 (score i + 1, or on
the reasons page a reason toggle or Gửi); and the officer's optional Hoàn thành button.

Debouncing is done here in software rather than with gpiozero's `bounce_time`, which ignores
every edge inside its window and so can drop a genuine press (PITFALLS). A press counts when
it comes at least `debounce_s` after the last counted press of the same button.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from gpiozero import Button
from gpiozero.exc import GPIOZeroError

from device.clock import Clock
from device.settings import ButtonsSection, OfficerButtonSection
from hailong.errors import ConfigError

log = logging.getLogger(__name__)


def pin_factory_named(name: str) -> Any:
    """A gpiozero pin factory by its entry-point name ("lgpio", "mock", …)."""
    found = entry_points(group="gpiozero_pin_factories", name=name)
    if not found:
        raise ConfigError(f"[buttons] pin_factory: {name!r} is not an installed gpiozero factory")
    factory_class = next(iter(found)).load()
    try:
        return factory_class()
    except Exception as exc:
        raise ConfigError(
            f"[buttons] pin_factory: the {name!r} pin factory cannot start here ({exc}); "
            'use "lgpio" on a Raspberry Pi, "mock" on a machine without GPIO, '
            "or set [buttons] enabled = false"
        ) from None


class Buttons:
    """Buttons wired to `on_press(number)`, numbered from 1 in the order of `pins`; the pin
    factory is injectable (gpiozero's seam). `option` names the pins in error messages."""

    def __init__(
        self,
        pins: Sequence[int],
        on_press: Callable[[int], object],
        clock: Clock,
        *,
        debounce_s: float = 0.05,
        pin_factory: Any = None,
        option: str = "[buttons] pins",
    ) -> None:
        self._on_press = on_press
        self._clock = clock
        self._debounce_s = debounce_s
        self._last: dict[int, float] = {}
        self._buttons: list[Button] = []
        try:
            for number, pin in enumerate(pins, start=1):
                button = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
                button.when_pressed = self._callback(number)
                self._buttons.append(button)
        except GPIOZeroError as exc:
            self.close()
            raise ConfigError(
                f"{option}: cannot use pin {pin} ({exc}); check the wiring and pin "
                'numbers, or use [buttons] pin_factory = "mock" / enabled = false without GPIO'
            ) from None

    @classmethod
    def from_settings(
        cls,
        section: ButtonsSection,
        on_press: Callable[[int], object],
        clock: Clock,
        pin_factory: Any = None,
    ) -> Buttons:
        """An injected factory wins; else [buttons] pin_factory; else GPIOZERO_PIN_FACTORY."""
        if pin_factory is None and section.pin_factory is not None:
            pin_factory = pin_factory_named(section.pin_factory)
        return cls(
            section.pins,
            on_press,
            clock,
            debounce_s=section.debounce_ms / 1000,
            pin_factory=pin_factory,
        )

    @classmethod
    def officer(
        cls,
        section: OfficerButtonSection,
        on_press: Callable[[], object],
        clock: Clock,
        pin_factory: Any = None,
    ) -> Buttons:
        """The officer's Hoàn thành button; its software debounce is a fixed 0.2 s."""
        return cls(
            [section.pin],
            lambda _number: on_press(),
            clock,
            debounce_s=0.2,
            pin_factory=pin_factory,
            option="[officer_button] pin",
        )

    def _callback(self, number: int) -> Callable[[], None]:
        def pressed() -> None:
            self._pressed(number)

        return pressed

    def _pressed(self, number: int) -> None:
        now = self._clock.monotonic()
        last = self._last.get(number)
        if last is not None and now - last < self._debounce_s:
            return
        self._last[number] = now
        try:
            self._on_press(number)
        except Exception:
            log.exception("button %d: the press could not be handled", number)

    def close(self) -> None:
        for button in self._buttons:
            button.close()
        self._buttons.clear()
