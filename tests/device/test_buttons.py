"""Physical buttons through gpiozero's MockFactory: one press, one rating; bounces are one press."""

from __future__ import annotations

from collections.abc import Callable

from gpiozero.pins.mock import MockFactory

from device.buttons import Buttons
from device.clock import ManualClock
from device.settings import ButtonsSection, DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
PINS = [17, 27, 22, 23]


def test_a_button_press_makes_a_rating(
    mock_pins: MockFactory, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    unit = Unit(make_settings(NOWHERE), clock)
    buttons = Buttons.from_settings(
        ButtonsSection(pins=PINS), unit.press, clock, pin_factory=mock_pins
    )
    mock_pins.pin(22).drive_low()
    mock_pins.pin(22).drive_high()
    pending = unit.outbox.pending(10)
    assert len(pending) == 1
    assert b'"score":3' in pending[0].payload and b'"input":"button"' in pending[0].payload
    buttons.close()
    unit.outbox.close()


def test_bounces_are_one_press_and_a_later_press_counts(
    mock_pins: MockFactory, clock: ManualClock
) -> None:
    scores: list[int] = []
    buttons = Buttons(PINS, scores.append, clock, debounce_s=0.05, pin_factory=mock_pins)
    pin = mock_pins.pin(17)
    for _ in range(5):  # a bouncing contact: many edges within the debounce time
        pin.drive_low()
        pin.drive_high()
        clock.advance(0.005)
    assert scores == [1]
    clock.advance(0.1)
    pin.drive_low()
    pin.drive_high()
    mock_pins.pin(23).drive_low()
    assert scores == [1, 1, 4]
    buttons.close()


def test_a_failing_handler_does_not_break_the_button(
    mock_pins: MockFactory, clock: ManualClock
) -> None:
    calls: list[int] = []

    def handler(score: int) -> None:
        calls.append(score)
        raise RuntimeError("boom")

    buttons = Buttons(PINS, handler, clock, pin_factory=mock_pins)
    mock_pins.pin(27).drive_low()
    mock_pins.pin(27).drive_high()
    clock.advance(1)
    mock_pins.pin(27).drive_low()
    assert calls == [2, 2]
    buttons.close()
