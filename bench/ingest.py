"""How fast the server stores ratings, on this machine: `python bench/ingest.py [--quick]`.

End-to-end throughput from a QoS 1 publish to the committed row and the device receiving its Ack,
for (c) the server's IngestService with the default batch settings, against, in the same run and
through the same Mosquitto, (a) the ceiling: a bare paho subscriber (MQTT 5, as the server) that
only json-parses and counts the same messages, and (b) the naive baseline: IngestService itself
with `batch_size=1`, so the same rules run with one transaction, one commit and one Ack per
rating. (b) runs fewer ratings, as it is slow; the figure is per second. (a) is timed right
before (c), as the machine's load drifts.

Twenty registered devices publish pre-generated ratings (fresh ids every run) with
`mosquitto_pub -l -q 1`, all in parallel, so the publisher is never the bottleneck; (b) and (c)
end when the last Ack has reached the devices' own subscribers (in this process: a few per cent
of its CPU). Each of (b) and (c) gets a fresh database, on SQLite and then on a throwaway
PostgreSQL. (e), on SQLite, is fairness: one device publishes a flood as fast as it can while
the other devices send a rating each in turn, five a second in all; it reports those ratings'
Ack delays (from the broker having the rating to its Ack reaching the device) until the whole
flood is acknowledged. It reports; it asserts nothing. Progress goes to stderr; the last line is
key=value figures for scripts.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as paho  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from devtools.bench import (  # noqa: E402
    add_devices,
    mosquitto,
    postgres,
    print_figures,
    print_table,
    say,
    scratch,
    verdict,
)
from hailong.mqtt import MqttTarget, new_client  # noqa: E402
from hailong.protocol import Status, decode_rating, topic, topic_filter  # noqa: E402
from server.broker.client_ids import TOKEN_FILE, ServerClientIds, ensure_token  # noqa: E402
from server.broker.mosquitto import device_role  # noqa: E402
from server.ingest.service import IngestService  # noqa: E402
from server.ingest.store import IngestRules  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage.db import make_engine, migrate  # noqa: E402
from server.storage.models import Assignment, Counter, Device, Officer, Unit  # noqa: E402
from server.storage.models import Rating as StoredRating  # noqa: E402
from server.timeutil import VN_TZ  # noqa: E402

GOAL_CEILING = 0.9  # ≥ 0.9 × the bare subscriber
GOAL_NAIVE = 10.0  # ≥ 10 × one commit per rating
UNITS = 4
COUNTERS_PER_UNIT = 5  # one device per counter: 20 devices
SCALED = 2  # (d): `hailong ingest` processes sharing the ratings, as a province runs them
STALL_S = 60.0  # a phase that makes no progress for this long has failed
PROGRESS_EVERY_S = 2.0
STEADY_EVERY_S = 0.2  # (e): one rating of a device other than the flooder, every 0.2 s
# (e): mosquitto_pub -l stops at the end of its input once the PUBACK of the last message's id
# comes, and ids wrap at 65,535: one publisher of more would stop early, its rest never sent.
FLOOD_MAX = 60_000
REASON_CODES = ("wait_time", "attitude", "guidance", "paperwork", "late_result", "facilities")


# --- the fleet: registry rows and broker accounts --------------------------------------------


@dataclass
class FleetDevice:
    id: str
    unit_id: str
    counter_id: str
    officer_id: str
    password: str
    seq: int = 0  # the last seq used: it keeps increasing across the phases, as on a unit

    def target(self, broker: MqttTarget) -> MqttTarget:
        return MqttTarget(broker.host, broker.port, self.id, self.password)


def make_fleet() -> list[FleetDevice]:
    return [
        FleetDevice(
            id=f"bench-u{u}-q{c}",
            unit_id=f"U{u}",
            counter_id=f"U{u}-Q{c}",
            officer_id=f"CB-{u}{c:03d}",
            password=uuid.uuid4().hex,
        )
        for u in range(1, UNITS + 1)
        for c in range(1, COUNTERS_PER_UNIT + 1)
    ]


def register(engine: Engine, fleet: list[FleetDevice]) -> None:
    """Units, counters, officers, a closed and an open assignment per counter, and the devices."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        for u in range(1, UNITS + 1):
            session.add(Unit(id=f"U{u}", name=f"Phường {u}", kind="ward", province="Hà Nội"))
        session.commit()
        for d in fleet:
            session.add(Counter(id=d.counter_id, name=f"Quầy {d.counter_id}", unit_id=d.unit_id))
            session.add(Officer(id=d.officer_id, name=f"Cán bộ {d.officer_id}", unit_id=d.unit_id))
            session.add(Officer(id=f"{d.officer_id}-old", name="Cán bộ cũ", unit_id=d.unit_id))
        session.commit()
        for d in fleet:
            shift = now - timedelta(days=30)
            session.add(Device(id=d.id, counter_id=d.counter_id, created_at=now))
            session.add(
                Assignment(
                    officer_id=f"{d.officer_id}-old",
                    counter_id=d.counter_id,
                    start=shift - timedelta(days=90),
                    end=shift,
                )
            )
            session.add(Assignment(officer_id=d.officer_id, counter_id=d.counter_id, start=shift))
        session.commit()


def stored_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(StoredRating)).one())


# --- ratings on disk, published by a C client ------------------------------------------------


def press_times(rng: random.Random, now: datetime, count: int) -> list[datetime]:
    """`count` presses of one unit, oldest first, ending a minute ago: 4 to 40 s apart, as
    citizens press (a unit ignores presses inside its 3 s cooldown), so the misuse rules see
    what they would see in the field rather than a flood they would flag whole."""
    times, at = [], now - timedelta(minutes=1)
    for _ in range(count):
        times.append(at)
        at -= timedelta(milliseconds=rng.randrange(4_000, 40_000))
    return times[::-1]


def rating_line(device: FleetDevice, rng: random.Random, pressed: datetime) -> str:
    """One Rating as a unit sends it, on one line."""
    device.seq += 1
    score = rng.choices((1, 2, 3, 4), weights=(5, 10, 45, 40))[0]
    body: dict[str, Any] = {
        "schema": 1,
        "id": str(uuid.uuid4()),
        "device_id": device.id,
        "seq": device.seq,
        "pressed_at": pressed.astimezone(VN_TZ).isoformat(timespec="milliseconds"),
        "score": score,
        "scale": "vn4",
        "officer_id": device.officer_id,
        "counter_id": device.counter_id,
        "ticket": f"{device.counter_id}-{device.seq:05d}" if rng.random() < 0.5 else None,
        "reasons": [rng.choice(REASON_CODES)] if score == 1 else [],
        "comment": "Chờ hơi lâu" if score == 1 and rng.random() < 0.3 else None,
        "input": "button",
        "clock_synced": True,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def write_ratings(folder: Path, fleet: list[FleetDevice], total: int) -> dict[str, Path]:
    """`total` ratings split over the fleet, one file per device; each file's first is checked."""
    folder.mkdir(parents=True)
    rng, now = random.Random(), datetime.now(UTC)
    files = {}
    for i, device in enumerate(fleet):
        count = total // len(fleet) + (1 if i < total % len(fleet) else 0)
        lines = [rating_line(device, rng, at) for at in press_times(rng, now, count)]
        decode_rating(topic(device.id, "ratings"), lines[0].encode())
        files[device.id] = folder / f"{device.id}.jsonl"
        files[device.id].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files


def publish(
    broker: MqttTarget, fleet: list[FleetDevice], files: dict[str, Path]
) -> list[subprocess.Popen[bytes]]:
    """Every device's file at once, each with its own account (the ACL is per device)."""
    procs = []
    for device in fleet:
        with files[device.id].open("rb") as lines:
            procs.append(
                subprocess.Popen(
                    [
                        "mosquitto_pub",
                        *("-h", broker.host, "-p", str(broker.port), "-V", "mqttv5"),
                        *("-u", f"{device.id}-pub", "-P", device.password),
                        *("-i", f"pub-{device.id}"),
                        *("-q", "1", "-t", topic(device.id, "ratings"), "-l"),
                    ],
                    stdin=lines,
                    stderr=subprocess.PIPE,
                )
            )
    return procs


def finish(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=STALL_S)
        if proc.returncode != 0:
            raise RuntimeError(f"mosquitto_pub failed ({proc.returncode}): {err.decode().strip()}")


# --- the device side: every device's Acks -----------------------------------------------------


class AckListener:
    """One MQTT 5 subscriber per device, as the units: counts the rating ids the Acks name."""

    def __init__(self, broker: MqttTarget, fleet: list[FleetDevice]) -> None:
        self._lock = threading.Lock()
        self.expected = 0
        self.named = 0
        self.done = threading.Event()
        self.done_at = 0.0
        self._acked_at: dict[str, float] = {}  # rating id → when its first Ack came
        self.clients: dict[str, paho.Client] = {}
        subscribed = []
        for device in fleet:
            client = new_client(device.id, device.target(broker))  # bound to its own id
            ready = threading.Event()
            acks = topic(device.id, "acks")
            client.on_connect = lambda c, *_, t=acks: c.subscribe(t, qos=1)
            client.on_subscribe = lambda *_, e=ready: e.set()
            client.on_message = self._on_message
            client.connect_async(broker.host, broker.port)
            client.loop_start()
            self.clients[device.id] = client
            subscribed.append(ready)
        for ready in subscribed:
            if not ready.wait(STALL_S):
                self.close()
                raise RuntimeError("a device could not subscribe to its acks")

    def acked_at(self) -> dict[str, float]:
        with self._lock:
            return dict(self._acked_at)

    def expect(self, count: int) -> None:
        with self._lock:
            self.expected, self.named = count, 0
            self.done.clear()

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        ack = json.loads(msg.payload)
        at = time.perf_counter()
        with self._lock:
            self.named += len(ack["accepted"]) + len(ack["duplicate"]) + len(ack["rejected"])
            for rid in (*ack["accepted"], *ack["duplicate"]):
                self._acked_at.setdefault(rid, at)
            if self.named >= self.expected and not self.done.is_set():
                self.done_at = time.perf_counter()
                self.done.set()

    def send_status(self, device: FleetDevice) -> None:
        status = Status(
            state="online", firmware="bench", outbox=0, uptime_s=1, at=datetime.now(UTC)
        )
        self.clients[device.id].publish(topic(device.id, "status"), status.to_payload(), qos=1)

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()


# --- the phases -------------------------------------------------------------------------------


@dataclass
class Run:
    mode: str
    database: str
    messages: int
    seconds: float
    rows: int | None = None

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds


def wait_for(done: threading.Event, progress: Callable[[], int], total: int, what: str) -> None:
    """Block until `done`, showing progress on stderr; fail if nothing moves for STALL_S."""
    last, last_change, last_shown = -1, time.monotonic(), time.monotonic()
    while not done.wait(0.1):
        now, count = time.monotonic(), progress()
        if count != last:
            last, last_change = count, now
        elif now - last_change > STALL_S:
            raise RuntimeError(f"{what}: stuck at {count:,} of {total:,}")
        if now - last_shown >= PROGRESS_EVERY_S:
            say(f"    {what}: {count:,} / {total:,}")
            last_shown = now


def ceiling(broker: MqttTarget, fleet: list[FleetDevice], files: dict[str, Path], n: int) -> float:
    """(a) Seconds from the first publish until a bare subscriber has parsed all `n` ratings."""
    count, done, ready = 0, threading.Event(), threading.Event()
    finished_at = 0.0

    def on_message(_c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        nonlocal count, finished_at
        json.loads(msg.payload)
        count += 1
        if count == n:
            finished_at = time.perf_counter()
            done.set()

    client = new_client(f"bench-ceiling-{uuid.uuid4().hex[:8]}", broker)
    client.on_connect = lambda c, *_: c.subscribe(topic_filter("ratings"), qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = on_message
    client.connect_async(broker.host, broker.port)
    client.loop_start()
    try:
        if not ready.wait(STALL_S):
            raise RuntimeError("the bare subscriber could not subscribe")
        start = time.perf_counter()
        procs = publish(broker, fleet, files)
        wait_for(done, lambda: count, n, "bare subscriber")
        finish(procs)
    finally:
        client.disconnect()
        client.loop_stop()
    return finished_at - start


def forget_session(broker: MqttTarget, client_id: str) -> None:
    """Drop a stopped service's persistent session, or the broker queues every later rating."""
    client = new_client(client_id, broker)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect_async(broker.host, broker.port, clean_start=True)
    client.loop_start()
    try:
        if not connected.wait(STALL_S):
            raise RuntimeError(f"could not reconnect as {client_id} to drop its session")
    finally:
        client.disconnect()
        client.loop_stop()


@contextmanager
def running_service(
    engine: Engine,
    broker: MqttTarget,
    listener: AckListener,
    fleet: list[FleetDevice],
    batch_size: int,
    batch_ms: int,
) -> Iterator[IngestService]:
    """An IngestService that provably receives: the fleet's Status reached it before we go on."""
    client_id = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    rules = IngestRules(chain_key=secrets.token_bytes(32))  # a throwaway database's chain
    service = IngestService(
        engine,
        broker,
        rules=rules,
        client_id=client_id,
        batch_size=batch_size,
        batch_ms=batch_ms,
    ).start()
    try:
        if not service.connected.wait(STALL_S):
            raise RuntimeError("the ingest service could not connect")
        deadline = time.monotonic() + STALL_S
        while service.totals.statuses == 0:  # subscribed only once a Status comes through
            if time.monotonic() > deadline:
                raise RuntimeError("the ingest service receives nothing")
            for device in fleet:
                listener.send_status(device)
            time.sleep(0.2)
        time.sleep(0.3)  # let the last Status messages and the first Config refresh pass
        yield service
    finally:
        service.stop()
        forget_session(broker, client_id)


def ingest(
    engine: Engine,
    broker: MqttTarget,
    fleet: list[FleetDevice],
    files: dict[str, Path],
    n: int,
    what: str,
    batch_size: int,
    batch_ms: int,
) -> tuple[float, int]:
    """(b), (c): seconds from the first publish until every Ack is in; and the rows stored."""
    listener = AckListener(broker, fleet)
    try:
        with running_service(engine, broker, listener, fleet, batch_size, batch_ms) as service:
            listener.expect(n)
            start = time.perf_counter()
            procs = publish(broker, fleet, files)
            wait_for(listener.done, lambda: listener.named, n, what)
            finish(procs)
            totals = service.totals
    finally:
        listener.close()
    if (totals.stored, totals.duplicates, totals.rejected) != (n, 0, 0):
        say(
            f"    {what}: stored {totals.stored}, duplicates {totals.duplicates}, "
            f"rejected {totals.rejected} of {n}"
        )
    return listener.done_at - start, stored_rows(engine)


@contextmanager
def ingest_processes(url: str, broker: MqttTarget, count: int, folder: Path) -> Iterator[None]:
    """`count` real `hailong ingest` processes on one shared subscription, as in a province."""
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    suffixes = [f"bench-scaled-{i}-{uuid.uuid4().hex[:6]}" for i in range(count)]
    token = ensure_token(folder / TOKEN_FILE)  # the processes' HAILONG_DATA_DIR is `folder`
    client_ids = [ServerClientIds(token, suffix).ingest for suffix in suffixes]
    server_url = f"mqtt://{broker.username}:{broker.password}@{broker.host}:{broker.port}"
    try:
        for suffix in suffixes:
            log_path = folder / f"{suffix}.log"
            logs.append(log_path)
            env = {
                "PATH": "/usr/bin:/bin",
                "HAILONG_DATABASE_URL": url,
                "HAILONG_MQTT_URL": server_url,
                "HAILONG_DATA_DIR": str(folder),
                "HAILONG_MQTT_CLIENT_ID": suffix,
                "HAILONG_MQTT_SHARED_GROUP": "bench",
            }
            with log_path.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "system.cli", "ingest"],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + STALL_S
        while not all("subscribed to" in p.read_text(errors="replace") for p in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                tail = "\n".join(p.read_text(errors="replace")[-800:] for p in logs)
                raise RuntimeError(f"the ingest processes did not subscribe:\n{tail}")
            time.sleep(0.1)
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for client_id in client_ids:
            forget_session(broker, client_id)


def scaled_ingest(
    url: str,
    broker: MqttTarget,
    fleet: list[FleetDevice],
    files: dict[str, Path],
    n: int,
    what: str,
    processes: int,
    folder: Path,
) -> float:
    """(d): like (c), with the work split between `processes` ingest processes."""
    listener = AckListener(broker, fleet)
    try:
        with ingest_processes(url, broker, processes, folder):
            listener.expect(n)
            start = time.perf_counter()
            procs = publish(broker, fleet, files)
            wait_for(listener.done, lambda: listener.named, n, what)
            finish(procs)
    finally:
        listener.close()
    return listener.done_at - start


@dataclass
class Fairness:
    """(e): the other devices' Ack delays, in seconds, while one device floods."""

    flood: int
    seconds: float
    rows: int
    delays: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.delays)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def figures(self) -> dict[str, str]:
        return {
            "fair_ack_p50_s": f"{self.quantile(0.5):.2f}",
            "fair_ack_p99_s": f"{self.quantile(0.99):.2f}",
            "fair_ack_max_s": f"{max(self.delays):.2f}",
            "fair_flood": f"{self.flood}",
            "fair_flood_per_s": f"{self.flood / self.seconds:.0f}",
        }

    def row(self) -> tuple[str, ...]:
        return (
            "(e) fairness",
            "sqlite",
            f"{self.flood:,}",
            f"{self.rows:,}",
            f"{self.seconds:.2f}",
            f"{self.flood / self.seconds:,.0f}",
            f"others' Ack p50 {self.quantile(0.5):.2f} s, p99 {self.quantile(0.99):.2f} s, "
            f"max {max(self.delays):.2f} s ({len(self.delays)})",
            "",
        )


def fairness(
    url: str, broker: MqttTarget, fleet: list[FleetDevice], folder: Path, n: int
) -> Fairness:
    """(e): `fleet[0]` publishes `n` ratings at once; the others one every STEADY_EVERY_S in
    turn, each timed from the broker's PUBACK to its Ack, until the flood is all acknowledged."""
    flooder, others = fleet[0], fleet[1:]
    engine = make_engine(url)
    try:
        migrate(engine)
        register(engine, fleet)
        files = write_ratings(folder / "fairness", [flooder], n)
        flood_ids = [json.loads(line)["id"] for line in files[flooder.id].read_text().splitlines()]
        listener = AckListener(broker, fleet)
        sent_at: dict[str, float] = {}
        stop = threading.Event()

        def steady() -> None:
            rng = random.Random()
            turn = 0
            while not stop.wait(STEADY_EVERY_S):
                device = others[turn % len(others)]
                turn += 1
                line = rating_line(device, rng, datetime.now(UTC))
                info = listener.clients[device.id].publish(topic(device.id, "ratings"), line, qos=1)
                info.wait_for_publish(STALL_S)
                sent_at[json.loads(line)["id"]] = time.perf_counter()

        settings = Settings()
        batch = (settings.ingest_batch_size, settings.ingest_batch_ms)
        try:
            with running_service(engine, broker, listener, fleet, *batch):
                ticker = threading.Thread(target=steady, daemon=True)
                ticker.start()
                start = time.perf_counter()
                procs = publish(broker, [flooder], files)
                done = threading.Event()

                def flood_acked() -> int:
                    acked = listener.acked_at()
                    count = sum(1 for rid in flood_ids if rid in acked)
                    if count == n:
                        done.set()
                    return count

                wait_for(done, flood_acked, n, "(e) flood sqlite")
                seconds = time.perf_counter() - start
                finish(procs)
                stop.set()
                ticker.join(STALL_S)
                deadline = time.monotonic() + STALL_S
                while not set(sent_at) <= set(listener.acked_at()):
                    if time.monotonic() > deadline:
                        raise RuntimeError("(e): a steady device's rating was never acknowledged")
                    time.sleep(0.05)
        finally:
            stop.set()
            listener.close()
        acked = listener.acked_at()
        delays = [acked[rid] - at for rid, at in sent_at.items()]
        return Fairness(n, seconds, stored_rows(engine), delays)
    finally:
        engine.dispose()


@dataclass
class Comparison:
    """One database's three figures; (a) is taken right before (c), as the machine's load drifts."""

    database: str
    ceiling: Run
    naive: Run
    ingest: Run
    scaled: Run

    @property
    def vs_ceiling(self) -> float:
        return self.ingest.per_s / self.ceiling.per_s

    @property
    def vs_naive(self) -> float:
        return self.ingest.per_s / self.naive.per_s

    def figures(self, prefix: str) -> dict[str, str]:
        figures = {
            "ingest_per_s": f"{self.ingest.per_s:.0f}",
            "ceiling_per_s": f"{self.ceiling.per_s:.0f}",
            "naive_per_s": f"{self.naive.per_s:.0f}",
            "ratio_ceiling": f"{self.vs_ceiling:.2f}",
            "ratio_naive": f"{self.vs_naive:.1f}",
            "scaled_per_s": f"{self.scaled.per_s:.0f}",
            "scaled_ratio_ceiling": f"{self.scaled.per_s / self.ceiling.per_s:.2f}",
        }
        return {prefix + key: value for key, value in figures.items()}


def compare(
    database: str,
    new_url: Callable[[str], str],
    broker: MqttTarget,
    fleet: list[FleetDevice],
    folder: Path,
    n: int,
    naive_n: int,
) -> Comparison:
    """(b), then (a) and (c) back to back, each ingest on a fresh database named by its mode."""
    settings = Settings()

    def ingest_run(mode: str, count: int, batch_size: int, batch_ms: int) -> Run:
        name = mode.split()[1]
        say(f"{database}: {mode}, {count:,} ratings, batch {batch_size} / {batch_ms} ms …")
        engine = make_engine(new_url(name))
        try:
            migrate(engine)
            register(engine, fleet)
            files = write_ratings(folder / f"{database}-{name}", fleet, count)
            what = f"{mode} {database}"
            seconds, rows = ingest(engine, broker, fleet, files, count, what, batch_size, batch_ms)
        finally:
            engine.dispose()
        return Run(mode, database, count, seconds, rows)

    naive = ingest_run("(b) naive", naive_n, 1, 0)
    say(f"{database}: (a) ceiling, {n:,} ratings to a bare paho subscriber …")
    files = write_ratings(folder / f"{database}-ceiling", fleet, n)
    top = Run("(a) ceiling", database, n, ceiling(broker, fleet, files, n))
    ours = ingest_run("(c) ingest", n, settings.ingest_batch_size, settings.ingest_batch_ms)
    say(f"{database}: (d) {SCALED} ingest processes on a shared subscription, {n:,} ratings …")
    url = new_url("scaled")
    engine = make_engine(url)
    try:
        migrate(engine)
        register(engine, fleet)
        files = write_ratings(folder / f"{database}-scaled", fleet, n)
        what = f"(d) scaled {database}"
        seconds = scaled_ingest(url, broker, fleet, files, n, what, SCALED, folder)
        rows = stored_rows(engine)
    finally:
        engine.dispose()
    scaled = Run(f"(d) {SCALED} processes", database, n, seconds, rows)
    return Comparison(database, top, naive, ours, scaled)


# --- the report -------------------------------------------------------------------------------


def table(comparisons: list[Comparison]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in comparisons:
        for run in (c.ceiling, c.naive, c.ingest, c.scaled):
            ratio, goal = "", ""
            if run is c.scaled:
                ratio = f"{run.per_s / c.ceiling.per_s:.2f}× ceiling"
            if run is c.ingest:
                ratio = f"{c.vs_ceiling:.2f}× ceiling, {c.vs_naive:.1f}× naive"
                goal = (
                    f"≥ {GOAL_CEILING:g}× {verdict(c.vs_ceiling >= GOAL_CEILING)}, "
                    f"≥ {GOAL_NAIVE:g}× {verdict(c.vs_naive >= GOAL_NAIVE)}"
                )
            rows.append(
                (
                    run.mode,
                    run.database,
                    f"{run.messages:,}",
                    "" if run.rows is None else f"{run.rows:,}",
                    f"{run.seconds:.2f}",
                    f"{run.per_s:,.0f}",
                    ratio,
                    goal,
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer ratings (< 1 min)")
    args = parser.parse_args(argv)
    n, naive_n = (10_000, 1_000) if args.quick else (100_000, 5_000)
    flood = 10_000 if args.quick else FLOOD_MAX

    fleet = make_fleet()
    # mosquitto_pub is each device's second connection here: a second account with the
    # device's role, bound to a client id of its own.
    publishers = [
        {
            "command": "createClient",
            "username": f"{device.id}-pub",
            "password": device.password,
            "clientid": f"pub-{device.id}",
            "roles": [{"rolename": device_role(device.id)}],
        }
        for device in fleet
    ]
    with scratch() as folder, mosquitto(folder) as broker:
        add_devices(broker, {device.id: device.password for device in fleet}, publishers)

        def on(database: str, new_url: Callable[[str], str]) -> Comparison:
            return compare(database, new_url, broker, fleet, folder, n, naive_n)

        sqlite = on("sqlite", lambda name: f"sqlite:///{folder / name}.db")
        say(f"sqlite: (e) fairness, one device floods {flood:,} ratings …")
        fair = fairness(f"sqlite:///{folder / 'fairness'}.db", broker, fleet, folder, flood)
        say("postgresql: starting a throwaway server …")
        with postgres() as pg_server:  # its own temp dir: as root, the postgres user must own it
            pg = on("postgresql", lambda _: pg_server.create_database())

    header = ("mode", "database", "ratings", "rows", "seconds", "per second", "ratio", "goal")
    print_table(header, [*table([sqlite, pg]), fair.row()])
    print(
        f"\n(a) a bare paho subscriber that parses and counts, timed right before (c); "
        f"(b) IngestService with batch_size=1, only {naive_n:,} ratings (it is slow; the figure "
        "is per second); (c) IngestService with the default batch settings. "
        f"{len(fleet)} devices publish with mosquitto_pub -l -q 1; (b) and (c) end when the "
        "last Ack has reached the devices. (d) "
        f"{SCALED} `hailong ingest` processes in one MQTT shared subscription group, as a "
        'province runs them (README, "A province"), on the same machine as everything else. '
        f"(e) one device publishes {flood:,} ratings at once while the {len(fleet) - 1} others "
        f"send one every {STEADY_EVERY_S:g} s in turn: their Ack delays until the flood is "
        "all acknowledged."
    )
    print_figures(
        {
            **sqlite.figures(""),
            **pg.figures("pg_"),
            **fair.figures(),
            "ratings": f"{n}",
            "naive_ratings": f"{naive_n}",
            "devices": f"{len(fleet)}",
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
