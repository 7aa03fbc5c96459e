"""The officer's sign-in over a real Mosquitto, with the unit's own account: the PIN set by the
API, the unit's Config saying `pin`, a SignIn on the unit's topic answered in its Ack, the
retained Config showing the new officer and the next rating theirs; five wrong PINs lock the
unit's sign-in until the lock's minute has passed on the server's (injected) clock."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from fastapi.testclient import TestClient
from sqlmodel import Session

from hailong import protocol
from server.ingest.service import IngestService
from server.ingest.signins import SignInRules
from server.ingest.store import IngestRules
from server.storage.models import Rating as StoredRating
from tests.conftest import Broker
from tests.server.factories import TEST_CHAIN_KEY
from tests.server.test_faults import DeviceLink, wait_until
from tests.server.web.test_api import api_app, login, seed

DEVICE = "dev-dh-q1"
SECRET = "k" * 40  # api_app's secret_key, which the PINs' tags are keyed with
PIN = "270583"


class Clock:
    """The server's clock: real time moved on by `ahead`, so a lock's minute passes at once."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


class UnitLink(DeviceLink):
    """The unit's MQTT link reading its retained Config as well as its Acks."""

    def __init__(self, target: Any, device_id: str) -> None:
        self.configs: list[protocol.Config] = []
        self._config_lock = threading.Lock()
        super().__init__(target, device_id)

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if not rc.is_failure:
            client.subscribe([(protocol.topic(self.device_id, k), 1) for k in ("acks", "config")])

    def _on_message(self, c: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
        if msg.topic.endswith("/config"):
            with self._config_lock:
                self.configs.append(protocol.decode_config(bytes(msg.payload)))
            return
        super()._on_message(c, u, msg)

    def config(self) -> protocol.Config | None:
        with self._config_lock:
            return self.configs[-1] if self.configs else None

    def answer(self, signin_id: str) -> str:
        """'accepted', or the rejection's reason, once the Ack naming the SignIn came."""
        for ack in self.received():
            if signin_id in ack.accepted:
                return "accepted"
            for rejection in ack.rejected:
                if rejection.id == signin_id:
                    return rejection.error
        return ""


def sign_in(unit: UnitLink, pin: str, at: datetime) -> str:
    signin = protocol.SignIn(
        id=str(uuid.uuid4()),
        action="in",
        credential=protocol.Credential(kind="pin", value=pin),
        at=at,
    )
    unit.publish("signin", signin.to_payload()).wait_for_publish(30)
    wait_until(lambda: bool(unit.answer(signin.id)), "the Ack naming the SignIn")
    return unit.answer(signin.id)


def test_a_pin_sign_in_over_the_broker_moves_the_counters_officer_and_the_next_press_is_theirs(
    broker: Broker, tmp_path: Path
) -> None:
    app = api_app(tmp_path)
    clock = Clock()
    rules = IngestRules(chain_key=TEST_CHAIN_KEY, signin=SignInRules(secret=SECRET))
    with TestClient(app) as client:
        auth = login(client, "admin")
        seed(client, auth)  # CB-0042 is at DH-Q1 from January, with no end
        officer = {"id": "CB-0043", "name": "Trần Văn Bình", "unit_id": "DH"}
        assert client.post("/api/v1/officers", json=officer, headers=auth).status_code == 201
        device = {"id": DEVICE, "counter_id": "DH-Q1"}
        assert client.post("/api/v1/devices", json=device, headers=auth).status_code == 201
        server = IngestService(
            app.state.engine,
            broker.server_target,
            client_id=f"hailong-{uuid.uuid4().hex}-server",
            rules=rules,
            batch_ms=20,
            clock=clock,
        ).start()
        app.state.ingest = server  # the API's writes refresh the Configs, as in `hailong up`
        unit = UnitLink(broker.add_device(DEVICE), DEVICE)
        try:
            unit.wait_ready()
            wait_until(server.connected.is_set, "the server's subscriptions")
            r = client.patch("/api/v1/units/DH", json={"signin": "pin"}, headers=auth)
            assert r.status_code == 200, r.text
            r = client.post("/api/v1/officers/CB-0043/credentials", json={"pin": PIN}, headers=auth)
            assert r.status_code == 200, r.text

            def config_says(signin: str, officer_id: str) -> bool:
                config = unit.config()
                return (
                    config is not None
                    and config.signin == signin
                    and config.officer is not None
                    and config.officer.id == officer_id
                )

            wait_until(lambda: config_says("pin", "CB-0042"), "the Config saying pin")

            assert sign_in(unit, PIN, clock()) == "accepted"
            wait_until(lambda: config_says("pin", "CB-0043"), "the Config showing CB-0043")

            rating = protocol.Rating(
                id=str(uuid.uuid4()),
                device_id=DEVICE,
                seq=1,
                pressed_at=clock(),
                score=4,
                officer_id="CB-0043",
                counter_id="DH-Q1",
            )
            unit.publish("ratings", rating.to_payload()).wait_for_publish(30)
            wait_until(lambda: rating.id in unit.acked(), "the rating's Ack")
            with Session(app.state.engine) as session:
                stored = session.get(StoredRating, rating.id)
                assert stored is not None and stored.officer_id == "CB-0043"

            reasons = [sign_in(unit, "000000", clock()) for _ in range(5)]
            assert reasons[0].startswith("Sai mã PIN (còn 4 lần)")
            assert reasons[4].startswith("Sai mã PIN. Tạm khóa đăng nhập đến")
            locked = sign_in(unit, PIN, clock())
            assert locked.startswith("Tạm khóa đăng nhập đến"), locked
            clock.ahead = timedelta(seconds=61)
            assert sign_in(unit, PIN, clock()) == "accepted"
        finally:
            unit.close()
            server.stop()
