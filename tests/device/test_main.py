"""`device.main.run`: a whole unit from its device.toml, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from device.main import run
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


def test_a_bad_settings_file_exits_with_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "device.toml"
    config.write_text('[device]\nid = "unit-1"\n', encoding="utf-8")
    assert run(config) == 2
    assert "[mqtt] is missing" in caplog.text
