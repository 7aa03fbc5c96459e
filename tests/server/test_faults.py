"""The ingest under the faults of the field: SIGKILL mid-burst, a database outage, garbage on
the wire, and two processes sharing the load.

Real Mosquitto with dynamic security, real SQLite and PostgreSQL, `hailong server` as a real
child process. Devices publish with their own accounts (`mosquitto_pub -l`, or paho for bytes
that are not lines) and read their Acks as a unit does. Waits are conditions with generous
deadlines, never durations; a wait fails at once when a thread of the server dies.
"""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
import threading
import time
import uuid
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from devtools.postgres import PostgresServer
from hailong import protocol
from hailong.mqtt import MqttTarget, new_client
from server.broker.dynsec import DynSec
from server.broker.mosquitto import device_role
from server.storage.db import make_engine, migrate
from server.storage.models import Assignment, Counter, Device, Officer, RejectedMessage, Unit
from server.storage.models import Rating as StoredRating
from tests.conftest import Broker
from tests.server.server_process import ServerProcess

DEADLINE_S = 120.0
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
PAUSED = "database unavailable, ingest paused"
STALLED = (PAUSED, "ingest failed on a batch")  # what the log says when a batch is retried


def wait_until(
    condition: Callable[[], bool],
    what: str,
    servers: Sequence[ServerProcess] = (),
    timeout: float = DEADLINE_S,
    state: Callable[[], str] | None = None,
) -> None:
    """`state()` says where things stood if the wait times out (what is stored, what acked)."""
    deadline = time.monotonic() + timeout
    while not condition():
        for server in servers:
            assert not server.crashed(), f"the server crashed waiting for {what}:\n{server.tail()}"
        if time.monotonic() > deadline:
            tails = "\n".join(s.tail(15) for s in servers)
            where = f" ({state()})" if state is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{where}\n{tails}")
        time.sleep(0.05)


# --- the registry and the devices -----------------------------------------------------------


class DeviceLink:
    """One device's own MQTT account: reads the Acks sent to it and publishes raw bytes."""

    def __init__(self, target: MqttTarget, device_id: str) -> None:
        self.target = target
        self.device_id = device_id
        self.accepted: list[str] = []
        self.duplicate: list[str] = []
        self.acks: list[protocol.Ack] = []  # every Ack, as it came
        self.last_ack_at = 0.0
        self.acked_at: dict[str, float] = {}  # rating id -> when its first Ack came
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = new_client(device_id, target)
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect_async(target.host, target.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if not rc.is_failure:
            client.subscribe(protocol.topic(self.device_id, "acks"), qos=1)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        ack = protocol.decode_ack(bytes(msg.payload))
        with self._lock:
            self.acks.append(ack)
            self.accepted.extend(ack.accepted)
            self.duplicate.extend(ack.duplicate)
            self.last_ack_at = time.monotonic()
            for rid in (*ack.accepted, *ack.duplicate):
                self.acked_at.setdefault(rid, self.last_ack_at)

    def wait_ready(self) -> None:
        assert self._ready.wait(30), f"{self.device_id} could not subscribe to its acks"

    def acked(self) -> set[str]:
        """Ids the server has acknowledged as stored: accepted now, or a duplicate of before."""
        with self._lock:
            return {*self.accepted, *self.duplicate}

    def received(self) -> list[protocol.Ack]:
        with self._lock:
            return list(self.acks)

    def publish(
        self, kind: protocol.Kind, payload: bytes, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        topic = protocol.topic(self.device_id, kind)
        return self.client.publish(topic, payload, qos=1, retain=retain)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LinePublisher:
    """`mosquitto_pub -l -q 1` with a device's account: one rating a line, as fast as it goes."""

    def __init__(self, target: MqttTarget, device_id: str, payloads: list[bytes]) -> None:
        assert target.username and target.password
        self.proc = subprocess.Popen(
            [MOSQUITTO_PUB, "-h", target.host, "-p", str(target.port),
             "-u", target.username, "-P", target.password, "-i", f"pub-{device_id}",
             "-t", protocol.topic(device_id, "ratings"), "-q", "1", "-M", "100", "-l"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.errors = b""
        lines = b"".join(p + b"\n" for p in payloads)
        self._feeder = threading.Thread(target=self._feed, args=(lines,), daemon=True)
        self._feeder.start()

    def _feed(self, lines: bytes) -> None:
        self.errors = self.proc.communicate(lines)[1]

    def wait(self, timeout: float = DEADLINE_S) -> None:
        """Until every line is published and acknowledged by the broker."""
        self._feeder.join(timeout)
        if self._feeder.is_alive():
            self.proc.kill()
            raise AssertionError("mosquitto_pub did not finish")
        assert self.proc.returncode == 0, self.errors.decode(errors="replace")


SentRatings = dict[str, list[tuple[str, bytes]]]  # device id -> [(rating id, payload)]


class Fleet:
    """Devices at counters of one unit, each in the database and in the broker, with an officer
    assigned to every counter; every device's Acks are read from the start."""

    def __init__(self, broker: Broker, engine: Engine, count: int, *, since: datetime) -> None:
        self.broker = broker
        self.ids = [f"dev-{i:02d}" for i in range(1, count + 1)]
        with Session(engine) as session:
            session.add(Unit(id="DH", name="Phường Diên Hồng", kind="ward"))
            session.commit()
            for i in range(1, count + 1):
                session.add(Counter(id=f"DH-Q{i}", name=f"Quầy {i}", unit_id="DH"))
                session.add(Officer(id=f"CB-{i:04d}", name=f"Cán bộ {i}", unit_id="DH"))
            session.commit()
            for i, device_id in enumerate(self.ids, 1):
                counter_id, officer_id = f"DH-Q{i}", f"CB-{i:04d}"
                session.add(Device(id=device_id, counter_id=counter_id, created_at=since))
                session.add(Assignment(officer_id=officer_id, counter_id=counter_id, start=since))
            session.commit()
        with DynSec(broker.server_target) as dynsec:  # one connection for the whole fleet
            for device_id in self.ids:
                password = f"pw-{device_id}-secret"
                dynsec.put_device(device_id, password)
                # mosquitto_pub is each device's second connection here: a second account
                # with the device's role, bound to a client id of its own.
                dynsec.check(
                    {
                        "command": "createClient",
                        "username": f"{device_id}-pub",
                        "password": password,
                        "clientid": f"pub-{device_id}",
                        "roles": [{"rolename": device_role(device_id)}],
                    }
                )
        self.targets = {
            d: MqttTarget(broker.host, broker.port, d, f"pw-{d}-secret") for d in self.ids
        }
        self.publisher_targets = {
            d: replace(target, username=f"{d}-pub") for d, target in self.targets.items()
        }
        self.links = {d: DeviceLink(self.targets[d], d) for d in self.ids}
        for link in self.links.values():
            link.wait_ready()

    def ratings(
        self, per_device: int, *, first_seq: int = 1, age: timedelta = timedelta(0)
    ) -> SentRatings:
        sent: SentRatings = {}
        pressed_at = datetime.now(UTC) - age
        for i, device_id in enumerate(self.ids, 1):
            sent[device_id] = [
                rating(device_id, seq, pressed_at, officer_id=f"CB-{i:04d}", counter_id=f"DH-Q{i}")
                for seq in range(first_seq, first_seq + per_device)
            ]
        return sent

    def publish_lines(self, sent: SentRatings) -> list[LinePublisher]:
        return [
            LinePublisher(self.publisher_targets[d], d, [payload for _, payload in ratings])
            for d, ratings in sent.items()
        ]

    def acked(self) -> set[str]:
        return set().union(*(link.acked() for link in self.links.values()))

    def accepted(self) -> Tally[str]:
        return Tally(i for link in self.links.values() for i in list(link.accepted))

    def wait_acks_quiet(self, quiet_s: float = 1.0) -> None:
        """Until no Ack has arrived for `quiet_s`: those already on their way are in."""

        def quiet() -> bool:
            last = max(link.last_ack_at for link in self.links.values())
            return time.monotonic() - last > quiet_s

        wait_until(quiet, "the acks to settle", timeout=30)

    def assert_each_acked_to_its_device(self, sent: SentRatings) -> None:
        for device_id, ratings in sent.items():
            missing = {rid for rid, _ in ratings} - self.links[device_id].acked()
            assert not missing, f"{device_id}: {len(missing)} rating(s) never acknowledged"

    def close(self) -> None:
        for link in self.links.values():
            link.close()


def rating(device_id: str, seq: int, pressed_at: datetime, **extra: Any) -> tuple[str, bytes]:
    rid = str(uuid.uuid4())
    payload = protocol.Rating(
        id=rid, device_id=device_id, seq=seq, pressed_at=pressed_at, score=seq % 4 + 1, **extra
    ).to_payload()
    return rid, payload


def all_ids(sent: SentRatings) -> set[str]:
    return {rid for ratings in sent.values() for rid, _ in ratings}


def stored_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(StoredRating)).one()


def stored_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(StoredRating.id)).all())


def rejected_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(RejectedMessage)).one()


def assert_stored_exactly(engine: Engine, ids: set[str]) -> None:
    rows = stored_ids(engine)
    assert len(rows) == len(set(rows)), "a rating is stored twice"
    assert len(rows) == len(ids), f"{len(rows)} stored, {len(ids)} sent"
    assert set(rows) == ids


RECOUNT = text(
    "SELECT day, COALESCE(counter_id, ''), COALESCE(officer_id, ''), scale, score, COUNT(*)"
    " FROM rating GROUP BY 1, 2, 3, 4, 5"
)
ROLLED_UP = text("SELECT day, counter_id, officer_id, scale, score, n FROM rollup_day")
MONTHS_TOTAL = text("SELECT COALESCE(SUM(n), 0) FROM rollup_month")


def assert_rollups_agree(engine: Engine) -> None:
    """The counts kept in the ingest's transaction equal a recount of the stored ratings."""
    with engine.connect() as conn:
        recount = {tuple(row[:5]): row[5] for row in conn.execute(RECOUNT)}
        kept = {tuple(row[:5]): row[5] for row in conn.execute(ROLLED_UP)}
        months_total = conn.execute(MONTHS_TOTAL).scalar_one()
    assert kept == recount, "rollup_day differs from a recount of the ratings"
    assert months_total == sum(recount.values()), "rollup_month differs from the ratings"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


# --- SIGKILL mid-burst ----------------------------------------------------------------------


def test_server_sigkilled_mid_burst_stores_all_10000_and_acks_only_committed_ones(
    broker: Broker, database_url: str, engine: Engine
) -> None:
    fleet = Fleet(broker, engine, 20, since=an_hour_ago())
    server = ServerProcess(broker, database_url).start()
    try:
        sent = fleet.ratings(500)  # 20 units × 500: the kill lands mid-burst on 2 cores
        ids = all_ids(sent)
        publishers = fleet.publish_lines(sent)
        wait_until(
            lambda: stored_count(engine) >= 2000 and bool(fleet.acked()),
            "a fifth of the ratings stored and some acknowledged",
            [server],
        )
        server.kill()
        stored_at_kill = set(stored_ids(engine))
        assert len(stored_at_kill) < len(ids), "the kill came after the burst: nothing to test"
        fleet.wait_acks_quiet()
        acked = fleet.acked()
        early = acked - stored_at_kill
        assert not early, f"{len(early)} rating(s) acknowledged but not committed at the kill"

        server.start()  # the same MQTT client id: the broker kept its session and the rest
        for publisher in publishers:
            publisher.wait()
        wait_until(
            lambda: fleet.acked() >= ids,
            "every rating acknowledged",
            [server],
            state=lambda: (
                f"{stored_count(engine)} of {len(ids)} stored, {len(fleet.acked() & ids)} acked"
            ),
        )
        assert_stored_exactly(engine, ids)
        fleet.assert_each_acked_to_its_device(sent)
        twice = [i for i, n in fleet.accepted().items() if n > 1]
        assert not twice, f"{len(twice)} rating(s) accepted (stored as new) twice"
        assert_rollups_agree(engine)
    finally:
        server.stop()
        fleet.close()


# --- the database goes away -----------------------------------------------------------------


def test_database_outage_pauses_ingest_without_acks_and_resumes_losing_nothing(
    broker: Broker,
) -> None:
    pg = PostgresServer().start()  # its own cluster: the session's one serves other tests
    engine: Engine | None = None
    fleet: Fleet | None = None
    try:
        url = pg.create_database()
        engine = make_engine(url)
        migrate(engine)
        fleet = Fleet(broker, engine, 4, since=an_hour_ago())
        with ServerProcess(broker, url) as server:
            before = fleet.ratings(50)
            for publisher in fleet.publish_lines(before):
                publisher.wait()
            wait_until(lambda: fleet.acked() >= all_ids(before), "acks before the outage")

            engine.dispose()
            pg.stop()
            during = fleet.ratings(250, first_seq=51)
            for publisher in fleet.publish_lines(during):
                publisher.wait()  # the broker has them all
            wait_until(
                lambda: server.output.count(PAUSED) >= 2, "ingest to pause and retry", [server]
            )
            health = server.health()
            assert health is not None and health["database"] == "unavailable", health
            acked_down = fleet.acked() & all_ids(during)
            assert not acked_down, f"{len(acked_down)} acknowledged while the database was down"

            pg.start()
            ids = all_ids(before) | all_ids(during)
            wait_until(lambda: fleet.acked() >= ids, "every rating acknowledged", [server])
            assert_stored_exactly(engine, ids)
            fleet.assert_each_acked_to_its_device(during)
            accepted = fleet.accepted()
            assert set(accepted) == ids and set(accepted.values()) == {1}, "accepted once each"
            assert_rollups_agree(engine)
            assert server.health() == {"status": "ok", "database": "ok", "mqtt": "connected"}
    finally:
        if fleet is not None:
            fleet.close()
        if engine is not None:
            engine.dispose()
        pg.destroy()


# --- garbage on the wire --------------------------------------------------------------------


def valid_body(device_id: str) -> dict[str, Any]:
    return {
        "schema": 1,
        "id": str(uuid.uuid4()),
        "device_id": device_id,
        "seq": 1,
        "pressed_at": an_hour_ago().isoformat(),
        "score": 3,
    }


def with_field(device_id: str, name: str, value: Any) -> bytes:
    return json.dumps({**valid_body(device_id), name: value}).encode()


WRONG_TYPES: list[tuple[str, Any]] = [
    ("schema", "1"), ("id", 12345), ("id", None), ("device_id", 7), ("seq", "1"), ("seq", 1.5),
    ("seq", True), ("seq", None), ("pressed_at", 1763770000), ("pressed_at", None),
    ("pressed_at", "yesterday"), ("pressed_at", "2026-11-22"), ("score", "4"), ("score", 4.0),
    ("score", True), ("score", None), ("score", [4]), ("scale", 4), ("scale", "vn5"),
    ("officer_id", 42), ("officer_id", ["CB-0001"]), ("counter_id", {}), ("ticket", 123),
    ("reasons", "wait_time"), ("reasons", [1]), ("reasons", {"wait_time": True}),
    ("comment", 5), ("comment", ["x"]), ("input", 3), ("clock_synced", "yes"),
    ("clock_synced", 1), ("clock_synced", None),
]  # fmt: skip
BROKEN_RULES: list[tuple[str, Any]] = [
    ("device_id", "dev-someone-else"), ("score", 0), ("score", 5), ("score", -3), ("seq", 0),
    ("seq", -5), ("id", "not-a-uuid"), ("officer_id", "a/b"), ("counter_id", "Quầy 1"),
    ("reasons", ["not_a_reason"]), ("input", "voice"), ("pressed_at", "2026-11-22T08:00:00"),
    ("pressed_at", "2026-11-22T25:00:00+07:00"),
]  # fmt: skip
REQUIRED = ("schema", "id", "device_id", "seq", "pressed_at", "score")


def garbage(rng: random.Random, device_id: str, kind: int) -> tuple[protocol.Kind, bytes]:
    """One message the contract rejects, of the `kind`-th sort."""
    body = valid_body(device_id)
    encoded = json.dumps(body).encode()
    if kind == 0:  # random bytes, empty included
        return "ratings", rng.randbytes(rng.randrange(0, 4000))
    if kind == 1:  # random text
        return "ratings", "".join(rng.choices(string.printable, k=rng.randrange(1, 400))).encode()
    if kind == 2:  # a rating cut short
        return "ratings", encoded[: rng.randrange(1, len(encoded) - 1)]
    if kind == 3:  # JSON that is not an object
        return "ratings", json.dumps(rng.choice([[], [body], 42, "rating", None, True])).encode()
    if kind == 4:
        return "ratings", with_field(device_id, *rng.choice(WRONG_TYPES))
    if kind == 5:  # a required field missing
        del body[rng.choice(REQUIRED)]
        return "ratings", json.dumps(body).encode()
    if kind == 6:
        return "ratings", with_field(device_id, "schema", rng.choice([2, 0, -1, 99, 1.5, None]))
    if kind == 7:  # strings past their limits, payload still under the broker's 16 KiB
        name, value = rng.choice(
            [
                ("comment", "Chờ lâu quá! " * rng.randrange(40, 500)),
                ("ticket", "T" * rng.randrange(65, 10000)),
                ("officer_id", "o" * rng.randrange(65, 10000)),
                ("id", "u" * rng.randrange(37, 10000)),
                ("reasons", ["wait_time"] * 33),
            ]
        )
        return "ratings", with_field(device_id, name, value)
    if kind == 8:
        return "ratings", with_field(device_id, *rng.choice(BROKEN_RULES))
    if kind == 9:  # on a scale it does not fit (a time ahead is stored, flagged time_unknown)
        return "ratings", json.dumps({**body, "scale": "vn3", "score": 4}).encode()
    if kind == 10:  # a status that breaks the contract
        return "status", rng.choice(
            [b"", b"online", b'{"schema": 1}', b'{"schema":1,"state":"sleeping"}', encoded]
        )
    # JSON that trips parsers: deep nesting, an endless number, a BOM, invalid UTF-8 inside a
    # string, NaN, a repeated key, a lone surrogate or a NUL in the id of a broken rating.
    return "ratings", rng.choice(
        [
            b"[" * 3000 + b"]" * 3000,
            b'{"a":' * 2000 + b"1" + b"}" * 2000,
            b'{"schema":1,"seq":' + b"9" * 5000 + b"}",
            b"\xef\xbb\xbf" + encoded,
            encoded[:-1] + b',"comment":"\xc3\x28"}',
            encoded[:-1] + b',"score":NaN}',
            encoded[:-1] + b',"score":9}',
            b'{"schema":1,"id":"\\ud800"}',
            b'{"schema":1,"id":"a\\u0000b"}',
        ]
    )


GARBAGE_KINDS = 12


def test_10000_malformed_messages_are_kept_and_the_1000_ratings_among_them_stored(
    broker: Broker, database_url: str, engine: Engine
) -> None:
    fleet = Fleet(broker, engine, 4, since=an_hour_ago())
    ghost = DeviceLink(broker.add_device("dev-ghost", "pw-ghost-secret"), "dev-ghost")
    ghost.wait_ready()  # in the broker, but not in the registry: its ratings are rejected
    rng = random.Random(20261122)
    links = [*fleet.links.values(), ghost]
    messages: list[tuple[DeviceLink, protocol.Kind, bytes]] = []
    for n in range(10_000):
        link = rng.choice(links)
        if link is ghost and n % 2:
            messages.append((ghost, "ratings", rating("dev-ghost", n + 1, an_hour_ago())[1]))
        else:
            messages.append((link, *garbage(rng, link.device_id, n % GARBAGE_KINDS)))
    assert all(len(payload) < 16_000 for _, _, payload in messages)
    sent = fleet.ratings(250)
    order = [
        *messages,
        *((fleet.links[d], "ratings", p) for d, ratings in sent.items() for _, p in ratings),
    ]
    rng.shuffle(order)

    keep_all = {"HAILONG_REJECTED_PER_DEVICE": "100000"}  # every one is checked below
    server = ServerProcess(broker, database_url, env=keep_all).start()
    try:
        infos = [link.publish(kind, payload) for link, kind, payload in order]
        for info in infos:
            info.wait_for_publish(DEADLINE_S)

        def all_handled() -> bool:
            stalled = any(text in server.output for text in STALLED)
            assert not stalled, f"a batch is retried with the database up:\n{server.tail()}"
            return stored_count(engine) + rejected_count(engine) >= len(order)

        wait_until(all_handled, "every message stored or rejected", [server])
        counts = stored_count(engine), rejected_count(engine)
        assert counts == (1000, 10_000), f"(stored, rejected) = {counts}:\n{server.tail()}"
        wait_until(lambda: fleet.acked() >= all_ids(sent), "the ratings' acks", [server])
        with Session(engine) as session:
            kept = session.exec(select(RejectedMessage.topic, RejectedMessage.payload)).all()
        expected = Tally((protocol.topic(link.device_id, kind), p) for link, kind, p in messages)
        assert Tally((topic, bytes(payload)) for topic, payload in kept) == expected

        assert server.health() == {"status": "ok", "database": "ok", "mqtt": "connected"}
        rid, payload = rating("dev-01", 10_001, an_hour_ago())
        fleet.links["dev-01"].publish("ratings", payload).wait_for_publish(DEADLINE_S)
        wait_until(lambda: rid in fleet.links["dev-01"].acked(), "the next rating's ack", [server])
        assert rid in stored_ids(engine)
    finally:
        server.stop()
        ghost.close()
        fleet.close()


# --- two processes share the load -----------------------------------------------------------


def test_two_ingest_processes_on_a_shared_subscription_store_every_rating_once(
    broker: Broker, database_url: str, engine: Engine
) -> None:
    """The second process dates ratings older than a week by their receipt and flags them
    time_unknown (HAILONG_MAX_RATING_AGE_DAYS=7), so the flag on a row says which process
    stored it."""
    fleet = Fleet(broker, engine, 10, since=datetime.now(UTC) - timedelta(days=90))
    first = ServerProcess(broker, database_url, client_id="hailong-a", shared_group="hailong")
    second = ServerProcess(
        broker,
        database_url,
        client_id="hailong-b",
        shared_group="hailong",
        env={"HAILONG_MAX_RATING_AGE_DAYS": "7"},
    )
    try:
        for server in (first.launch(), second.launch()):
            server.wait_ready()
        sent = fleet.ratings(600, age=timedelta(days=30))
        ids = all_ids(sent)
        for publisher in fleet.publish_lines(sent):
            publisher.wait()
        wait_until(
            lambda: stored_count(engine) > 0,
            "a first rating stored: did the broker refuse the shared subscription?",
            [first, second],
            timeout=30,
        )
        wait_until(lambda: fleet.acked() >= ids, "every rating acknowledged", [first, second])
        assert_stored_exactly(engine, ids)
        accepted = fleet.accepted()
        assert set(accepted) == ids and set(accepted.values()) == {1}, "accepted once each"
        with Session(engine) as session:
            by_second = session.exec(
                select(func.count())
                .select_from(StoredRating)
                .where(col(StoredRating.flags).contains("time_unknown"))
            ).one()
        assert 0 < by_second < len(ids), f"one process stored {len(ids) - by_second} of {len(ids)}"
        assert_rollups_agree(engine)
    finally:
        first.stop()
        second.stop()
        fleet.close()


# --- one device floods ----------------------------------------------------------------------

FLOOD = 40_000
FAIR_ACK_S = 15.0  # generous: the figure is a few seconds; one commit queue made it ~50 s


def test_a_flooding_device_delays_another_devices_acks_by_seconds_and_loses_nothing(
    broker: Broker, tmp_path: Path
) -> None:
    """One unit publishes 40,000 ratings as fast as it can while another sends one a second:
    the other's Acks come within seconds (the flood is spooled, server/ingest/spool.py), and every
    rating of both is stored once and acknowledged. Besides a generous bound in seconds, the
    other's longest wait is compared with the time the flood took to be acknowledged, which
    slows down with the machine just as much: queued behind the flood, it was all of it."""
    url = f"sqlite:///{tmp_path / 'hailong.db'}"
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    fleet = Fleet(broker, engine, 2, since=now - timedelta(days=7))
    flooder, steady = fleet.links["dev-01"], fleet.links["dev-02"]
    server = ServerProcess(broker, url).start()
    try:
        flood = [  # presses 5 s apart, as a unit's backlog would be
            rating("dev-01", seq, now - timedelta(seconds=5 * (FLOOD - seq)), officer_id="CB-0001")
            for seq in range(1, FLOOD + 1)
        ]
        sent_at: dict[str, float] = {}
        stop = threading.Event()

        def one_a_second() -> None:
            seq = 1
            while not stop.wait(1.0):
                rid, payload = rating("dev-02", seq, datetime.now(UTC), officer_id="CB-0002")
                steady.publish("ratings", payload).wait_for_publish(DEADLINE_S)
                sent_at[rid] = time.monotonic()  # the broker has it from here
                seq += 1

        ticker = threading.Thread(target=one_a_second, daemon=True)
        ticker.start()
        flood_start = time.monotonic()
        publisher = LinePublisher(
            fleet.publisher_targets["dev-01"], "dev-01", [p for _, p in flood]
        )
        flood_ids = {rid for rid, _ in flood}
        try:
            publisher.wait()
            wait_until(lambda: flooder.acked() >= flood_ids, "the flood's acks", [server])
        finally:
            stop.set()
            ticker.join(10)
        steady_ids = set(sent_at)
        wait_until(lambda: steady.acked() >= steady_ids, "the steady device's acks", [server])
        flood_s = max(flooder.acked_at[rid] for rid in flood_ids) - flood_start
        delays = sorted(steady.acked_at[rid] - at for rid, at in sent_at.items())
        assert len(delays) >= 5, f"only {len(delays)} steady ratings during the flood"
        figures = (
            f"the other device's Acks waited up to {delays[-1]:.1f} s (median "
            f"{delays[len(delays) // 2]:.1f} s) while the flood took {flood_s:.1f} s"
        )
        assert delays[-1] < FAIR_ACK_S, figures
        assert delays[-1] < flood_s / 2, figures
        assert_stored_exactly(engine, flood_ids | steady_ids)
        accepted = fleet.accepted()
        assert set(accepted.values()) == {1}, "a rating accepted twice"
        assert_rollups_agree(engine)
    finally:
        server.stop()
        fleet.close()
        engine.dispose()
