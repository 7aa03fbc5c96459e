"""The officer's card reader: a USB reader that types the card number like a keyboard.

There is no desktop on the unit, so the keys are read from the kernel's input device through
evdev, and the device is grabbed: its keystrokes reach neither the console nor pygame. Key
events become characters until Enter (`CardDecoder`, pure), and each card read is handed to
the unit (`Unit.card_signin`), which makes a SignIn when the Config takes cards.

The input device comes from an injectable factory (`open_evdev` by default), as gpiozero's pin
factory is for the buttons: tests give a fake device that yields key events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from device.settings import CardReaderSection
from hailong.errors import ConfigError

log = logging.getLogger(__name__)

# Linux input event codes (linux/input-event-codes.h, a stable kernel ABI), so decoding needs
# no evdev and is tested anywhere.
EV_KEY = 1
KEY_DOWN = 1
ENTER = {28, 96}  # KEY_ENTER, KEY_KPENTER
SHIFT = {42, 54}
CHARACTERS: dict[int, str] = {
    **{code: str(n % 10) for n, code in enumerate(range(2, 12), 1)},  # KEY_1 … KEY_0
    **dict(zip((82, 79, 80, 81, 75, 76, 77, 71, 72, 73), "0123456789", strict=True)),  # keypad
    **dict(zip(range(16, 26), "QWERTYUIOP", strict=True)),
    **dict(zip(range(30, 39), "ASDFGHJKL", strict=True)),
    **dict(zip(range(44, 51), "ZXCVBNM", strict=True)),
}
MAX_CHARACTERS = 128  # the contract's longest credential
RETRY_S = 5.0  # an unplugged reader is looked for again this often


class KeyEvent(Protocol):
    type: int
    code: int
    value: int


class InputDevice(Protocol):
    """What the reader needs of an evdev.InputDevice."""

    @property
    def path(self) -> str | bytes: ...

    @property
    def name(self) -> str: ...

    def grab(self) -> None: ...

    def read_loop(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


DeviceFactory = Callable[[CardReaderSection], InputDevice]


class CardDecoder:
    """Key events in, a card number out at each Enter; letters come out upper case."""

    def __init__(self) -> None:
        self._typed: list[str] = []

    def feed(self, event: KeyEvent) -> str | None:
        if event.type != EV_KEY or event.value != KEY_DOWN or event.code in SHIFT:
            return None
        if event.code in ENTER:
            card, self._typed = "".join(self._typed), []
            return card or None
        character = CHARACTERS.get(event.code)
        if character is not None and len(self._typed) < MAX_CHARACTERS:
            self._typed.append(character)
        return None


def open_evdev(section: CardReaderSection) -> InputDevice:
    """The reader named in device.toml, opened with python-evdev (Linux only)."""
    try:
        import evdev
    except ImportError:
        raise ConfigError(
            "[card_reader] is enabled but python-evdev is not installed; install the unit's "
            "`device` extra on Linux, or set [card_reader] enabled = false"
        ) from None
    if section.path:
        try:
            return evdev.InputDevice(section.path)
        except OSError as exc:
            raise ConfigError(
                f"[card_reader] path = {section.path!r} cannot be opened ({exc.strerror}); "
                "check that the reader is plugged in and the unit's user is in the `input` group"
            ) from None
    names = []
    for path in evdev.list_devices():
        device = evdev.InputDevice(path)
        if section.name.lower() in device.name.lower():
            return device
        names.append(f"{device.name} ({path})")
        device.close()
    raise ConfigError(
        f"[card_reader] name = {section.name!r} matches no input device; found: "
        f"{', '.join(names) or 'none (is the reader plugged in, the user in `input`?)'}"
    )


class CardReader:
    """Reads cards on a thread of its own until `close`."""

    def __init__(
        self,
        section: CardReaderSection,
        on_card: Callable[[str], object],
        factory: DeviceFactory = open_evdev,
    ) -> None:
        """Opens and grabs the device now, so a wrong setting fails at start-up."""
        self.section = section
        self._on_card = on_card
        self._factory = factory
        self._stopping = threading.Event()
        self._device: InputDevice | None = self._open()
        self._thread = threading.Thread(target=self._run, name="card-reader", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        device, self._device = self._device, None
        if device is not None:
            device.close()  # ends its read_loop
        self._thread.join(RETRY_S + 1)

    def _open(self) -> InputDevice:
        device = self._factory(self.section)
        device.grab()  # the card number must not be typed into anything else
        log.info("card reader %s (%s) opened", device.name, device.path)
        return device

    def _run(self) -> None:
        while not self._stopping.is_set():
            device = self._device
            if device is None:
                device = self._reopen()
                if device is None:
                    continue
            decoder = CardDecoder()
            try:
                for event in device.read_loop():
                    card = decoder.feed(event)
                    if card is not None:
                        self._hand_over(card)
            except OSError as exc:
                if not self._stopping.is_set():
                    log.warning("card reader lost (%s); looking for it again", exc)
            if not self._stopping.is_set():
                self._device = None
                device.close()

    def _hand_over(self, card: str) -> None:
        log.info("a card was read (%d characters)", len(card))  # never the number itself
        try:
            self._on_card(card)
        except Exception:
            log.exception("the unit could not take the card read; reading on")

    def _reopen(self) -> InputDevice | None:
        if self._stopping.wait(RETRY_S):
            return None
        try:
            self._device = self._open()
        except (ConfigError, OSError) as exc:
            log.debug("card reader not back yet: %s", exc)
        return self._device
