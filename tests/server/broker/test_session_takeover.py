"""Session takeover on a real Mosquitto: a device account connects only under its own client id.

Mosquitto hands a session to whoever connects with its client id. Each attack is tried over
MQTT 5 and MQTT 3.1.1: device A under B's id, and under the server's ingest id. Both must be
refused while B and the server stay connected and keep working.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from hailong import protocol
from hailong.mqtt import MqttTarget, new_client
from server.broker.client_ids import ServerClientIds
from server.broker.dynsec import DynSec
from server.settings import Settings
from server.storage.models import Rating as StoredRating
from server.web.app import create_app
from tests.conftest import Broker
from tests.server.factories import seed_one_counter

PROTOCOLS = pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
DEADLINE_S = 20.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Connection:
    """One MQTT connection under a chosen client id: its CONNACK, its drops, what it receives."""

    def __init__(self, target: MqttTarget, client_id: str, *, v5: bool = True) -> None:
        self.client_id = client_id
        self.answered = threading.Event()
        self.refused: paho.ReasonCode | None = None
        self.drops = 0
        self.received: queue.Queue[bytes] = queue.Queue()
        self._subscribed = threading.Event()
        self.client = new_client(client_id, target, v5=v5, clean_start=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.received.put(bytes(msg.payload))
        self.client.connect_async(target.host, target.port, keepalive=30)
        self.client.loop_start()
        assert self.answered.wait(DEADLINE_S), f"no CONNACK for {client_id}"

    def _on_connect(
        self, _c: paho.Client, _u: object, _f: object, rc: paho.ReasonCode, _p: object
    ) -> None:
        if rc.is_failure:
            self.refused = rc
            self.client.disconnect()  # no reconnecting: one attempt is the attack
        self.answered.set()

    def _on_disconnect(self, *_: object) -> None:
        self.drops += 1

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self._subscribed.wait(DEADLINE_S), f"{self.client_id} could not subscribe"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connections() -> Iterator[Callable[..., Connection]]:
    made: list[Connection] = []

    def connect(target: MqttTarget, client_id: str, *, v5: bool = True) -> Connection:
        made.append(Connection(target, client_id, v5=v5))
        return made[-1]

    yield connect
    for connection in made:
        connection.close()


def publish_as_server(broker: Broker, topic: str, payload: bytes) -> None:
    server = new_client(f"test-server-{uuid.uuid4().hex}", broker.server_target)
    server.connect(broker.host, broker.port)
    server.loop_start()
    try:
        server.publish(topic, payload, qos=1).wait_for_publish(DEADLINE_S)
    finally:
        server.disconnect()
        server.loop_stop()


@PROTOCOLS
def test_a_device_connects_under_its_own_id(
    broker: Broker, connections: Callable[..., Connection], v5: bool
) -> None:
    own = connections(broker.add_device("dev-a"), "dev-a", v5=v5)
    assert own.refused is None


@PROTOCOLS
def test_a_device_under_another_units_id_is_refused_and_that_unit_stays_online(
    broker: Broker, connections: Callable[..., Connection], v5: bool
) -> None:
    a, b = broker.add_device("dev-a", "a-password"), broker.add_device("dev-b", "b-password")
    unit_b = connections(b, "dev-b", v5=v5)
    assert unit_b.refused is None
    unit_b.subscribe(protocol.topic("dev-b", "acks"))

    attacker = connections(a, "dev-b", v5=v5)

    assert attacker.refused is not None, "device A took device B's client id"
    assert "authori" in str(attacker.refused).lower(), attacker.refused
    publish_as_server(broker, protocol.topic("dev-b", "acks"), b"for B")
    assert unit_b.received.get(timeout=DEADLINE_S) == b"for B"
    assert unit_b.drops == 0, "unit B was knocked offline"
    assert "already connected" not in broker.process.cfg.log_path.read_text()


def server_settings(broker: Broker, tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'server.db'}",
        mqtt_url=broker.server_url,
        secret_key="s" * 40,
        ingest_batch_ms=20,
        data_dir=tmp_path / "data",
    )


@PROTOCOLS
def test_a_device_under_the_servers_id_is_refused_and_ingest_goes_on(
    broker: Broker,
    connections: Callable[..., Connection],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    v5: bool,
) -> None:
    settings = server_settings(broker, tmp_path)
    seed_one_counter(settings.database_url, ("dev-a", "dev-b"))
    a, b = broker.add_device("dev-a"), broker.add_device("dev-b")
    app = create_app(settings)
    caplog.set_level(logging.INFO, logger="hailong.ingest")
    with TestClient(app):
        wait_for(app.state.ingest.connected.is_set, "the server's ingest to subscribe")
        server_id = ServerClientIds.from_settings(settings).ingest

        attacker = connections(a, server_id, v5=v5)

        assert attacker.refused is not None, "device A took the server's client id"
        unit_b = connections(b, "dev-b", v5=v5)
        unit_b.subscribe(protocol.topic("dev-b", "acks"))
        rating = protocol.Rating(
            id=str(uuid.uuid4()),
            device_id="dev-b",
            seq=1,
            score=4,
            pressed_at=datetime.now(UTC) - timedelta(seconds=5),
        )
        unit_b.client.publish(protocol.topic("dev-b", "ratings"), rating.to_payload(), qos=1)
        ack = protocol.decode_ack(unit_b.received.get(timeout=DEADLINE_S))
        assert ack.accepted == [rating.id]
        with Session(app.state.engine) as session:
            assert session.exec(select(StoredRating.id)).all() == [rating.id]
        assert app.state.ingest.connected.is_set()
    assert "disconnected from the broker" not in caplog.text, "the server's session was taken"
    assert "already connected" not in broker.process.cfg.log_path.read_text()


def test_a_reset_binds_an_account_made_before_bindings(
    broker: Broker, connections: Callable[..., Connection]
) -> None:
    b = broker.add_device("dev-b", "b-password")
    a = broker.add_device("dev-a", "a-password")
    with DynSec(broker.server_target) as dynsec:
        dynsec.check({"command": "setClientId", "username": "dev-a"})  # as an older release made it
    assert connections(a, "dev-b").refused is None, "an unbound account may use any id"
    a = broker.add_device("dev-a", "new-password")  # the password reset of a re-registration
    assert connections(a, "dev-b").refused is not None
    assert connections(a, "dev-a").refused is None
    assert connections(b, "dev-b").refused is None
