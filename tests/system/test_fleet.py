"""`hailong fleet` against a real `hailong up`, both run as a person would run them.

The fleet's summary must match the server's report exactly, and a second run must resume the
same units (no new registration, seq going on) and deliver what the first left unacknowledged.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from device.outbox import Outbox
from server.broker.mosquitto import free_port
from server.broker.pidfile import runs_our_config
from server.storage.db import make_engine
from server.storage.models import Device
from server.storage.models import Rating as StoredRating
from server.timeutil import VN_TZ
from system.cli import main
from tests.child import Child

DEADLINE_S = 90.0
COUNT = 5
SUMMARY = re.compile(r"fleet stopped: (\d+) ratings made in this run, (\d+) still unacknowledged")


def Command(*args: str) -> Child:  # noqa: N802  (reads as the command it starts)
    """`hailong …` in a child process, its output read as it comes."""
    return Child([sys.executable, "-m", "system.cli", *args])


class Stack:
    """One data folder and its ports, for `hailong up` and `hailong fleet` alike."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.http_port = free_port()
        self.mqtt_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.started: list[Command] = []

    def _args(self) -> list[str]:
        return [
            "--data-dir",
            str(self.data_dir),
            "--http-port",
            str(self.http_port),
            "--mqtt-port",
            str(self.mqtt_port),
        ]

    def up(self) -> Command:
        command = Command("up", *self._args())
        self.started.append(command)
        command.wait_for("admin login:")
        return command

    def fleet(self) -> Command:
        command = Command("fleet", "--count", str(COUNT), "--rate", "20", *self._args())
        self.started.append(command)
        return command

    def report_total(self) -> int:
        return sum(int(officer["ratings"]) for officer in self.report()["officers"])

    def report(self) -> dict[str, Any]:
        """Today's officers report, the fleet's flagged ratings counted."""
        password = json.loads((self.data_dir / "secrets.json").read_text())["admin_password"]
        form = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
        token = _json(urllib.request.Request(f"{self.base}/api/v1/auth/token", data=form))
        today = datetime.now(VN_TZ).date()
        # the fleet presses faster than a citizen can: its ratings are flagged, and counted here
        query = (
            f"start={today - timedelta(days=1)}&end={today + timedelta(days=1)}"
            "&include_flagged=true"
        )
        request = urllib.request.Request(f"{self.base}/api/v1/reports/officers?{query}")
        request.add_header("Authorization", f"Bearer {token['access_token']}")
        answer: dict[str, Any] = _json(request)
        return answer

    def outboxes(self) -> dict[str, tuple[int, list[int]]]:
        """Per fleet unit: its last seq and the seqs still in its outbox."""
        found = {}
        for folder in sorted((self.data_dir / "sim-fleet").glob("fleet-*")):
            outbox = Outbox(folder / "outbox.sqlite3", folder.name)
            try:
                found[folder.name] = (
                    outbox.last_seq(),
                    [e.seq for e in outbox.pending(limit=1_000_000)],
                )
            finally:
                outbox.close()
        return found

    @property
    def broker_conf(self) -> Path:
        return self.data_dir.resolve() / "broker" / "mosquitto.conf"

    def broker_pid(self) -> int | None:
        """The pid of the Mosquitto that `up` started, from its pid file."""
        try:
            return int((self.data_dir / "broker" / "mosquitto.pid").read_text().split()[0])
        except (OSError, ValueError):
            return None

    def made(self) -> int:
        return sum(last for last, _ in self.outboxes().values())

    def unacked(self) -> int:
        return sum(len(waiting) for _, waiting in self.outboxes().values())

    def stored(self) -> tuple[int, dict[str, list[int]]]:
        """The server's device count, and the seqs it stored per device."""
        engine = make_engine(f"sqlite:///{self.data_dir / 'hailong.db'}")
        try:
            with Session(engine) as session:
                devices = session.exec(select(func.count()).select_from(Device)).one()
                seqs: dict[str, list[int]] = {}
                for device_id, seq in session.exec(
                    select(StoredRating.device_id, StoredRating.seq).order_by(
                        col(StoredRating.device_id), col(StoredRating.seq)
                    )
                ):
                    seqs.setdefault(device_id, []).append(seq)
        finally:
            engine.dispose()
        return devices, seqs


def _json(request: urllib.request.Request) -> Any:
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def summary(command: Command) -> tuple[int, int]:
    found = SUMMARY.search(command.output)
    assert found, command.output[-3000:]
    return int(found[1]), int(found[2])


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path / "hailong-data")
    try:
        yield s
    finally:
        for command in reversed(s.started):
            if command.proc.poll() is None:
                command.stop(signal.SIGINT)
            command.kill()
        left = s.broker_pid()
        if left and runs_our_config(left, s.broker_conf):  # a test that failed half-way
            os.kill(left, signal.SIGKILL)


def test_fleet_counts_exactly_and_resumes_its_units(stack: Stack) -> None:
    up = stack.up()

    first = stack.fleet()
    first.wait_for(f"{COUNT} registered now, 0 resumed")
    first.wait_for("units online")
    wait_until(lambda: stack.made() >= 40, "40 ratings")
    assert first.stop() == 0, first.output[-3000:]
    made1, unacked1 = summary(first)
    assert made1 == stack.made() and unacked1 == stack.unacked()
    assert stack.report_total() == made1 - unacked1
    passwords = (stack.data_dir / "sim-fleet" / "devices.json").read_text()

    # The server goes away under a running fleet: its ratings wait in the outboxes.
    second = stack.fleet()
    second.wait_for(f"0 registered now, {COUNT} resumed")
    second.wait_for("units online")
    wait_until(lambda: stack.made() >= made1 + 20, "20 more ratings")
    assert up.stop(signal.SIGINT) == 0, up.output[-3000:]
    wait_until(lambda: stack.unacked() >= 20, "20 ratings waiting with the server down")
    assert second.stop() == 0, second.output[-3000:]
    made2, unacked2 = summary(second)
    assert unacked2 == stack.unacked() > 0

    # Back up: the same units carry on with their seq and deliver what waited.
    stack.up()
    third = stack.fleet()
    third.wait_for(f"0 registered now, {COUNT} resumed")
    third.wait_for(f"{unacked2} unacknowledged ratings from the last run are sent first")
    third.wait_for("units online")
    wait_until(lambda: stack.made() >= made1 + made2 + 20, "20 more ratings")
    assert third.stop() == 0, third.output[-3000:]
    made3, unacked3 = summary(third)

    outboxes = stack.outboxes()
    assert sum(last for last, _ in outboxes.values()) == made1 + made2 + made3
    assert (stack.data_dir / "sim-fleet" / "devices.json").read_text() == passwords
    assert stack.report_total() == made1 + made2 + made3 - unacked3
    assert sum(stack.report()["total"]["reason_counts"].values()) > 0, "citizens gave reasons"
    devices, stored = stack.stored()
    assert devices == COUNT, "no device was registered again"
    for device_id, (last, waiting) in outboxes.items():
        assert sorted(stored.get(device_id, []) + waiting) == list(range(1, last + 1)), device_id


def test_fleet_says_what_to_do_without_a_data_folder_or_a_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["fleet", "--count", "2", "--rate", "1", "--data-dir", str(tmp_path)]
    port = ["--http-port", str(free_port()), "--mqtt-port", str(free_port())]
    assert main([*args, *port]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "secrets.json" in err and "--data-dir" in err, err

    (tmp_path / "secrets.json").write_text(json.dumps({"admin_password": "not-used"}))
    assert main([*args, *port]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "hailong up" in err and "--http-port" in err, err
    assert not (tmp_path / "sim-fleet").exists()
