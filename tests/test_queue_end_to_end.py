"""The queue system, a real server, a real broker and a real unit together: a ticket called at
a counter opens the unit's rating for it (the policy requires a service), the unit takes one
rating for it and no second, and the stored rating carries the ticket, which the served
event then counts in the officer's response rate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory

from server.policy import file as shipped_policy
from server.timeutil import VN_TZ
from tests.conftest import Broker
from tests.server.test_journey import running_server, wait_for
from tests.server.web.test_api import bundle_toml, login, seed
from tests.test_end_to_end import stored_ratings, unit_from

SHIPPED = Path(shipped_policy.__file__).parent / shipped_policy.DEFAULT_FILE


@pytest.fixture
def server(broker: Broker, tmp_path: Path) -> Iterator[TestClient]:
    """The server with ingest, under the shipped policy with `require_service = true`."""
    policy = tmp_path / "policy.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    assert "require_service = false" in text
    policy.write_text(text.replace("require_service = false", "require_service = true"))
    with running_server(broker, tmp_path, policy_file=policy) as client:
        yield client


def test_a_called_ticket_opens_the_units_rating_and_the_rating_carries_it(
    server: TestClient, mock_pins: MockFactory, tmp_path: Path
) -> None:
    admin = login(server, "admin")
    seed(server, admin)
    made = server.post(
        "/api/v1/devices", json={"id": "dev-q1", "counter_id": "DH-Q1"}, headers=admin
    )
    assert made.status_code == 201, made.text
    token = server.post("/api/v1/tokens", json={"name": "queue-dh"}, headers=admin).json()["token"]
    queue = {"Authorization": f"Bearer {token}"}
    with unit_from(bundle_toml(server, admin, "dev-q1"), tmp_path, mock_pins) as press:
        unit = press.unit  # type: ignore[attr-defined]
        wait_for(lambda: unit.config.require_service, what="the Config's require_service")
        assert unit.view().waiting_for_service
        assert unit.press(4) is None, "no ticket called: the unit takes no rating"

        called_at = datetime.now(VN_TZ)
        call = {"event": "called", "ticket": "A-0153", "counter_id": "DH-Q1"}
        r = server.post(
            "/api/v1/services",
            json={"events": [{**call, "at": called_at.isoformat()}]},
            headers=queue,
        )
        assert r.status_code == 200, r.text
        [answer] = r.json()["events"]
        assert answer["unit_told"] and answer["state"] == "called"
        wait_for(lambda: not unit.view().waiting_for_service, what="the unit's open rating")

        rating = unit.press(4)
        assert rating is not None and rating.ticket == "A-0153"
        assert unit.press(3) is None, "one rating per called ticket"
        wait_for(lambda: unit.outbox.count() == 0, what="the server's Ack")

    [row] = stored_ratings(server)
    assert (row.ticket, row.officer_id, row.score, row.flags) == ("A-0153", "CB-0042", 4, "")
    served = {**call, "event": "served", "at": (called_at + timedelta(minutes=5)).isoformat()}
    r = server.post("/api/v1/services", json={"events": [served]}, headers=queue)
    [answer] = r.json()["events"]
    assert answer["state"] == "served" and answer["rating_url"].startswith("http://testserver/r/")
    day = called_at.date().isoformat()
    report = server.get(
        f"/api/v1/reports/officers?start={day}&end={day}", headers=login(server, "hr")
    ).json()
    assert report["officers"][0]["response_rate"] == 100.0
