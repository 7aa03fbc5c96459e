"""`hailong fleet`: N counter units of the real unit code, pressed at a steady rate, against `up`.

Each unit is a SimulatedUnit (the real Unit, Outbox and Link, with the real clock) registered
through the HTTP API as an administrator would. Device passwords and outboxes stay under
DATA_DIR/sim-fleet/, so a second run resumes the same units and sends what the first left
unacknowledged. The presses come at the moments the fleet picks, so they are taken whatever the
citizen's cooldown (which would cap a unit at one rating every few seconds), and stamped with the
unit's own clock: like a unit in the field, one whose clock is not synchronised holds its presses
until the server's time dates them. After a low score a simulated citizen gives reasons as
citizens do (`system.simulator.choose_reasons`, the unit's own seeded choice).
"""

from __future__ import annotations

import json
import logging
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from device.clock import SystemClock
from device.outbox import Outbox
from hailong.errors import HailongError
from hailong.net import port_open
from hailong.protocol import DEFAULT_SCALE, SCALES
from system.admin_api import AdminApi, ApiError, fetch_json
from system.simulator import (
    PressIgnored,
    SimulatedUnit,
    bundle_settings,
    headless_settings,
    load_passwords,
    officer_name,
    save_passwords,
)

log = logging.getLogger(__name__)

FLEET_DIR = "sim-fleet"
DEVICES_FILE = "devices.json"
UNIT_ID = "FLEET"
UNIT_NAME = "Đơn vị mô phỏng"
PROGRESS_S = 10.0  # one progress line this often
CONNECT_S = 15.0  # at start, wait this long for the units to reach the broker
DRAIN_S = 10.0  # at stop, wait this long for the Acks of what is still unacknowledged
MAX_PRESSERS = 4  # threads pressing; each owns a share of the units and of the rate


@dataclass(frozen=True)
class FleetMember:
    """The registry entries behind one simulated unit, all derived from its number."""

    number: int

    @property
    def device_id(self) -> str:
        return f"fleet-{self.number:04d}"

    @property
    def counter_id(self) -> str:
        return f"{UNIT_ID}-Q{self.number:04d}"

    @property
    def officer_id(self) -> str:
        return f"CB-{UNIT_ID}-{self.number:04d}"

    def officer_name(self) -> str:
        return officer_name(random.Random(self.number))


@dataclass
class Tally:
    """What the fleet's units did in this run."""

    made: int = 0
    unacked_at_start: int = 0

    def acked(self, unacked_now: int) -> int:
        """Acknowledged during this run: what waited at start plus what was made, minus the rest."""
        return self.unacked_at_start + self.made - unacked_now


class Fleet:
    """The simulated units of one data folder, and the presses shared out between them."""

    def __init__(
        self,
        data_dir: Path,
        count: int,
        rate: float,
        *,
        http_port: int = 8000,
        mqtt_port: int = 1883,
        host: str = "127.0.0.1",
        say: Callable[[str], None] | None = None,
    ) -> None:
        if count < 1:
            raise HailongError("--count: give at least 1 unit")
        if rate <= 0:
            raise HailongError("--rate: give a positive number of ratings per second")
        self.data_dir = data_dir.resolve()
        self.folder = self.data_dir / FLEET_DIR
        self.count = count
        self.rate = rate
        self.host = host
        self.http_port = http_port
        self.mqtt_port = mqtt_port
        self.base_url = f"http://{host}:{http_port}"
        self.say = say or _say
        self.members = [FleetMember(n) for n in range(1, count + 1)]
        self.units: list[SimulatedUnit] = []
        self.tally = Tally()
        self._lock = threading.Lock()
        self._failed: BaseException | None = None

    # before anything: is there a `hailong up` to talk to? ----------------------------------

    def admin_password(self) -> str:
        path = self.data_dir / "secrets.json"
        try:
            return str(json.loads(path.read_text())["admin_password"])
        except FileNotFoundError:
            raise HailongError(
                f"{path} does not exist: {self.data_dir} is not the data folder of a `hailong up`; "
                "pass the --data-dir that `hailong up` runs with (or start it with this one)"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HailongError(
                f"{path} cannot be read ({exc}); it is written by `hailong up`: check it"
            ) from None

    def login(self) -> AdminApi:
        password = self.admin_password()
        try:
            health = fetch_json(f"{self.base_url}/healthz", timeout=10)
        except ApiError as exc:
            if exc.status != 503:  # 503 is a server saying what of it is down
                raise HailongError(
                    f"no Hài Lòng server answers at {self.base_url}; start `hailong up "
                    f"--data-dir {self.data_dir}` first, or pass the --http-port it listens on"
                ) from None
            health = {"mqtt": "disconnected"}
        if not port_open(self.host, self.mqtt_port, timeout=1.0):
            raise HailongError(
                f"no MQTT broker listens at {self.host}:{self.mqtt_port}; "
                "pass the --mqtt-port that `hailong up` uses"
            )
        if health.get("mqtt") != "connected":
            self.say(f"fleet: the server at {self.base_url} says its MQTT link is down")
        try:
            return AdminApi(self.base_url, "admin", password)
        except ApiError as exc:
            if exc.status == 401:
                raise HailongError(
                    f"the server at {self.base_url} refused the admin password in "
                    f"{self.data_dir / 'secrets.json'}; pass the --data-dir that this "
                    "`hailong up` runs with"
                ) from None
            raise

    # the registry, once per unit -------------------------------------------------------------

    def register(self, api: AdminApi) -> dict[str, str]:
        """Device passwords by device id, registering through the API the units not yet known."""
        passwords = load_passwords(self.folder / DEVICES_FILE)
        missing = [m for m in self.members if m.device_id not in passwords]
        if missing:
            _create(api, "/api/v1/units", {"id": UNIT_ID, "name": UNIT_NAME, "kind": "commune"})
            since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
            for member in missing:
                passwords[member.device_id] = self._register_one(api, member, since)
                save_passwords(self.folder / DEVICES_FILE, passwords)
        known = len(self.members) - len(missing)
        self.say(
            f"fleet: {len(self.members)} units ({len(missing)} registered now, "
            f"{known} resumed from {self.folder})"
        )
        return passwords

    def _register_one(self, api: AdminApi, member: FleetMember, since: str) -> str:
        number = member.number
        _create(
            api,
            "/api/v1/counters",
            {"id": member.counter_id, "name": f"Quầy {number}", "unit_id": UNIT_ID},
        )
        _create(
            api,
            "/api/v1/officers",
            {
                "id": member.officer_id,
                "name": member.officer_name(),
                "unit_id": UNIT_ID,
                "title": "Công chức một cửa",
            },
        )
        _create(
            api,
            "/api/v1/assignments",
            {"officer_id": member.officer_id, "counter_id": member.counter_id, "start": since},
        )
        try:
            api.post("/api/v1/devices", {"id": member.device_id, "counter_id": member.counter_id})
        except ApiError as exc:
            if exc.status != 409:
                raise
            # Registered by an earlier run whose passwords file is gone: a new bundle resets it.
        bundle = api.download(f"/api/v1/devices/{member.device_id}/bundle")
        return bundle_settings(bundle, member.device_id).mqtt.target.password or ""

    # the units ---------------------------------------------------------------------------------

    def start(self, passwords: dict[str, str]) -> None:
        for member in self.members:
            device_id = member.device_id
            settings = headless_settings(
                device_id, passwords[device_id], self.folder / device_id, self.host, self.mqtt_port
            )
            self.units.append(SimulatedUnit(settings, SystemClock()))
        self.tally.unacked_at_start = self.unacked()  # before a link can delete any of them
        for unit in self.units:
            unit.start()

    def stop(self) -> None:
        for unit in self.units:
            unit.stop()

    def unacked(self) -> int:
        return sum(unit.unacked() for unit in self.units)

    def connected(self) -> int:
        return sum(1 for unit in self.units if unit.connected)

    def wait_connected(self, stop: threading.Event) -> None:
        deadline = time.monotonic() + CONNECT_S
        while self.connected() < len(self.units) and time.monotonic() < deadline:
            if stop.wait(0.1):
                return
        online = self.connected()
        if online == len(self.units):
            self.say(f"fleet: {online} units online; pressing {self.rate:g} ratings/s in all")
        else:
            self.say(
                f"fleet: {online} of {len(self.units)} units reached the broker in "
                f"{CONNECT_S:g} s; pressing anyway (the others keep their ratings until they do)"
            )

    # the presses -------------------------------------------------------------------------------

    def press_forever(self, stop: threading.Event) -> list[threading.Thread]:
        """Threads sharing the units and the rate between them; they end when `stop` is set."""
        shares = min(MAX_PRESSERS, len(self.units))
        threads = []
        for index in range(shares):
            mine = self.units[index::shares]
            rate = self.rate * len(mine) / len(self.units)
            thread = threading.Thread(
                target=self._press, args=(mine, rate, stop), name=f"fleet-press-{index}"
            )
            thread.start()
            threads.append(thread)
        return threads

    def _press(self, units: list[SimulatedUnit], rate: float, stop: threading.Event) -> None:
        rng = random.Random()
        try:
            for _ in _ticks(rate, stop):
                unit = rng.choice(units)
                config = unit.config
                size = SCALES[config.scale if config else DEFAULT_SCALE].size
                # A press at a moment the fleet picks, not a citizen's: no cooldown to respect.
                try:
                    unit.press(rng.randint(1, size), live=False)
                except PressIgnored:
                    continue
                with self._lock:
                    self.tally.made += 1
        except Exception as exc:
            log.exception("fleet: a press failed; stopping")
            self._failed = exc
            stop.set()

    def progress(self) -> str:
        unacked = self.unacked()
        with self._lock:
            made = self.tally.made
        return (
            f"fleet: {made} made, {self.tally.acked(unacked)} acked, {unacked} unacked "
            f"({self.connected()} of {len(self.units)} units online)"
        )

    def drain(self, hurry: threading.Event) -> None:
        """Wait a little for the Acks of the last ratings, while some unit can still get them."""
        deadline = time.monotonic() + DRAIN_S
        unacked = self.unacked()
        if unacked and self.connected():
            self.say(f"fleet: waiting up to {DRAIN_S:g} s for the Acks of {unacked} ratings")
        while unacked and self.connected() and time.monotonic() < deadline:
            if hurry.wait(0.1):
                break
            unacked = self.unacked()

    def stored_unacked(self) -> int:
        """Unacknowledged ratings as the outboxes hold them on disk, after the units stopped."""
        total = 0
        for unit in self.units:
            outbox = Outbox(unit.settings.outbox_path, unit.device_id)
            try:
                total += outbox.count()
            finally:
                outbox.close()
        return total

    # the whole run -------------------------------------------------------------------------------

    def run(self, stop: threading.Event, hurry: threading.Event) -> int:
        passwords = self.register(self.login())
        try:
            self.start(passwords)
            if self.tally.unacked_at_start:
                self.say(
                    f"fleet: {self.tally.unacked_at_start} unacknowledged ratings from the last "
                    "run are sent first"
                )
            self.wait_connected(stop)
            pressers = self.press_forever(stop)
            while not stop.wait(PROGRESS_S):
                self.say(self.progress())
            for thread in pressers:
                thread.join()
            self.drain(hurry)
        finally:
            self.stop()
        unacked = self.stored_unacked()
        kept = f" (kept in {self.folder} for the next run)" if unacked else ""
        self.say(
            f"fleet stopped: {self.tally.made} ratings made in this run, "
            f"{unacked} still unacknowledged{kept}"
        )
        return 1 if self._failed else 0


def _say(line: str) -> None:
    """One write per line, so that a unit's log line on stderr cannot split it."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _create(api: AdminApi, path: str, body: dict[str, object]) -> None:
    """POST a registry entry; one that exists already (an earlier run made it) will do."""
    try:
        api.post(path, body)
    except ApiError as exc:
        if exc.status != 409:
            raise


def _ticks(rate: float, stop: threading.Event) -> Iterator[None]:
    """Yield `rate` times a second until `stop`; a late tick is caught up for at most 1 s."""
    interval = 1.0 / rate
    due = time.monotonic()
    while not stop.wait(max(0.0, due - time.monotonic())):
        yield
        due = max(due + interval, time.monotonic() - 1.0)


def run(
    data_dir: Path, count: int, rate: float, *, http_port: int = 8000, mqtt_port: int = 1883
) -> int:
    """`hailong fleet`: run until Ctrl-C or SIGTERM; a second signal cuts the wait for Acks."""
    fleet = Fleet(data_dir, count, rate, http_port=http_port, mqtt_port=mqtt_port)
    stop, hurry = threading.Event(), threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            hurry.set()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return fleet.run(stop, hurry)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
