"""Run one counter unit until SIGINT or SIGTERM: `python -m device.main device.toml`.

Start-up never waits for the network: with the broker down the unit still takes ratings into
its outbox and connects when it can. Around the unit: the citizen's buttons, the officer's
Hoàn thành button, the LEDs and buzzer (one gpiozero pin factory for all of them), the
officers' card reader, spoken prompts and the screen; each is optional in device.toml. On the
Pi this runs as a systemd service and logs to stderr, which journald keeps.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from device.buttons import Buttons, pin_factory_named
from device.card_reader import CardReader
from device.clock import SystemClock
from device.feedback import Feedback
from device.outputs import Outputs
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.errors import ConfigError

log = logging.getLogger("device")


def _setup_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _screen_loop(unit: Unit, settings: DeviceSettings, stop: threading.Event) -> None:
    """Show the screen, or carry on headless (buttons still rate) when there is no display."""
    try:
        from device.screen import Screen

        screen = Screen(settings.screen)
    except Exception as exc:
        log.error(
            "cannot open the screen (%s); running without it (no reasons page). On a Pi "
            "without a desktop set SDL_VIDEODRIVER=kmsdrm and XDG_RUNTIME_DIR, or set "
            "[screen] enabled = false",
            exc,
        )
        unit.ask_reasons = False
        _wait(stop)
        return
    screen.run(unit, stop)


def _fit_hardware(
    unit: Unit,
    settings: DeviceSettings,
    inputs: list[Buttons | CardReader],
    feedback: list[Feedback],
) -> None:
    """Wire what device.toml says is fitted; what is opened goes into `inputs` and `feedback`
    at once, so that it is closed even when a later part fails."""
    gpio = (
        settings.buttons.enabled
        or settings.officer_button.enabled
        or Outputs.wanted(settings.leds, settings.buzzer)
    )
    factory: Any = None
    if gpio and settings.buttons.pin_factory is not None:
        factory = pin_factory_named(settings.buttons.pin_factory)
    if settings.buttons.enabled:
        inputs.append(
            Buttons.from_settings(settings.buttons, unit.button, unit.clock, pin_factory=factory)
        )
    if settings.officer_button.enabled:
        inputs.append(
            Buttons.officer(
                settings.officer_button, unit.officer_done, unit.clock, pin_factory=factory
            )
        )
    if settings.card_reader.enabled:
        inputs.append(CardReader(settings.card_reader, unit.card_signin))
    if Outputs.wanted(settings.leds, settings.buzzer):
        feedback.append(Outputs(settings.leds, settings.buzzer, pin_factory=factory))
    if settings.audio.enabled:
        from device.audio import Audio

        feedback.append(Audio(settings.audio.volume))
    for output in feedback:
        unit.add_feedback(output)


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


def run(config_path: Path) -> int:
    """Run a unit from its device.toml; returns the process exit code."""
    _setup_logging()
    try:
        settings = DeviceSettings.load(config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    unit = Unit(settings, SystemClock(trust=settings.device.trust_clock))
    inputs: list[Buttons | CardReader] = []
    feedback: list[Feedback] = []
    try:
        _fit_hardware(unit, settings, inputs, feedback)
        log.info("unit %s started; broker %s", unit.device_id, settings.mqtt.target.redacted())
        unit.start()
        if settings.screen.enabled:
            _screen_loop(unit, settings, stop)
        else:
            _wait(stop)
        return 0
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    finally:
        for device in inputs:
            device.close()
        unit.stop()
        for output in feedback:
            output.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("unit %s stopped", unit.device_id)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m device.main DEVICE.TOML", file=sys.stderr)
        return 2
    return run(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
