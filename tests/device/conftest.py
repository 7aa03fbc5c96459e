"""Device-side fixtures: unit settings, a manual clock, and a stand-in for the server's MQTT side.

Tests wait on conditions with generous deadlines and never assert on durations, so a loaded
two-core CI machine makes them slower, not flaky.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget, new_client
from hailong.protocol import (
    Ack,
    AckRejection,
    Config,
    Rating,
    Status,
    decode_rating,
    decode_status,
    parse_topic,
    topic,
    topic_filter,
)
from system.simulator import PlacingGuard

ICT = timezone(timedelta(hours=7))
DEADLINE_S = 90.0


def wait_until(condition: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def url_of(target: MqttTarget) -> str:
    return f"mqtt://{target.username}:{target.password}@{target.host}:{target.port}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=ICT))


@pytest.fixture
def offline_unit(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> Iterator[Unit]:
    """A unit that is never started: its screen, pad and outboxes, without a broker."""
    unit = Unit(make_settings(MqttTarget("127.0.0.1", 9, "unit-1", "pw")), clock)
    yield unit
    unit.outbox.close()
    unit.signins.close()


@pytest.fixture
def guard() -> PlacingGuard:
    """A counter's guard that lets through the presses placed inside `guard.placing()`."""
    return PlacingGuard()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., DeviceSettings]:
    """Settings for a headless unit logging in as `target`, its data under tmp_path."""

    def make(target: MqttTarget, device_id: str | None = None, **sections: Any) -> DeviceSettings:
        device_id = device_id or target.username or "unit-x"
        data: dict[str, Any] = {
            "device": {"id": device_id, "data_dir": str(tmp_path / f"unit-{device_id}")},
            "mqtt": {"url": url_of(target)},
            "buttons": {"enabled": False},
            "screen": {"enabled": False},
        }
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        return DeviceSettings.from_mapping(data)

    return make


class ServerStub:
    """The server's side of the wire, just enough for device tests: it hears ratings and
    Status, acknowledges (unless told not to) and sends Config. Like the real server it answers
    every live online Status with an Ack carrying its `server_time` (the real clock), unless
    `answer_status` is False."""

    def __init__(
        self, target: MqttTarget, auto_ack: bool = True, answer_status: bool = True
    ) -> None:
        self.auto_ack = auto_ack
        self.answer_status = answer_status
        self.on_rating: Callable[[Rating], None] | None = None
        self.ratings: list[Rating] = []
        self.statuses: dict[str, Status] = {}
        self.status_log: list[Status] = []  # every Status heard, retained copies too
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = new_client(f"test-server-{uuid.uuid4().hex[:8]}", target)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect_async(target.host, target.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(DEADLINE_S):
            raise RuntimeError("the test server could not subscribe")

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        client.subscribe([(topic_filter("ratings"), 1), (topic_filter("status"), 1)])

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        device_id, kind = parse_topic(msg.topic)
        if kind == "status":
            if msg.payload:
                status = decode_status(bytes(msg.payload))
                with self._lock:
                    self.statuses[device_id] = status
                    self.status_log.append(status)
                if self.answer_status and status.state == "online" and not msg.retain:
                    ack = Ack(server_time=datetime.now(UTC))
                    self._client.publish(topic(device_id, "acks"), ack.to_payload(), qos=1)
            return
        rating = decode_rating(msg.topic, bytes(msg.payload))
        if self.on_rating:
            self.on_rating(rating)
        with self._lock:
            self.ratings.append(rating)
        if self.auto_ack:
            self.ack(rating)

    def ack(self, rating: Rating, rejected: str | None = None) -> None:
        if rejected:
            ack = Ack(rejected=[AckRejection(id=rating.id, error=rejected)])
        else:
            ack = Ack(accepted=[rating.id])
        self._client.publish(topic(rating.device_id, "acks"), ack.to_payload(), qos=1)

    def send_config(self, config: Config) -> None:
        info = self._client.publish(
            topic(config.device_id, "config"), config.to_payload(), qos=1, retain=True
        )
        info.wait_for_publish(DEADLINE_S)

    def ids(self) -> list[str]:
        with self._lock:
            return [r.id for r in self.ratings]

    def status_of(self, device_id: str) -> Status | None:
        with self._lock:
            return self.statuses.get(device_id)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def server(broker: Any) -> Iterator[ServerStub]:
    stub = ServerStub(broker.server_target)
    try:
        yield stub
    finally:
        stub.close()
