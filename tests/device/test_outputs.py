"""LEDs, buzzer and the officer's button through gpiozero's MockFactory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from device.buttons import Buttons
from device.clock import ManualClock
from device.feedback import Feedback
from device.outputs import Outputs
from device.settings import BuzzerSection, DeviceSettings, LedsSection
from device.unit import Unit
from hailong.errors import ConfigError
from hailong.mqtt import MqttTarget
from hailong.protocol import Config
from system.simulator import PlacingGuard
from tests.device.conftest import ServerStub, wait_until

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
LEDS = LedsSection(enabled=True, accepted_pin=5, attention_pin=6, blink_s=0.05)
BUZZER = BuzzerSection(enabled=True, pin=12, beep_ms=20)


def lit_at_some_point(mock_pins: MockFactory, pin: int) -> bool:
    return any(state.state for state in mock_pins.pin(pin).states)


def test_a_press_beeps_and_blinks_the_accepted_led(
    mock_pins: MockFactory, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    unit = Unit(make_settings(NOWHERE), clock)
    outputs = Outputs(LEDS, BUZZER, pin_factory=mock_pins)
    unit.add_feedback(outputs)
    try:
        assert not lit_at_some_point(mock_pins, 5) and not lit_at_some_point(mock_pins, 12)
        assert unit.press(3) is not None
        assert wait_until(lambda: lit_at_some_point(mock_pins, 5))
        assert wait_until(lambda: lit_at_some_point(mock_pins, 12))
        assert wait_until(lambda: not mock_pins.pin(5).state and not mock_pins.pin(12).state)
        assert not lit_at_some_point(mock_pins, 6)
    finally:
        outputs.close()
        unit.outbox.close()


def test_nothing_fitted_means_no_outputs(mock_pins: MockFactory) -> None:
    assert not Outputs.wanted(LedsSection(), BuzzerSection())
    assert Outputs.wanted(LEDS, BuzzerSection()) and Outputs.wanted(LedsSection(), BUZZER)
    outputs = Outputs(LEDS, BuzzerSection(), pin_factory=mock_pins)
    outputs.pressed("Hài lòng")  # no buzzer: nothing happens
    outputs.close()


def test_a_pin_in_use_is_named(mock_pins: MockFactory) -> None:
    held = Outputs(LedsSection(enabled=True), BuzzerSection(), pin_factory=mock_pins)
    with pytest.raises(ConfigError, match=r"\[buzzer\] pin: cannot use pin 5"):
        Outputs(LedsSection(), BuzzerSection(enabled=True, pin=5), pin_factory=mock_pins)
    held.close()


def test_a_failing_output_never_loses_a_press(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    class Broken(Feedback):
        def pressed(self, label_vi: str) -> None:
            raise RuntimeError("the buzzer is on fire")

        def stored(self) -> None:
            raise RuntimeError("so is the LED")

    unit = Unit(make_settings(NOWHERE), clock)
    unit.add_feedback(Broken())
    assert unit.press(4) is not None
    assert unit.outbox.count() == 1
    unit.outbox.close()


def test_the_attention_led_follows_the_link_and_the_backlog(
    broker: Any,
    mock_pins: MockFactory,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
    guard: PlacingGuard,
) -> None:
    target = broker.add_device("unit-1")
    unit = Unit(make_settings(target, outbox={"warn_backlog": 1}), clock, guard)
    outputs = Outputs(LEDS, BuzzerSection(), pin_factory=mock_pins)
    unit.add_feedback(outputs)
    attention = mock_pins.pin(6)
    server = ServerStub(broker.server_target, auto_ack=False)
    unit.start()  # offline until the broker answers
    try:
        assert wait_until(lambda: unit.link.connected)
        assert wait_until(lambda: not attention.state)
        with guard.placing():
            assert unit.press(3) is not None
            assert unit.press(4) is not None  # 2 unacknowledged > warn_backlog = 1
        assert wait_until(lambda: attention.state)
        assert wait_until(lambda: len(set(server.ids())) == 2)
        for rating in list(server.ratings):
            server.ack(rating)
        assert unit.outbox.wait_empty(60)
        assert wait_until(lambda: not attention.state)
        broker.process.stop()  # the broker goes away: offline
        assert wait_until(lambda: attention.state)
    finally:
        server.close()
        unit.stop()
        outputs.close()


def test_a_unit_that_cannot_reach_the_broker_lights_attention(
    mock_pins: MockFactory, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    unit = Unit(make_settings(NOWHERE), clock)
    outputs = Outputs(LEDS, BuzzerSection(), pin_factory=mock_pins)
    unit.add_feedback(outputs)
    unit.start()
    try:
        assert wait_until(lambda: mock_pins.pin(6).state)
        assert unit.press(4) is not None  # ratings are still taken, into the outbox
    finally:
        unit.stop()
        outputs.close()


def test_the_officer_button_opens_exactly_one_rating_under_require_service(
    mock_pins: MockFactory, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    settings = make_settings(NOWHERE, officer_button={"enabled": True, "pin": 16, "open_s": 30})
    unit = Unit(settings, clock)
    unit.apply_config(Config(device_id="unit-1", require_service=True, cooldown_s=1))
    button = Buttons.officer(
        settings.officer_button, unit.officer_done, clock, pin_factory=mock_pins
    )
    pin = mock_pins.pin(16)
    try:
        assert unit.press(4) is None and unit.view().waiting_for_service
        pin.drive_low()
        pin.drive_high()
        assert not unit.view().waiting_for_service
        rating = unit.press(4)
        assert rating is not None and rating.ticket is None
        clock.advance(5)
        assert unit.press(4) is None  # one press of Hoàn thành, one rating
        clock.advance(1)
        pin.drive_low()
        pin.drive_high()
        clock.advance(31)
        assert unit.press(2) is None  # the opening lapsed unused
        assert unit.outbox.count() == 1
    finally:
        button.close()
        unit.outbox.close()
