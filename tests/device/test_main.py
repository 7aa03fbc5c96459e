"""`device.main.run`: a whole unit from its device.toml, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from device.main import run
from hailong.protocol import Config, Reason
from tests.device.conftest import ServerStub, url_of, wait_until


def test_run_takes_button_presses_and_stops_cleanly_on_sigterm(
    broker: Any, server: ServerStub, mock_pins: MockFactory, tmp_path: Path
) -> None:
    target = broker.add_device("unit-1")
    config = tmp_path / "device.toml"
    config.write_text(
        f'[device]\nid = "unit-1"\ndata_dir = "data"\n[mqtt]\nurl = "{url_of(target)}"\n'
        "[buttons]\npins = [5, 6, 13, 19]\n[screen]\nenabled = true\n",
        encoding="utf-8",
    )

    def citizen_then_operator() -> None:
        def online() -> bool:
            status = server.status_of("unit-1")
            return status is not None and status.state == "online"

        wait_until(online)
        mock_pins.pin(13).drive_low()
        mock_pins.pin(13).drive_high()
        wait_until(lambda: len(server.ids()) == 1)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=citizen_then_operator, daemon=True)
    thread.start()
    assert run(config) == 0
    thread.join()
    assert [r.score for r in server.ratings] == [3]
    assert (tmp_path / "data" / "outbox.sqlite3").exists()
    assert wait_until(lambda: getattr(server.status_of("unit-1"), "state", "") == "offline")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_run_wires_the_officer_button_reasons_leds_buzzer_and_audio(
    broker: Any, server: ServerStub, mock_pins: MockFactory, tmp_path: Path
) -> None:
    target = broker.add_device("unit-1")
    reasons = [
        Reason(code="wait_time", label_vi="Chờ đợi lâu", label_en="Long wait"),
        Reason(code="attitude", label_vi="Thái độ chưa tốt", label_en="Poor attitude"),
    ]
    server.send_config(Config(device_id="unit-1", require_service=True, reasons=reasons))
    config = tmp_path / "device.toml"
    config.write_text(
        f'[device]\nid = "unit-1"\ndata_dir = "data"\n[mqtt]\nurl = "{url_of(target)}"\n'
        "[buttons]\npins = [17, 27, 22, 23]\n[screen]\nenabled = true\n"
        "[leds]\nenabled = true\naccepted_pin = 5\nattention_pin = 6\n"
        "[buzzer]\nenabled = true\npin = 12\n"
        "[officer_button]\nenabled = true\npin = 16\n"
        "[audio]\nenabled = true\n",
        encoding="utf-8",
    )

    def push(pin: int) -> None:
        mock_pins.pin(pin).drive_low()
        mock_pins.pin(pin).drive_high()
        time.sleep(0.1)  # apart by more than the debounce

    def officer_then_citizen() -> None:
        wait_until(lambda: (tmp_path / "data" / "config.json").exists())  # Config applied
        push(23)  # no transaction open: ignored
        push(16)  # the officer's Hoàn thành
        push(17)  # Không hài lòng: the reasons page opens
        time.sleep(1.2)  # a citizen reading, not a double press
        push(27)  # button 2: the second reason
        push(23)  # the last button: Gửi
        wait_until(lambda: len(server.ids()) == 1)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=officer_then_citizen, daemon=True)
    thread.start()
    assert run(config) == 0
    thread.join()
    (rating,) = server.ratings
    assert (rating.score, rating.reasons, rating.input) == (1, ["attitude"], "button")
    assert any(state.state for state in mock_pins.pin(5).states)  # accepted LED blinked
    assert any(state.state for state in mock_pins.pin(12).states)  # the buzzer beeped


def test_a_bad_settings_file_exits_with_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "device.toml"
    config.write_text('[device]\nid = "unit-1"\n', encoding="utf-8")
    assert run(config) == 2
    assert "[mqtt] is missing" in caplog.text
