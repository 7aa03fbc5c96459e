"""The unit under the faults of the field: broker outages, SIGKILL, power loss mid-burst.

Real Mosquitto, real SQLite, real processes; a unit that must die runs in a child process so it
can be SIGKILLed. Waits are conditions with generous deadlines, never durations.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.clock import ManualClock
from device.outbox import Outbox
from device.settings import DeviceSettings
from device.unit import DEFAULT_COOLDOWN_S, Unit
from hailong.mqtt import MqttTarget, new_client
from hailong.protocol import Ack, decode_rating, topic, topic_filter
from server.broker.mosquitto import free_port
from tests.child import Child
from tests.conftest import Broker
from tests.device.conftest import DEADLINE_S, ServerStub, wait_until

ROOT = Path(__file__).resolve().parents[2]


class SessionServer:
    """A stand-in server with a persistent session, as the real ingest has: the broker keeps
    what arrives while it is away, even across a broker restart, so it sees every publish in
    the order the unit made it. It records every delivery and acknowledges each."""

    def __init__(self, target: MqttTarget) -> None:
        self.deliveries: list[tuple[str, int]] = []  # (rating id, seq), duplicates included
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = new_client(f"test-session-{uuid.uuid4().hex[:8]}", target)
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self._client.connect_async(
            target.host, target.port, keepalive=30, clean_start=False, properties=props
        )
        self._client.loop_start()
        if not self._subscribed.wait(DEADLINE_S):
            raise RuntimeError("the test server could not subscribe")

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        client.subscribe(topic_filter("ratings"), qos=1)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        rating = decode_rating(msg.topic, bytes(msg.payload))
        with self._lock:
            self.deliveries.append((rating.id, rating.seq))
        ack = Ack(accepted=[rating.id])
        self._client.publish(topic(rating.device_id, "acks"), ack.to_payload(), qos=1)

    def first_deliveries(self) -> list[tuple[str, int]]:
        seen: set[str] = set()
        first = []
        with self._lock:
            for rating_id, seq in self.deliveries:
                if rating_id not in seen:
                    seen.add(rating_id)
                    first.append((rating_id, seq))
        return first

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def test_a_broker_outage_during_1000_presses_loses_and_reorders_nothing(
    broker: Broker,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
) -> None:
    server = SessionServer(broker.server_target)
    unit = Unit(make_settings(broker.add_device("unit-outage")), clock)
    unit.start()
    try:
        assert wait_until(lambda: unit.link.connected), "the unit never connected"
        broker.process.stop()
        assert wait_until(lambda: not unit.link.connected), "the unit did not see the outage"
        made = []
        for n in range(1000):
            clock.advance(DEFAULT_COOLDOWN_S)
            rating = unit.press(n % 4 + 1)
            assert rating is not None
            made.append((rating.id, rating.seq))
        assert unit.outbox.count() == 1000
        broker.process.start()
        assert wait_until(lambda: unit.outbox.count() == 0), (
            f"{unit.outbox.count()} ratings still wait; broker log:\n{broker.process.log_tail()}"
        )
    finally:
        unit.stop()
        server.close()
    assert [seq for _, seq in made] == list(range(1, 1001))
    assert server.first_deliveries() == made, "each rating arrives, first in the order of seq"


# --- a unit in a child process, so that it can be killed ------------------------------------

CHILD = r"""
import json, sys, threading
from datetime import datetime, timedelta, timezone
from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import DEFAULT_COOLDOWN_S, Unit

settings = DeviceSettings.from_mapping(json.loads(sys.argv[1]))
presses, then = int(sys.argv[2]), sys.argv[3]
clock = ManualClock(datetime.now(timezone(timedelta(hours=7))))
unit = Unit(settings, clock)
unit.start()
def say(line):  # one write per line, so that nothing can come between its text and its end
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

say("started")
n = 0
while presses < 0 or n < presses:
    clock.advance(DEFAULT_COOLDOWN_S)
    rating = unit.press(n % 4 + 1)
    say(f"stored {rating.seq} {rating.id}")  # Unit.press returned: it is durable
    n += 1
if then == "drain":
    drained = unit.outbox.wait_empty(float(sys.argv[4]))
    say(f"{'drained' if drained else 'not drained'} {unit.outbox.count()}")
    unit.stop()
else:
    say("holding")
    threading.Event().wait()
"""
STORED = re.compile(r"^stored (\d+) (\S+)\n$")


class UnitProcess(Child):
    """`CHILD` running one unit: `presses` presses (-1: until killed), then hold or drain."""

    def __init__(self, settings: DeviceSettings, presses: int, then: str) -> None:
        data = settings.model_dump(mode="json")
        super().__init__(
            [sys.executable, "-c", CHILD, json.dumps(data), str(presses), then, str(DEADLINE_S)],
            merge_stderr=False,  # the unit's log, kept apart from the lines read
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT)},
        )

    def wait_for_line(self, text: str) -> None:
        self.wait(lambda lines: any(line.startswith(text) for line in lines), repr(text))

    def stored(self) -> list[tuple[int, str]]:
        """(seq, id) of every press the unit reported durable, in order."""
        found = [STORED.match(line) for line in self.snapshot()]
        return [(int(m[1]), m[2]) for m in found if m]


@pytest.fixture
def unit_processes() -> Iterator[Callable[[DeviceSettings, int, str], UnitProcess]]:
    started: list[UnitProcess] = []

    def start(settings: DeviceSettings, presses: int, then: str) -> UnitProcess:
        child = UnitProcess(settings, presses, then)
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()


def unreachable(target: MqttTarget) -> MqttTarget:
    """The same login at a port where nothing listens: the unit stores and cannot publish."""
    return MqttTarget(target.host, free_port(), target.username, target.password)


def read_outbox(settings: DeviceSettings) -> tuple[int, list[tuple[int, str]]]:
    outbox = Outbox(settings.outbox_path, settings.device.id)
    try:
        return outbox.last_seq(), [(e.seq, e.id) for e in outbox.pending(limit=1_000_000)]
    finally:
        outbox.close()


def test_a_rating_stored_before_a_sigkill_is_published_by_the_next_process(
    broker: Broker,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    unit_processes: Callable[[DeviceSettings, int, str], UnitProcess],
) -> None:
    target = broker.add_device("unit-killed")
    first = unit_processes(make_settings(unreachable(target)), 1, "hold")
    first.wait_for_line("holding")
    [(seq, rating_id)] = first.stored()
    first.kill()
    assert first.proc.returncode == -9
    assert server.ids() == [], "nothing could have been published"

    settings = make_settings(target)
    second = unit_processes(settings, 0, "drain")
    second.wait_for_line("drained 0")
    assert second.proc.wait(timeout=DEADLINE_S) == 0
    assert [(r.id, r.seq) for r in server.ratings] == [(rating_id, seq)]
    assert seq == 1
    assert read_outbox(settings) == (1, [])


def test_power_loss_in_a_burst_keeps_seq_gapless_and_delivers_every_stored_rating(
    broker: Broker,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    unit_processes: Callable[[DeviceSettings, int, str], UnitProcess],
) -> None:
    target = broker.add_device("unit-burst")
    burst = unit_processes(make_settings(unreachable(target)), -1, "hold")
    burst.wait(lambda lines: len(lines) > 300, "300 presses")
    burst.kill()  # while it presses: the power goes

    settings = make_settings(target)
    last, stored = read_outbox(settings)
    reported = burst.stored()
    assert [seq for seq, _ in stored] == list(range(1, last + 1)), "no gap, no seq used twice"
    assert stored[: len(reported)] == reported, "every press reported durable is there, unchanged"
    assert last - len(reported) in (0, 1), "at most the press cut short is stored unreported"

    again = unit_processes(settings, 5, "drain")
    again.wait_for_line("drained 0")
    assert again.proc.wait(timeout=DEADLINE_S) == 0
    after = again.stored()
    assert [seq for seq, _ in after] == list(range(last + 1, last + 6)), "seq goes on"
    assert wait_until(lambda: len(set(server.ids())) == last + 5)
    assert set(server.ids()) == {rating_id for _, rating_id in stored + after}
    assert read_outbox(settings) == (last + 5, [])
