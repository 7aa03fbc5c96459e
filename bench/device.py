"""How fast and how light the counter unit is, on this machine: `python bench/device.py [--quick]`.

Measures (a) a press until it is durable in the outbox and the screen is drawn (Unit.press, then
render of unit.view() to a pygame Surface), against (b) a bare SQLite insert of the same payload
with the outbox's durability (WAL, synchronous=FULL) in the same folder; then (c) the resident
memory and (d) the idle CPU of a whole unit process (`hailong device` with its screen on SDL's
dummy driver and its buttons on gpiozero's mock pins), connected to a Mosquitto started here.
It reports; it asserts nothing. The last line is key=value figures for scripts.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before bench/, where this very file would pass for `device`

import paho.mqtt.client as paho  # noqa: E402
import pygame  # noqa: E402

from device.clock import ManualClock  # noqa: E402
from device.drawing import Fonts  # noqa: E402
from device.pages import render  # noqa: E402
from device.settings import DeviceSettings  # noqa: E402
from device.unit import DEFAULT_COOLDOWN_S, Unit  # noqa: E402
from devtools.bench import (  # noqa: E402
    add_devices,
    cpu_seconds,
    mosquitto,
    percentile,
    print_figures,
    print_table,
    rss_mb,
    scratch,
    verdict,
)
from hailong.mqtt import MqttTarget, new_client  # noqa: E402
from hailong.protocol import Ack, decode_rating, topic, topic_filter  # noqa: E402
from server.timeutil import VN_TZ  # noqa: E402

GOAL_P99_MS = 30.0
GOAL_RSS_MB = 60.0
GOAL_IDLE_CPU_PCT = 2.0
WARMUP = 20  # presses not counted: the first ones load fonts and warm SQLite's cache
DEADLINE_S = 60.0


class Acker:
    """The server's side, reduced to acknowledging every rating, so the outbox stays small."""

    def __init__(self, target: MqttTarget) -> None:
        self._ready = threading.Event()
        self._client = new_client(f"bench-acker-{uuid.uuid4().hex[:8]}", target)
        self._client.on_connect = lambda c, *_: c.subscribe(topic_filter("ratings"), qos=1)
        self._client.on_subscribe = lambda *_: self._ready.set()
        self._client.on_message = self._on_message
        self._client.connect_async(target.host, target.port)
        self._client.loop_start()
        if not self._ready.wait(DEADLINE_S):
            raise RuntimeError("the bench's acker could not subscribe")

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        rating = decode_rating(msg.topic, bytes(msg.payload))
        ack = Ack(accepted=[rating.id]).to_payload()
        self._client.publish(topic(rating.device_id, "acks"), ack, qos=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def unit_settings(folder: Path, target: MqttTarget) -> dict[str, Any]:
    url = f"mqtt://{target.username}:{target.password}@{target.host}:{target.port}"
    return {
        "device": {"id": target.username, "data_dir": str(folder / "unit")},
        "mqtt": {"url": url},
        "buttons": {"enabled": False},
        "screen": {"enabled": False},
    }


# --- (a) and (b): press latency against its SQLite floor -----------------------------------


@dataclass
class PressTimes:
    """Milliseconds per press: the whole of it, and its two parts."""

    total: list[float] = field(default_factory=list)
    press: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)


def press_latencies(folder: Path, target: MqttTarget, presses: int) -> tuple[PressTimes, bytes]:
    """From the press to the rating durable and the screen drawn, on a unit sending to a broker."""
    settings = unit_settings(folder, target)
    settings["screen"]["enabled"] = True  # as on a counter (the bench draws; no window opens)
    clock = ManualClock(datetime.now(VN_TZ))
    unit = Unit(DeviceSettings.from_mapping(settings), clock)
    unit.start()
    pygame.font.init()
    fonts = Fonts()
    surface = pygame.Surface((800, 480))
    times = PressTimes()
    payload = b""
    try:
        wait_until(lambda: unit.link.connected, "the bench unit to connect")
        for n in range(presses + WARMUP):
            clock.advance(DEFAULT_COOLDOWN_S)
            start = time.perf_counter()
            rating = unit.press(n % 4 + 1)
            stored = time.perf_counter()
            render(surface, unit.view(), fonts)
            drawn = time.perf_counter()
            if rating is None:
                raise RuntimeError("the unit ignored a bench press")
            payload = rating.to_payload()
            if n >= WARMUP:
                times.total.append((drawn - start) * 1000)
                times.press.append((stored - start) * 1000)
                times.render.append((drawn - stored) * 1000)
        wait_until(lambda: unit.outbox.count() == 0, "the Acks of the bench presses")
    finally:
        unit.stop()
    return times, payload


def sqlite_latencies(folder: Path, payload: bytes, inserts: int) -> list[float]:
    """Milliseconds per bare insert-and-commit of `payload`, with the outbox's durability."""
    db = sqlite3.connect(folder / "baseline.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, payload BLOB)")
    times = []
    try:
        for n in range(inserts + WARMUP):
            start = time.perf_counter()
            db.execute("INSERT INTO t (id, payload) VALUES (?, ?)", (str(uuid.uuid4()), payload))
            elapsed = time.perf_counter() - start
            if n >= WARMUP:
                times.append(elapsed * 1000)
    finally:
        db.close()
    return times


# --- (c) and (d): a whole unit process at rest ----------------------------------------------


def device_toml(folder: Path, target: MqttTarget) -> Path:
    path = folder / "device.toml"
    path.write_text(
        f"""[device]
id = "{target.username}"
data_dir = "process"

[mqtt]
url = "mqtt://{target.username}:{target.password}@{target.host}:{target.port}"

[buttons]
enabled = true
pin_factory = "mock"

[screen]
enabled = true
"""
    )
    return path


def unit_process(
    folder: Path, target: MqttTarget, settle_s: float, idle_s: float
) -> tuple[float, float]:
    """(resident MB after settling, idle CPU % over `idle_s`) of `hailong device`."""
    log = (folder / "unit-process.log").open("w+")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "system.cli",
            "device",
            "--config",
            str(device_toml(folder, target)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env,
    )
    try:

        def connected() -> bool:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the unit process exited:\n{log.read()}")
            return "connected to" in (folder / "unit-process.log").read_text()

        wait_until(connected, "the unit process to connect")
        time.sleep(settle_s)
        rss = rss_mb(proc.pid)
        cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle_s)
        cpu1, wall1 = cpu_seconds(proc.pid), time.monotonic()
        rss = max(rss, rss_mb(proc.pid))
        return rss, 100 * (cpu1 - cpu0) / (wall1 - wall0)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- the report -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer presses, 10 s idle (< 1 min)")
    args = parser.parse_args(argv)
    presses = 300 if args.quick else 2000
    settle_s, idle_s = (3.0, 10.0) if args.quick else (10.0, 60.0)

    with scratch() as folder, mosquitto(folder) as server:
        passwords = {device_id: uuid.uuid4().hex for device_id in ("bench-press", "bench-idle")}
        targets = add_devices(server, passwords)
        acker = Acker(server)
        try:
            print(f"(a) {presses} presses: press → durable + screen drawn …", flush=True)
            press_ms, payload = press_latencies(folder / "a", targets[0], presses)
            print(f"(b) {presses} bare SQLite inserts (WAL, synchronous=FULL) …", flush=True)
            sqlite_ms = sqlite_latencies(folder, payload, presses)
            print(f"(c, d) a unit process: settle {settle_s:g} s, idle {idle_s:g} s …", flush=True)
            rss, cpu = unit_process(folder, targets[1], settle_s, idle_s)
        finally:
            acker.close()

    p50, p99 = statistics.median(press_ms.total), percentile(press_ms.total, 99)
    s50, s99 = statistics.median(sqlite_ms), percentile(sqlite_ms, 99)
    sqlite_cell = "{:.2f} ms (bare SQLite insert)".format
    rows = [
        ("press → durable + screen, p50", f"{p50:.2f} ms", "", sqlite_cell(s50)),
        (
            "press → durable + screen, p99",
            f"{p99:.2f} ms",
            f"≤ {GOAL_P99_MS:g} ms {verdict(p99 <= GOAL_P99_MS)}",
            sqlite_cell(s99),
        ),
        *[
            (
                f"  of which {part}, p50 / p99",
                f"{statistics.median(ms):.2f} / {percentile(ms, 99):.2f} ms",
                "",
                "",
            )
            for part, ms in (("Unit.press", press_ms.press), ("render", press_ms.render))
        ],
        (
            "unit process, resident memory",
            f"{rss:.1f} MB",
            f"≤ {GOAL_RSS_MB:g} MB {verdict(rss <= GOAL_RSS_MB)}",
            "",
        ),
        (
            f"unit process, idle CPU over {idle_s:g} s",
            f"{cpu:.2f} %",
            f"≤ {GOAL_IDLE_CPU_PCT:g} % {verdict(cpu <= GOAL_IDLE_CPU_PCT)}",
            "",
        ),
    ]
    print_table(("figure", "value", "goal", "baseline"), rows)
    print_figures(
        {
            "p50_ms": f"{p50:.2f}",
            "p99_ms": f"{p99:.2f}",
            "sqlite_p50_ms": f"{s50:.2f}",
            "sqlite_p99_ms": f"{s99:.2f}",
            "rss_mb": f"{rss:.1f}",
            "idle_cpu_pct": f"{cpu:.2f}",
            "presses": f"{presses}",
            "idle_s": f"{idle_s:g}",
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
