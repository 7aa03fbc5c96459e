"""`hailong demo`: the units of our source articles, run as real unit code with simulated presses.

The history goes through MQTT like any rating (each simulated unit presses with its clock set to
a past working hour), never into the database directly, so the demo exercises the whole path.
Names are those of the two-level local government in force since 1 July 2025 (provinces and
their communes and wards, no districts), and the officers are satisfied about as often as in a
well-run commune: most between 80 and 95 %, two weaker ones, as docs/policy.md's example expects.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from hailong.errors import HailongError
from server.timeutil import VN_TZ
from system.admin_api import AdminApi
from system.demo_queue import (
    RATED_SHARE,
    DemoQueue,
    Ticket,
    called_events,
    events_of,
    queue_token,
    served_event,
    service_of,
)

if TYPE_CHECKING:
    from system.simulator import SimulatedUnit
    from system.up import Stack

UNITS = (  # id, name, kind, province (since 1 July 2025)
    ("DH", "Phường Diên Hồng", "ward", "Gia Lai"),
    ("DX", "Phường Đức Xuân", "ward", "Thái Nguyên"),
    ("LP", "Phường Long Phú", "ward", "An Giang"),
    ("CP", "Xã Châu Phong", "commune", "An Giang"),
    ("DHOI", "Phường Đồng Hới", "ward", "Quảng Trị"),
)
FIELDS = (  # code in counter ids, field id, field name (lĩnh vực)
    ("TP", "tu-phap-ho-tich", "Tư pháp – Hộ tịch"),
    ("DD", "dat-dai-xay-dung", "Đất đai – Xây dựng"),
    ("NV", "noi-vu", "Nội vụ"),
    ("VH", "van-hoa-xa-hoi", "Văn hóa – Xã hội"),
)
TITLES = (
    "Công chức Tư pháp – Hộ tịch",
    "Công chức Đất đai – Xây dựng",
    "Công chức Nội vụ",
    "Công chức Văn hóa – Xã hội",
)
# The share of satisfied citizens each officer earns, in plan() order: a weaker one at Đồng Hới's
# first-year 55 % and one at 70 %; the rest drawn between 80 and 95 %.
WEAKER = {6: 0.70, 13: 0.55}
# Demo logins besides admin, all with the admin's password: (username, role, full name); each
# unit also gets its head ("truong-<unit>") and each officer a login named by the officer's id.
PEOPLE = (
    ("phongnoivu", "hr", "Trần Thị Thu Hà"),
    ("xem", "viewer", "Lê Văn Nam"),
)


@dataclass(frozen=True)
class DemoCounter:
    unit_id: str
    counter_id: str
    device_id: str
    officer_id: str
    quality: float


def plan(seed: int = 7) -> list[DemoCounter]:
    """One counter, device and officer per unit and field; `quality` is the officer's share of
    satisfied citizens (WEAKER, or between 0.80 and 0.95)."""
    rng = random.Random(seed)
    out: list[DemoCounter] = []
    for unit_id, *_ in UNITS:
        for field_code, *_ in FIELDS:
            counter_id = f"{unit_id}-{field_code}"
            drawn = rng.uniform(0.80, 0.95)
            out.append(
                DemoCounter(
                    unit_id,
                    counter_id,
                    f"dev-{counter_id}".lower(),
                    f"CB-{counter_id}",
                    WEAKER.get(len(out), drawn),
                )
            )
    return out


def score_for(rng: random.Random, quality: float) -> int:
    """vn4 score: satisfied (3-4) with probability `quality`; of the others, four in five
    "Chưa hài lòng" (2) and one in five "Không hài lòng" (1), as citizens rarely pick the worst."""
    roll = rng.random()
    if roll < quality * 0.55:
        return 4
    if roll < quality:
        return 3
    if roll < quality + (1 - quality) * 0.8:
        return 2
    return 1


def working_moment(rng: random.Random, day: date) -> datetime:
    minutes = rng.randrange(7 * 60 + 30, 17 * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60, rng.randrange(60)), VN_TZ)


def day_presses(
    rng: random.Random, quality: float, day: date, per_day: int
) -> list[tuple[datetime, int]]:
    """One counter's presses of a day, (moment, score), in time order: a unit numbers its
    presses as they come, so seq and press time rise together (or the server flags
    out_of_order)."""
    count = rng.randint(per_day // 2, per_day * 3 // 2)
    moments = sorted(working_moment(rng, day) for _ in range(count))
    return [(at, score_for(rng, quality)) for at in moments]


class DemoFleet:
    def __init__(self, days: int = 90, live_every: float = 3.0, per_day: int = 8) -> None:
        self.days = days
        self.live_every = live_every
        self.per_day = per_day
        self.rng = random.Random(2026)

    # registry ------------------------------------------------------------------------------

    def _seed_registry(self, stack: Stack, counters: list[DemoCounter]) -> dict[str, str]:
        """Register the demo through the API, as an administrator would, once.

        Each unit's password comes from its bundle, as a real unit's does; they are kept beside
        the fleet's outboxes, as a new bundle would change them.
        """
        from system.simulator import bundle_settings, load_passwords, officer_name, save_passwords

        passwords_file = stack.settings.data_dir / "fleet" / "devices.json"
        saved = load_passwords(passwords_file)
        if saved:
            return saved
        api = AdminApi(stack.base_url, "admin", stack.secrets.admin_password)
        rng = random.Random(11)
        since = (datetime.now(UTC) - timedelta(days=self.days + 10)).isoformat()
        codes = [code for code, *_ in FIELDS]
        passwords: dict[str, str] = {}
        names = {c.officer_id: officer_name(rng) for c in counters}
        for _, field_id, field_name in FIELDS:
            api.post("/api/v1/fields", {"id": field_id, "name": field_name})
        for unit_id, unit_name, kind, province in UNITS:
            api.post(
                "/api/v1/units",
                {"id": unit_id, "name": unit_name, "kind": kind, "province": province},
            )
        for c, (field_code, field_id, field_name) in zip(
            counters, FIELDS * len(UNITS), strict=True
        ):
            api.post(
                "/api/v1/counters",
                {
                    "id": c.counter_id,
                    "name": f"Quầy {field_name}",
                    "unit_id": c.unit_id,
                    "field_ids": [field_id],
                },
            )
            api.post(
                "/api/v1/officers",
                {
                    "id": c.officer_id,
                    "name": names[c.officer_id],
                    "unit_id": c.unit_id,
                    "title": TITLES[codes.index(field_code)],
                },
            )
            api.post(
                "/api/v1/assignments",
                {"officer_id": c.officer_id, "counter_id": c.counter_id, "start": since},
            )
            api.post("/api/v1/devices", {"id": c.device_id, "counter_id": c.counter_id})
            bundle = api.download(f"/api/v1/devices/{c.device_id}/bundle")
            passwords[c.device_id] = bundle_settings(bundle, c.device_id).mqtt.target.password or ""
        self._seed_people(api, stack.secrets.admin_password, names)
        save_passwords(passwords_file, passwords)
        return passwords

    def _seed_people(self, api: AdminApi, password: str, officers: dict[str, str]) -> None:
        """The logins of the issue's reviewers, with the person's full name: HR, a viewer, each
        unit's head and each officer (whose full name is the officer's)."""
        from system.simulator import officer_name

        rng = random.Random(13)
        people = [{"username": u, "role": r, "full_name": n} for u, r, n in PEOPLE]
        for unit_id, *_ in UNITS:
            head = {"username": f"truong-{unit_id.lower()}", "full_name": officer_name(rng)}
            people.append({**head, "role": "unit_head", "unit_id": unit_id})
        for officer_id, name in officers.items():
            login = {"username": officer_id.lower(), "full_name": name}
            people.append({**login, "role": "officer", "officer_id": officer_id})
        for person in people:
            api.post("/api/v1/users", {**person, "password": password})

    def _units(self, stack: Stack, passwords: dict[str, str]) -> dict[str, SimulatedUnit]:
        from device.clock import ManualClock
        from system.simulator import SimulatedUnit, headless_settings

        units = {}
        for device_id, password in passwords.items():
            folder = stack.settings.data_dir / "fleet" / device_id
            settings = headless_settings(
                device_id, password, folder, stack.broker.bind, stack.broker.port
            )
            unit = SimulatedUnit(settings, ManualClock(datetime.now(VN_TZ)))
            unit.start()
            units[device_id] = unit
        return units

    # presses -------------------------------------------------------------------------------

    def _live(
        self,
        counters: list[DemoCounter],
        units: dict[str, SimulatedUnit],
        queue: DemoQueue,
        stopping: threading.Event,
    ) -> None:
        """Every `live_every` s a ticket is called at a counter through the queue (the server
        sends its unit the Service over the broker); at the next tick the citizen of the
        previous one rates it at the unit (mostly) and the queue marks it served."""
        waiting: tuple[DemoCounter, str] | None = None
        while not stopping.wait(self.live_every):
            now = datetime.now(VN_TZ)
            if waiting is not None:
                c, code = waiting
                if self.rng.random() < RATED_SHARE:
                    units[c.device_id].press(score_for(self.rng, c.quality), at=now)
                queue.post([served_event(c.counter_id, code, now)])
            c = self.rng.choice(counters)
            code = queue.next_code(c.counter_id, now.date().isoformat())
            queue.post(called_events(c.counter_id, code, now))
            waiting = (c, code)

    def _history(
        self,
        counters: list[DemoCounter],
        units: dict[str, SimulatedUnit],
        queue: DemoQueue,
        marker: Path,
        stopping: threading.Event,
    ) -> None:
        """Each past day's presses, most of them for a ticket of the queue, whose events are
        posted after the day (late: the server tells no unit; each unit was handed its
        ticket's Service before the press, as the broker would have then)."""
        if marker.exists():
            return
        today = datetime.now(VN_TZ).date()
        total = 0
        for back in range(self.days, 0, -1):
            day = today - timedelta(days=back)
            served: list[Ticket] = []
            for c in counters if day.weekday() != 6 else ():  # one-stop sections close on Sundays
                presses = day_presses(self.rng, c.quality, day, self.per_day)
                tickets = queue.tickets_for(c.counter_id, [at for at, _ in presses])
                served += queue.unrated(c.counter_id, [at for at, _ in presses])
                for (at, score), ticket in zip(presses, tickets, strict=True):
                    if stopping.is_set():
                        return
                    unit = units[c.device_id]
                    if ticket is not None:
                        served.append(ticket)
                        unit.open_service(service_of(ticket, c.officer_id), at)
                    unit.press(score, at=at)
                    total += 1
            queue.post(events_of(served))
            if back % 10 == 0 or back == 1:
                print(f"  demo history: {day.isoformat()} done, {total} ratings sent", flush=True)
        for unit in units.values():
            unit.wait_drained(timeout=300)
        marker.write_text(str(total))
        print(f"  demo history complete: {total} ratings acknowledged by the server", flush=True)

    def _queue(self, stack: Stack) -> DemoQueue:
        """The simulated queue system, with its own API token (made by the admin once)."""
        api = AdminApi(stack.base_url, "admin", stack.secrets.admin_password)
        token = queue_token(api, stack.settings.data_dir / "fleet")
        return DemoQueue(stack.base_url, token, random.Random(2027))

    def run(self, stack: Stack, stopping: threading.Event) -> None:
        try:
            counters = plan()
            passwords = self._seed_registry(stack, counters)
            units = self._units(stack, passwords)
            queue = self._queue(stack)
        except HailongError as exc:
            print(f"demo fleet could not start: {exc}", flush=True)
            return
        try:
            print(
                f"  demo fleet: {len(units)} simulated units; sending {self.days} days of history…",
                flush=True,
            )
            print(
                "  demo logins, with the admin's password: phongnoivu (Phòng Nội vụ), "
                f"truong-dhoi (unit head), {counters[-1].officer_id.lower()} (officer), "
                "xem (viewer)",
                flush=True,
            )
            self._history(
                counters, units, queue, stack.settings.data_dir / "fleet" / "history.done", stopping
            )
            print(f"  live ratings every {self.live_every:g} s, tickets from the queue", flush=True)
            self._live(counters, units, queue, stopping)
        finally:
            for unit in units.values():
                unit.stop()
