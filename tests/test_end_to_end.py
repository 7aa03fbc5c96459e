"""A citizen's press on a real unit reaches the HR report: device, broker and server together.

Only the hardware is faked (gpiozero's MockFactory); the unit is configured from the very
device.toml text of the bundle the server issues for the device.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory
from sqlmodel import Session, select

from device.buttons import Buttons
from device.clock import SystemClock
from device.settings import DeviceSettings
from device.unit import Unit
from devtools import import_workbook
from server.storage.models import Rating as StoredRating
from server.timeutil import VN_TZ
from tests.server.test_journey import server, wait_for  # noqa: F401  (fixture)
from tests.server.web.test_api import bundle_toml, login, seed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextmanager
def unit_from(config: str, tmp_path: Path, pins: MockFactory) -> Iterator[Callable[[int], None]]:
    """A real unit configured from `config` (a bundle's device.toml) as an administrator copies
    it to the Pi: only its data folder, the pin factory and the screen are changed for the test.
    Yields `press(button)`, which presses a button (1-4) and waits for the server's Ack."""
    provisioned = tmp_path / "device.toml"
    provisioned.write_text(config)
    DeviceSettings.load(provisioned)  # what an administrator copies to the Pi loads as it is
    data = tomllib.loads(config)
    data["device"]["data_dir"] = str(tmp_path / "unit")
    data["buttons"]["pin_factory"] = "mock"
    data["screen"]["enabled"] = False
    unit = Unit(DeviceSettings.from_mapping(data), SystemClock(trust=True))
    unit.start()
    buttons = Buttons.from_settings(unit.settings.buttons, unit.press, unit.clock, pin_factory=pins)

    def press(button: int) -> None:
        pin = unit.settings.buttons.pins[button - 1]
        pins.pin(pin).drive_low()
        pins.pin(pin).drive_high()
        wait_for(lambda: unit.outbox.count() == 0, what="the server's Ack")

    try:
        wait_for(
            lambda: unit.config is not None and unit.config.officer is not None,
            what="the unit's Config with the officer",
        )
        press.unit = unit  # type: ignore[attr-defined]
        yield press
    finally:
        buttons.close()
        unit.stop()


def stored_ratings(client: TestClient) -> list[StoredRating]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(StoredRating)).all())


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
    with unit_from(bundle_toml(server, auth, "dev-dh-q1"), tmp_path, mock_pins) as press:
        assert press.unit.view().officer_name == "Nguyễn Thị Lan"  # type: ignore[attr-defined]
        press(4)

    [row] = stored_ratings(server)
    assert (row.score, row.officer_id, row.device_id, row.flags) == (4, "CB-0042", "dev-dh-q1", "")
    today = datetime.now(VN_TZ).date().isoformat()
    report = server.get(
        f"/api/v1/reports/officers?start={today}&end={today}", headers=login(server, "hr")
    ).json()
    assert report["officers"][0]["counts"]["vn4"]["4"] == 1
    assert report["officers"][0]["satisfied_pct"] == 100.0


def test_a_district_imported_from_one_workbook_rates_on_the_rotas_officer(
    server: TestClient,  # noqa: F811
    mock_pins: MockFactory,
    tmp_path: Path,
) -> None:
    """Issue 13's administrator: 40 counters, officers and devices and a month of alternating
    days imported from one workbook, a unit set up from its bundle alone, and its rating on
    the officer the rota puts at that counter that day."""
    today = datetime.now(VN_TZ).date()
    rows = import_workbook.registry_rows()
    for row in rows["rota"]:  # the month starts yesterday, whole days: any hour of the run
        row["from"] += today - timedelta(days=1) - import_workbook.FIRST_DAY
        row["to"] = today + timedelta(days=29)
        row["start"], row["end"] = "00:00", "24:00"
    workbook = import_workbook.xlsx_bytes(rows)
    auth = login(server, "admin")

    def run_import() -> dict[str, Any]:
        files = {"file": ("quan-ly.xlsx", workbook, XLSX)}
        answer = server.post("/api/v1/import", files=files, headers=auth)
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = run_import()
    created = {sheet: len(result["created"]) for sheet, result in first["sheets"].items()}
    assert created == {
        "units": 1,
        "fields": 8,
        "counters": 40,
        "officers": 40,
        "devices": 40,
        "rota": 80,
    }
    second = run_import()
    assert second["errors"] == []
    for sheet, result in second["sheets"].items():
        assert (sheet, result["created"], result["updated"]) == (sheet, [], [])
        assert len(result["unchanged"]) == created[sheet]

    # Counter 7: officer 7 from yesterday every other day, officer 8 from today.
    device, counter = import_workbook.device_id(7), import_workbook.counter_id(7)
    on_duty = import_workbook.officer_id(8)
    with unit_from(bundle_toml(server, auth, device), tmp_path, mock_pins) as press:
        assert press.unit.config.officer.id == on_duty  # type: ignore[attr-defined]
        press(4)
    assert [(r.officer_id, r.counter_id, r.day) for r in stored_ratings(server)] == [
        (on_duty, counter, today)
    ]
    tomorrow_noon = datetime.combine(today + timedelta(days=1), time(12), VN_TZ)
    roster = server.get(
        "/api/v1/roster",
        params={
            "unit_id": import_workbook.UNIT,
            "start": tomorrow_noon.isoformat(),
            "end": (tomorrow_noon + timedelta(minutes=1)).isoformat(),
        },
        headers=auth,
    )
    assert roster.status_code == 200, roster.text
    tomorrow = {s["officer_id"] for s in roster.json() if s["counter_id"] == counter}
    assert tomorrow == {import_workbook.officer_id(7)}
