"""The officer's card reader: key events from a (fake) evdev device become one card number at
Enter, the device is grabbed, the card becomes a SignIn when the Config takes cards, and a
reader that is not there is a clear error."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from typing import Any

import evdev
import pytest

from device.card_reader import CHARACTERS, CardDecoder, CardReader, open_evdev
from device.settings import CardReaderSection, DeviceSettings
from device.unit import Unit
from hailong.errors import ConfigError
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, decode_signin
from tests.device.conftest import wait_until

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
ecodes: Any = evdev.ecodes


class Event:
    def __init__(self, code: int, value: int = 1, type: int = ecodes.EV_KEY) -> None:
        self.type, self.code, self.value = type, code, value


def typed(text: str) -> list[Event]:
    """What a keyboard-wedge reader sends: each key down and up (shift for letters), Enter."""
    events: list[Event] = []
    for character in text:
        code = ecodes.ecodes[f"KEY_{character.upper()}"]
        shifted = character.isalpha()
        if shifted:
            events.append(Event(ecodes.KEY_LEFTSHIFT))
        events += [Event(code, 1), Event(code, 0), Event(ecodes.SYN_REPORT, 0, ecodes.EV_SYN)]
        if shifted:
            events.append(Event(ecodes.KEY_LEFTSHIFT, 0))
    return events + [Event(ecodes.KEY_ENTER), Event(ecodes.KEY_ENTER, 0)]


class FakeReader:
    """An evdev.InputDevice that yields what the test puts in, until closed."""

    path = "/dev/input/event7"
    name = "Sycreader USB Reader"

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self.grabbed = False
        self.closed = False

    def grab(self) -> None:
        self.grabbed = True

    def read_loop(self) -> Iterator[Event]:
        while (event := self.events.get()) is not None:
            yield event

    def close(self) -> None:
        self.closed = True
        self.events.put(None)


def test_the_decoder_reads_digits_and_letters_until_enter() -> None:
    decoder = CardDecoder()
    cards = [card for event in typed("0012ab7") + typed("99") if (card := decoder.feed(event))]
    assert cards == ["0012AB7", "99"]
    assert CardDecoder().feed(Event(ecodes.KEY_ENTER)) is None  # Enter alone is no card


def test_the_key_codes_are_the_kernels() -> None:
    for code, character in CHARACTERS.items():
        name = ecodes.KEY[code]
        assert name.removeprefix("KEY_").removeprefix("KP") == character, name


@pytest.fixture
def unit(offline_unit: Unit) -> Unit:
    return offline_unit


def test_a_card_read_is_a_signin_when_the_config_takes_cards(unit: Unit) -> None:
    device = FakeReader()
    cards: list[str] = []

    def take(card: str) -> None:
        cards.append(card)
        unit.card_signin(card)

    unit.apply_config(Config(device_id="unit-1", signin="pin"))
    reader = CardReader(CardReaderSection(enabled=True, name="reader"), take, lambda _: device)
    try:
        assert device.grabbed  # its keys reach nothing else
        for event in typed("4F21"):
            device.events.put(event)
        assert wait_until(lambda: cards == ["4F21"])
        assert unit.signins.count() == 0  # this unit takes PINs only
        unit.apply_config(Config(device_id="unit-1", signin="pin_or_card"))
        for event in typed("0091823"):
            device.events.put(event)
        assert wait_until(lambda: unit.signins.count() == 1)
    finally:
        reader.close()
    assert device.closed
    [(_, payload)] = unit.signins.pending()
    signin = decode_signin(payload)
    assert (signin.action, signin.credential.kind, signin.credential.value) == (
        "in",
        "card",
        "0091823",
    )
    assert unit.view().pad.phase == "checking"


def test_a_reader_that_is_not_there_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"\[card_reader\] path = '/dev/input/nothing-here'"):
        open_evdev(CardReaderSection(enabled=True, path="/dev/input/nothing-here"))
    with pytest.raises(ConfigError, match=r"matches no input device; found"):
        open_evdev(CardReaderSection(enabled=True, name="no such reader 0xdeadbeef"))


def test_an_enabled_reader_must_be_named(make_settings: Callable[..., DeviceSettings]) -> None:
    with pytest.raises(ConfigError, match=r"\[card_reader\].*set path .* or name"):
        make_settings(NOWHERE, card_reader={"enabled": True})
