"""An officer's sign-in with a real unit, a real server and a real broker: the PIN typed on
the unit's pad reaches the server, which moves the counter to that officer and tells the unit in
its Config; the next press is theirs. A wrong PIN comes back refused with the server's words, and
the unit shows a served ticket's link as a QR code for a citizen who prefers to rate later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory

from device.unit import Unit
from tests.conftest import Broker
from tests.server.test_journey import running_server, wait_for
from tests.server.web.test_api import bundle_toml, login, seed
from tests.test_end_to_end import stored_ratings, unit_from

PIN = "482913"


def type_pin(unit: Unit, pin: str) -> None:
    assert unit.open_signin(), "the Config takes a PIN: the officer's control opens the pad"
    for digit in pin:
        unit.pad_key("digit", int(digit))
    assert unit.pad_key("ok") is not None


def test_a_pin_typed_on_the_unit_moves_the_counter_and_the_next_press_is_theirs(
    broker: Broker, mock_pins: MockFactory, tmp_path: Path
) -> None:
    with running_server(broker, tmp_path / "server") as server:
        _prepare(server)
        admin = login(server, "admin")
        with unit_from(bundle_toml(server, admin, "dev-q1"), tmp_path, mock_pins) as press:
            unit: Unit = press.unit  # type: ignore[attr-defined]
            wait_for(lambda: unit.config.signin == "pin", what="the Config's sign-in method")
            assert unit.config.officer.id == "CB-0042"

            type_pin(unit, "000000")
            wait_for(lambda: unit.desk.state().phase == "answer", what="the refusal")
            message = unit.desk.state().message
            assert message is not None and message[0].startswith("Sai mã PIN"), message
            unit.pad_key("cancel")

            type_pin(unit, PIN)
            wait_for(
                lambda: unit.config.officer is not None and unit.config.officer.id == "CB-0077",
                what="the Config showing the officer who signed in",
            )
            assert unit.view().officer_name == "Trần Văn Minh"
            press(3)

            token = server.post("/api/v1/tokens", json={"name": "queue"}, headers=admin)
            call = {"event": "called", "ticket": "A-0154", "counter_id": "DH-Q1"}
            call["at"] = datetime.now(UTC).isoformat()
            queue = {"Authorization": f"Bearer {token.json()['token']}"}
            r = server.post("/api/v1/services", json={"events": [call]}, headers=queue)
            [answer] = r.json()["events"]
            assert answer["unit_told"], answer
            wait_for(lambda: unit.view().qr_url is not None, what="the ticket's QR on the unit")
            assert unit.view().qr_url == answer["rating_url"]

    ratings = stored_ratings(server)
    assert [r.officer_id for r in ratings] == ["CB-0077"]
    now = datetime.now(UTC)
    span = {
        "unit_id": "DH",
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": now.isoformat(),
    }
    roster = server.get("/api/v1/roster", params=span, headers=login(server, "admin"))
    assert roster.status_code == 200, roster.text
    shifts = {(s["officer_id"], s["source"]) for s in roster.json()}
    assert ("CB-0077", "signin") in shifts, shifts


def _prepare(server: TestClient) -> None:
    admin = login(server, "admin")
    seed(server, admin)
    for path, body in [
        (
            "/api/v1/officers",
            {"id": "CB-0077", "name": "Trần Văn Minh", "unit_id": "DH", "title": "Công chức"},
        ),
        ("/api/v1/devices", {"id": "dev-q1", "counter_id": "DH-Q1"}),
    ]:
        r = server.post(path, json=body, headers=admin)
        assert r.status_code == 201, (path, r.text)
    r = server.post("/api/v1/officers/CB-0077/credentials", json={"pin": PIN}, headers=admin)
    assert r.status_code == 200, r.text
    r = server.patch("/api/v1/units/DH", json={"signin": "pin"}, headers=admin)
    assert r.status_code == 200, r.text
