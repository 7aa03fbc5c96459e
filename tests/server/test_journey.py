"""One rating's whole journey against a real Mosquitto: register, publish, store, ack, report."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from hailong import protocol
from hailong.mqtt import MqttTarget, new_client
from server.access.auth import add_user
from server.broker.dynsec import DynSec
from server.settings import Settings
from server.storage.models import Rating as StoredRating
from server.storage.models import RejectedMessage
from server.timeutil import VN_TZ
from server.web.app import create_app
from tests.conftest import Broker
from tests.server.web.test_api import device_login, login, seed


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


@contextmanager
def running_server(broker: Broker, tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    """The server with ingest connected to `broker`, an admin and an hr login; `settings`
    changes a setting (a policy file, say)."""
    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'server.db'}",
            mqtt_url=broker.server_url,
            secret_key="s" * 40,
            ingest_batch_ms=20,
            data_dir=tmp_path,
            **settings,
        )
    )
    with Session(app.state.engine) as session:
        add_user(session, "admin", "admin-password", "admin")
        add_user(session, "hr", "hr-password", "hr")
    with TestClient(app) as client:
        wait_for(lambda: app.state.ingest.connected.is_set(), what="server connected to broker")
        yield client


@pytest.fixture
def server(broker: Broker, tmp_path: Path) -> Iterator[TestClient]:
    with running_server(broker, tmp_path) as client:
        yield client


class RawDevice:
    """A device speaking the contract by hand, to test the server's side in isolation."""

    def __init__(self, target: MqttTarget, device_id: str) -> None:
        self.device_id = device_id
        self.acks: list[protocol.Ack] = []
        self.puback_codes: list[Any] = []
        self.configs: list[protocol.Config] = []
        self.ready = threading.Event()
        self.client = new_client(device_id, target)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.on_publish = lambda _c, _u, _mid, rc, _p: self.puback_codes.append(rc)
        self.client.connect(target.host, target.port)
        self.client.loop_start()
        assert self.ready.wait(10), "device could not subscribe"

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe(
            [
                (protocol.topic(self.device_id, "acks"), 1),
                (protocol.topic(self.device_id, "config"), 1),
            ]
        )

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        if msg.topic.endswith("/acks"):
            self.acks.append(protocol.decode_ack(msg.payload))
        else:
            self.configs.append(protocol.decode_config(msg.payload))

    def publish(self, payload: bytes, device_id: str | None = None) -> None:
        info = self.client.publish(
            protocol.topic(device_id or self.device_id, "ratings"), payload, qos=1
        )
        info.wait_for_publish(10)

    def named(self) -> set[str]:
        return {i for a in self.acks for i in a.named_ids()}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def make_rating(device_id: str, seq: int, score: int = 4, **extra: Any) -> bytes:
    return protocol.Rating(
        id=str(uuid.uuid4()),
        device_id=device_id,
        seq=seq,
        score=score,
        pressed_at=datetime.now(VN_TZ),
        officer_id="CB-0042",
        counter_id="DH-Q1",
        **extra,
    ).to_payload()


@pytest.fixture
def device(server: TestClient, broker: Broker) -> Iterator[RawDevice]:
    auth = login(server, "admin")
    seed(server, auth)
    r = server.post(
        "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
    )
    assert r.status_code == 201, r.text
    dev = RawDevice(device_login(server, auth, "dev-dh-q1"), "dev-dh-q1")
    yield dev
    dev.close()


def stored(server: TestClient, model: type = StoredRating) -> list[Any]:
    with Session(server.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(model)).all())


def test_registered_device_gets_its_config_with_the_officer(device: RawDevice) -> None:
    wait_for(lambda: bool(device.configs), what="retained config")
    config = device.configs[-1]
    assert config.officer is not None and config.officer.name == "Nguyễn Thị Lan"
    assert config.counter_id == "DH-Q1"
    assert {r.code for r in config.reasons} >= {"wait_time", "attitude"}


def test_a_rating_reaches_the_report_and_is_acked(server: TestClient, device: RawDevice) -> None:
    payload = make_rating("dev-dh-q1", 1, score=3)
    device.publish(payload)
    rid = json.loads(payload)["id"]
    wait_for(lambda: rid in device.named(), what="ack")
    assert device.acks[-1].accepted == [rid]
    today = datetime.now(VN_TZ).date().isoformat()
    report = server.get(
        f"/api/v1/reports/officers?start={today}&end={today}", headers=login(server, "hr")
    ).json()
    officer = report["officers"][0]
    assert officer["officer_id"] == "CB-0042"
    assert officer["ratings"] == 1 and officer["counts"]["vn4"]["3"] == 1
    assert officer["satisfied_pct"] == 100.0 and officer["happy_index"] == 66.67
    assert server.get("/healthz").json()["mqtt"] == "connected"


def test_rating_sent_twice_is_stored_once_and_acked_both_times(
    server: TestClient, device: RawDevice
) -> None:
    payload = make_rating("dev-dh-q1", 1)
    rid = json.loads(payload)["id"]
    device.publish(payload)
    wait_for(lambda: len(device.acks) >= 1, what="first ack")
    device.publish(payload)
    wait_for(lambda: len(device.acks) >= 2, what="second ack")
    assert device.acks[0].accepted == [rid]
    assert device.acks[1].duplicate == [rid]
    assert len(stored(server)) == 1


def test_malformed_message_is_kept_and_the_next_rating_still_stored(
    server: TestClient, device: RawDevice
) -> None:
    device.publish(b"{this is not json")
    good = make_rating("dev-dh-q1", 2)
    device.publish(good)
    wait_for(lambda: json.loads(good)["id"] in device.named(), what="ack of the good rating")
    rejected = stored(server, RejectedMessage)
    assert len(rejected) == 1
    listed = server.get("/api/v1/rejected", headers=login(server, "admin")).json()
    assert listed[0]["payload"] == "{this is not json"
    assert listed[0]["topic"] == "hailong/v1/devices/dev-dh-q1/ratings"
    assert "not JSON" in listed[0]["reason"]
    assert server.get("/api/v1/rejected", headers=login(server, "hr")).status_code == 403
    assert rejected[0].payload == b"{this is not json" and "not JSON" in rejected[0].reason
    assert len(stored(server)) == 1


def test_a_device_cannot_publish_on_another_devices_topic(
    server: TestClient, device: RawDevice
) -> None:
    device.publish(make_rating("dev-other", 1), device_id="dev-other")
    wait_for(lambda: bool(device.puback_codes), what="puback")
    assert device.puback_codes[-1].is_failure, "MQTT 5 tells the device the ACL refused it"
    time.sleep(0.5)
    assert stored(server) == [] and stored(server, RejectedMessage) == []


def test_a_burst_of_3000_ratings_from_one_unit_is_stored_exactly(
    server: TestClient, device: RawDevice
) -> None:
    payloads = [make_rating("dev-dh-q1", seq) for seq in range(1, 3001)]
    for p in payloads:
        device.client.publish(protocol.topic("dev-dh-q1", "ratings"), p, qos=1)
    ids = {json.loads(p)["id"] for p in payloads}
    wait_for(lambda: ids <= device.named(), timeout=120, what="3000 acks")
    assert len(stored(server)) == 3000
    assert datetime.now(UTC) > min(r.received_at for r in stored(server))


def test_a_shift_change_reaches_the_unit_when_it_happens(
    server: TestClient, broker: Broker
) -> None:
    auth = login(server, "admin")
    seed(server, auth)
    change = datetime.now(UTC) + timedelta(seconds=3)
    server.post(
        "/api/v1/officers",
        headers=auth,
        json={"id": "CB-0043", "name": "Trần Văn Hùng", "unit_id": "DH", "title": "Công chức"},
    )
    server.post(
        "/api/v1/counters",
        headers=auth,
        json={"id": "DH-Q2", "name": "Quầy 2", "unit_id": "DH", "field_ids": ["tu-phap"]},
    )
    server.post(
        "/api/v1/officers",
        headers=auth,
        json={"id": "CB-0044", "name": "Lê Thị Hoa", "unit_id": "DH"},
    )
    # CB-0042 is at DH-Q1 (seed): an officer is at one counter at a time.
    for officer, start, end in (
        ("CB-0044", "2026-01-01T00:00:00+07:00", change.isoformat()),
        ("CB-0043", change.isoformat(), None),
    ):
        r = server.post(
            "/api/v1/assignments",
            headers=auth,
            json={"officer_id": officer, "counter_id": "DH-Q2", "start": start, "end": end},
        )
        assert r.status_code == 201, r.text
    made = server.post(
        "/api/v1/devices", json={"id": "dev-dh-q2", "counter_id": "DH-Q2"}, headers=auth
    )
    assert made.status_code == 201, made.text
    dev = RawDevice(device_login(server, auth, "dev-dh-q2"), "dev-dh-q2")
    try:
        wait_for(
            lambda: any(c.officer and c.officer.id == "CB-0044" for c in dev.configs),
            what="the first officer",
        )
        wait_for(
            lambda: dev.configs[-1].officer is not None and dev.configs[-1].officer.id == "CB-0043",
            what="the officer after the change",
        )
    finally:
        dev.close()


def _config_watcher(broker: Broker) -> MqttTarget:
    """An account that may read every unit's retained config (the server's may only write it)."""
    acls = [
        {"acltype": kind, "topic": "hailong/v1/devices/+/config", "allow": True, "priority": 0}
        for kind in ("subscribePattern", "publishClientReceive")
    ]
    with DynSec(broker.server_target) as dynsec:
        dynsec.check(
            {"command": "createRole", "rolename": "watcher"},
            *({"command": "addRoleACL", "rolename": "watcher", **acl} for acl in acls),
            {"command": "createClient", "username": "watcher", "password": "watcher-pw"},
            {"command": "addClientRole", "username": "watcher", "rolename": "watcher"},
        )
    return MqttTarget(broker.host, broker.port, "watcher", "watcher-pw")


def test_a_revoked_unit_is_cut_off_and_its_retained_config_deleted(
    server: TestClient, device: RawDevice, broker: Broker
) -> None:
    topic = protocol.topic("dev-dh-q1", "config")
    retained: list[bytes] = []
    subscribed = threading.Event()
    watcher = new_client("watcher", _config_watcher(broker))
    watcher.on_connect = lambda c, *_: c.subscribe(topic, 1)
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.on_message = lambda _c, _u, msg: retained.append(bytes(msg.payload))
    watcher.connect(broker.host, broker.port)
    watcher.loop_start()

    def retained_now() -> list[bytes]:
        """What a fresh subscriber is handed: the retained message, if there is one."""
        retained.clear()
        subscribed.clear()
        watcher.unsubscribe(topic)
        watcher.subscribe(topic, 1)
        assert subscribed.wait(10)
        time.sleep(0.3)
        return [p for p in retained if p]

    try:
        wait_for(lambda: bool(retained_now()), what="the unit's retained config")
        r = server.post("/api/v1/devices/dev-dh-q1/revoke", headers=login(server, "admin"))
        assert r.status_code == 200, r.text
        wait_for(lambda: not device.client.is_connected(), what="the broker cutting the unit off")
        wait_for(lambda: not retained_now(), what="the retained config to be deleted")
    finally:
        watcher.disconnect()
        watcher.loop_stop()
