"""Wrong unit clocks end to end: the real unit, a real Mosquitto and the real server ingest.

A counter's Pi has no battery clock and its office may have no NTP, so its clock may be a day
ahead or behind, seven hours off (the time zone taken for UTC), or plainly unknown after a
boot. Whatever it says, every press is stored once, on the Vietnam day it was really made,
for the officer who was serving then. Three officers share the counter around now: B until two
hours ago, A (serving now) until two hours ahead, C after; so a press dated by a wrong clock
lands on B or C, and is seen to.
"""

from __future__ import annotations

import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.protocol import Rating
from server.storage.models import Device
from server.storage.models import Rating as StoredRating
from server.timeutil import VN_TZ, vn_day
from system.simulator import SimulatedUnit
from tests.server.test_journey import server, wait_for  # noqa: F401  (fixture)
from tests.server.web.test_api import bundle_toml, login

DEVICE = "dev-dh-q1"
COUNTER = "DH-Q1"
SERVING, BEFORE, AFTER = "CB-A", "CB-B", "CB-C"
# Where the server's dating may differ from the moment the test saw: the Ack's and Status's
# way through the broker on a loaded machine. Far below the hours a wrong clock is off by.
SLACK = timedelta(seconds=30)
FAKE_HWCLOCK = timedelta(days=-3)  # a Pi restores the time it was last shut down
COOLDOWN = timedelta(seconds=3)  # the shipped policy's


class CounterClock:
    """A unit's clock seam with its wall clock `offset` from true time (which the test knows
    and the unit does not). Monotonic time runs from this boot; `elapse` lets time pass at
    once, for presses made minutes apart before the unit goes online."""

    def __init__(self, offset: timedelta, *, synced: bool) -> None:
        self.offset = offset
        self.is_synced = synced
        self._boot = uuid.uuid4().hex
        self._start = time.monotonic()
        self._elapsed = 0.0

    def now(self) -> datetime:
        return datetime.now(VN_TZ) + self.offset + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return time.monotonic() - self._start + self._elapsed

    def synced(self) -> bool:
        return self.is_synced

    def boot_id(self) -> str:
        return self._boot

    def elapse(self, seconds: float) -> None:
        self._elapsed += seconds


@dataclass
class Counter:
    client: TestClient
    settings: DeviceSettings
    now: datetime  # true time when the shifts were laid out

    def unit(self, clock: CounterClock) -> Unit:
        return Unit(self.settings, clock)

    def stored(self) -> dict[str, StoredRating]:
        with Session(self.client.app.state.engine) as session:  # type: ignore[attr-defined]
            return {r.id: r for r in session.exec(select(StoredRating)).all()}

    def device(self) -> Device:
        with Session(self.client.app.state.engine) as session:  # type: ignore[attr-defined]
            device = session.get(Device, DEVICE)
            assert device is not None
            return device


@pytest.fixture
def counter(server: TestClient, tmp_path: Path) -> Counter:  # noqa: F811
    auth = login(server, "admin")
    now = datetime.now(VN_TZ)
    shifts = [
        (BEFORE, now - timedelta(days=30), now - timedelta(hours=2)),
        (SERVING, now - timedelta(hours=2), now + timedelta(hours=2)),
        (AFTER, now + timedelta(hours=2), None),
    ]
    posts: list[tuple[str, dict[str, object]]] = [
        ("/api/v1/units", {"id": "DH", "name": "Phường Diên Hồng", "kind": "ward"}),
        ("/api/v1/fields", {"id": "tu-phap", "name": "Tư pháp – Hộ tịch"}),
        (
            "/api/v1/counters",
            {"id": COUNTER, "name": "Quầy 1", "unit_id": "DH", "field_ids": ["tu-phap"]},
        ),
    ]
    for officer, name in ((SERVING, "Nguyễn Thị Lan"), (BEFORE, "Trần Văn Bình"), (AFTER, "Lê Hà")):
        posts.append(("/api/v1/officers", {"id": officer, "name": name, "unit_id": "DH"}))
    for officer, start, end in shifts:
        posts.append(
            (
                "/api/v1/assignments",
                {
                    "officer_id": officer,
                    "counter_id": COUNTER,
                    "start": start.isoformat(),
                    "end": end.isoformat() if end else None,
                },
            )
        )
    posts.append(("/api/v1/devices", {"id": DEVICE, "counter_id": COUNTER}))
    for path, body in posts:
        r = server.post(path, json=body, headers=auth)
        assert r.status_code == 201, (path, r.text)
    data = tomllib.loads(bundle_toml(server, auth, DEVICE))
    data["device"]["data_dir"] = str(tmp_path / "unit")
    data["buttons"]["enabled"] = False
    data["screen"]["enabled"] = False
    return Counter(server, DeviceSettings.from_mapping(data), now)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def online(counter: Counter, unit: Unit) -> None:
    """The unit is connected, has its Config, and the server has its live Status."""
    wait_for(
        lambda: unit.config is not None and unit.config.officer is not None,
        what="the unit's Config with the serving officer",
    )
    assert unit.config is not None and unit.config.officer is not None
    assert unit.config.officer.id == SERVING
    wait_for(lambda: counter.device().state == "online", what="the server to hear the Status")


def press(unit: Unit, score: int) -> tuple[Rating, datetime]:
    """A citizen's press, with the true moment the test saw it happen."""
    at = datetime.now(VN_TZ)
    rating = unit.press(score)
    assert rating is not None
    return rating, at


def drained(unit: Unit, what: str) -> None:
    wait_for(lambda: unit.outbox.count() == 0, timeout=60, what=what)


def assert_stored_at(
    stored: dict[str, StoredRating], rating: Rating, true_time: datetime, flags: set[str]
) -> StoredRating:
    """Stored once, at its true time (within SLACK), on its true Vietnam day, for the officer
    serving then, with exactly these flags."""
    row = stored.get(rating.id)
    assert row is not None, f"rating {rating.id} was not stored"
    when = aware(row.pressed_at)
    assert abs(when - true_time) <= SLACK, (when.isoformat(), true_time.isoformat(), row.flags)
    assert row.day == vn_day(true_time)
    assert row.officer_id == SERVING, (row.officer_id, row.flags)
    assert set(filter(None, row.flags.split(","))) == flags
    assert row.seq == rating.seq
    return row


@pytest.mark.parametrize(
    "offset",
    [timedelta(days=1), timedelta(days=-1), timedelta(hours=7), timedelta(hours=-7)],
    ids=["a-day-ahead", "a-day-behind", "7h-ahead", "7h-behind"],
)
def test_a_clock_that_claims_to_be_synchronised_but_is_off(
    counter: Counter, running_units: Callable[[Unit], Unit], offset: timedelta
) -> None:
    """Set by hand, or its time zone taken for UTC: the unit cannot know and sends what its
    clock says; the server dates the press from the unit's live Status and flags it."""
    clock = CounterClock(offset, synced=True)
    unit = running_units(counter.unit(clock))
    online(counter, unit)
    rating, at = press(unit, 4)
    assert abs(rating.pressed_at - (at + offset)) <= SLACK  # what the unit's clock said
    assert rating.clock_synced is True and rating.boot_id == clock.boot_id()
    drained(unit, "the server's Ack")
    stored = counter.stored()
    assert_stored_at(stored, rating, at, {"clock_corrected"})
    assert len(stored) == 1


def test_presses_before_true_time_are_dated_by_the_servers_time(
    counter: Counter, running_units: Callable[[Unit], Unit]
) -> None:
    """Six presses from 09:00 to 09:50 once arrived with one receipt time and five were left
    out as cooldown/burst: now each keeps its own moment, learnt from the server's time."""
    clock = CounterClock(FAKE_HWCLOCK, synced=False)
    unit = counter.unit(clock)  # the network is down while citizens rate
    made = []
    for score in (4, 3, 1, 4):
        made.append(press(unit, score))
        clock.elapse(600)
    assert all(r.clock_synced is False for r, _ in made)
    assert unit.outbox.pending() == []  # held: their time is not known yet
    came_back = datetime.now(VN_TZ)
    running_units(unit)
    drained(unit, "the server's time (an Ack to the Status) to date and release the presses")
    stored = counter.stored()
    for n, (rating, _) in enumerate(made):
        true_time = came_back - timedelta(seconds=600 * (len(made) - n))
        row = assert_stored_at(stored, rating, true_time, set())
        assert row.clock_synced is True
    assert len(stored) == len(made)


def test_a_boot_that_ended_before_it_knew_the_time_after_its_status_reached_the_server(
    counter: Counter, running_units: Callable[[Unit], Unit], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit's Status reached the server, but the unit was switched off before it handled
    the server's answer: the next boot sends those presses as pressed (clock_synced false),
    and the server dates them from the first boot's live Status."""
    first_boot = CounterClock(FAKE_HWCLOCK, synced=False)
    unit = counter.unit(first_boot)
    earlier, _ = press(unit, 2)
    first_boot.elapse(300)
    monkeypatch.setattr(unit, "learn_time", lambda server_time, received_mono: None)
    came_back = datetime.now(VN_TZ)
    running_units(unit)
    online(counter, unit)
    later, later_at = press(unit, 4)
    unit.stop()  # switched off: the boot is over, its presses never knew the time
    assert counter.stored() == {}

    second_boot = CounterClock(FAKE_HWCLOCK, synced=False)
    again = running_units(counter.unit(second_boot))
    drained(again, "the first boot's presses to be acknowledged")
    online(counter, again)
    # The next citizen, not a double press across the reboot (the server's cooldown).
    wait_for(lambda: datetime.now(VN_TZ) - later_at > 2 * COOLDOWN, what="the next citizen")
    fresh, fresh_at = press(again, 3)  # this boot hears the server's time
    drained(again, "the server's time to date the second boot's press")
    stored = counter.stored()
    assert_stored_at(stored, earlier, came_back - timedelta(seconds=300), {"clock_corrected"})
    assert_stored_at(stored, later, later_at, {"clock_corrected"})
    assert stored[earlier.id].clock_synced is False
    assert_stored_at(stored, fresh, fresh_at, set())
    assert len(stored) == 3


def test_a_boot_that_never_went_online_before_it_ended(
    counter: Counter, running_units: Callable[[Unit], Unit]
) -> None:
    """No live Status of that boot ever reached the server, so nobody can know when its press
    was made: it is dated by its receipt, flagged time_unknown, and counted for the officer it
    shows, who was assigned to the counter within the seven days before."""
    yesterday = running_units(counter.unit(CounterClock(timedelta(0), synced=True)))
    online(counter, yesterday)  # the unit learns who serves (the Config is kept on disk)
    yesterday.stop()

    offline_boot = CounterClock(FAKE_HWCLOCK, synced=False)
    unit = counter.unit(offline_boot)
    rating, _ = press(unit, 1)
    assert rating.officer_id == SERVING and rating.clock_synced is False
    unit.outbox.close()  # the power goes; the network never came back in that boot

    received_from = datetime.now(VN_TZ)
    again = running_units(counter.unit(CounterClock(FAKE_HWCLOCK, synced=False)))
    drained(again, "the old boot's press to be acknowledged")
    received_by = datetime.now(VN_TZ)
    row = counter.stored()[rating.id]
    assert received_from <= aware(row.pressed_at) <= received_by + SLACK
    assert set(filter(None, row.flags.split(","))) == {"time_unknown"}
    assert (row.officer_id, row.clock_synced) == (SERVING, False)


def test_history_made_by_the_simulator_keeps_its_days(
    counter: Counter, running_units: Callable[[Unit], Unit]
) -> None:
    """A simulated unit's ManualClock set to a past day makes history: those presses are dated
    as it says, not moved to now by the server's clock rules, even when made just after the
    unit's live Status (they carry no boot, so the server has no Status to date them by)."""
    moment = counter.now - timedelta(days=10)  # B's shift
    clock = ManualClock(moment)
    sim = SimulatedUnit(counter.settings, clock)
    running_units(sim.unit)
    online(counter, sim.unit)
    made = [sim.press(4, at=moment + timedelta(minutes=1)), sim.press(2, at=moment)]
    live = sim.press(3, at=datetime.now(VN_TZ))  # the demo's live presses, too
    drained(sim.unit, "the server's Ack of the history")
    stored = counter.stored()
    for rating in made:
        row = stored[rating.id]
        assert aware(row.pressed_at) == rating.pressed_at
        assert (row.day, row.officer_id) == (vn_day(rating.pressed_at), BEFORE)
        assert row.flags == "officer_mismatch"  # the unit showed today's officer, A
    assert stored[live.id].officer_id == SERVING
