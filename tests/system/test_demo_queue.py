"""The demo's simulated queue: its tickets go through the real route with its own token, a
simulated unit handed a ticket's Service rates that ticket, and the response rate follows."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from sqlmodel import Session, select

from device.clock import ManualClock
from device.settings import DeviceSettings
from devtools.browser import serve
from hailong.mqtt import MqttTarget
from server.storage.channels import ApiToken, QueueTicket
from server.storage.models import ServiceRecord
from system.admin_api import AdminApi
from system.demo import DemoFleet, plan
from system.demo_queue import DemoQueue, events_of, queue_token, service_of
from system.simulator import SimulatedUnit
from tests.device.conftest import ICT
from tests.server.web.test_api import api_app

if TYPE_CHECKING:
    from system.up import Stack


def test_the_demo_queue_posts_its_tickets_with_its_own_token(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    counters = plan()[:2]
    with serve(app) as base:
        stack = SimpleNamespace(
            base_url=base,
            secrets=SimpleNamespace(admin_password="admin-password"),
            settings=SimpleNamespace(data_dir=tmp_path / "demo"),
        )
        DemoFleet()._seed_registry(cast("Stack", stack), plan())
        api = AdminApi(base, "admin", "admin-password")
        token = queue_token(api, tmp_path / "demo" / "fleet")
        assert queue_token(api, tmp_path / "demo" / "fleet") == token, "made once, then kept"
        queue = DemoQueue(base, token, random.Random(1))
        day = datetime.now(ICT) - timedelta(days=3)
        presses = [day.replace(hour=9, minute=m) for m in range(0, 50, 5)]
        tickets = [t for c in counters for t in queue.tickets_for(c.counter_id, presses) if t]
        tickets += queue.unrated(counters[0].counter_id, presses)
        answers = queue.post(events_of(tickets))
    assert {a["state"] for a in answers} == {"issued", "called", "served"}
    assert not any(a["unit_told"] for a in answers), "history: no unit is told"
    codes = {t.code for t in tickets}
    assert len(codes) == len(tickets), "one code per ticket and day"
    assert {c[0] for c in codes} == {"T", "D"}, "one queue letter per field"
    with Session(app.state.engine) as session:
        assert len(session.exec(select(ServiceRecord)).all()) == len(tickets)
        stored = session.exec(select(QueueTicket)).all()
        assert {t.token_id for t in stored} == {session.exec(select(ApiToken.id)).one()}


def test_a_simulated_unit_handed_a_service_rates_that_ticket(
    make_settings: Callable[..., DeviceSettings],
) -> None:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=ICT)
    sim = SimulatedUnit(make_settings(MqttTarget("127.0.0.1", 9, "unit-1", "pw")), ManualClock(at))
    queue = DemoQueue("http://unused", "hlt_x", random.Random(2))
    [ticket] = queue.tickets_for("DH-TP", [at])
    assert ticket is not None
    try:
        sim.open_service(service_of(ticket, "CB-DH-TP"), at)
        rated = sim.press(4, at=at)
        assert (rated.ticket, rated.officer_id) == (ticket.code, "CB-DH-TP")
        assert sim.press(3, at=at + timedelta(minutes=1)).ticket is None, "one rating a ticket"
    finally:
        sim.unit.outbox.close()
