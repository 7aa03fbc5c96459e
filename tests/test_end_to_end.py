"""A citizen's press on a real unit reaches the HR report: device, broker and server together.

Only the hardware is faked (gpiozero's MockFactory); the unit is configured from the very
device.toml text the server hands out when the device is registered.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory
from sqlmodel import Session, select

from device.buttons import Buttons
from device.clock import SystemClock
from device.settings import DeviceSettings
from device.unit import Unit
from server.storage.models import Rating as StoredRating
from server.timeutil import VN_TZ
from tests.server.test_journey import server, wait_for  # noqa: F401  (fixture)
from tests.server.web.test_api import bundle_toml, login, seed


def test_a_button_press_reaches_the_report(
    server: TestClient,  # noqa: F811
    mock_pins: MockFactory,
    tmp_path: Path,
) -> None:
    auth = login(server, "admin")
    seed(server, auth)
    made = server.post(
        "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
    )
    assert made.status_code == 201, made.text
    config = bundle_toml(server, auth, "dev-dh-q1")
    provisioned = tmp_path / "device.toml"
    provisioned.write_text(config)
    DeviceSettings.load(provisioned)  # what an administrator copies to the Pi loads as it is

    data = tomllib.loads(config)
    data["device"]["data_dir"] = str(tmp_path / "unit")
    data["buttons"]["pin_factory"] = "mock"
    data["screen"]["enabled"] = False
    unit = Unit(DeviceSettings.from_mapping(data), SystemClock(trust=True))
    unit.start()
    buttons = Buttons.from_settings(
        unit.settings.buttons, unit.press, unit.clock, pin_factory=mock_pins
    )
    try:
        wait_for(
            lambda: unit.config is not None and unit.config.officer is not None,
            what="the unit's Config with the officer",
        )
        assert unit.view().officer_name == "Nguyễn Thị Lan"
        best = unit.settings.buttons.pins[3]
        mock_pins.pin(best).drive_low()
        mock_pins.pin(best).drive_high()
        wait_for(lambda: unit.outbox.count() == 0, what="the server's Ack")
    finally:
        buttons.close()
        unit.stop()

    with Session(server.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(StoredRating)).one()
    assert (row.score, row.officer_id, row.device_id, row.flags) == (4, "CB-0042", "dev-dh-q1", "")
    today = datetime.now(VN_TZ).date().isoformat()
    report = server.get(
        f"/api/v1/reports/officers?start={today}&end={today}", headers=login(server, "hr")
    ).json()
    assert report["officers"][0]["counts"]["vn4"]["4"] == 1
    assert report["officers"][0]["satisfied_pct"] == 100.0
