"""Time on the unit: boot id and monotonic stamps, presses waiting for true time and dated by
NTP or an Ack's `server_time`, a past boot's presses, and a clock that claims to be right."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, Rating
from system.simulator import PlacingGuard
from tests.device.conftest import ICT

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")  # never started: never connects
WRONG = datetime(2000, 1, 1, 0, 0, tzinfo=ICT)  # a Pi without a battery clock after boot
TRUE = datetime(2026, 11, 23, 9, 15, 2, 123000, tzinfo=UTC)


@pytest.fixture
def unsynced() -> ManualClock:
    return ManualClock(WRONG, synced=False)


@pytest.fixture
def offline_unit(
    make_settings: Callable[..., DeviceSettings], unsynced: ManualClock
) -> Iterator[Unit]:
    unit = Unit(make_settings(NOWHERE), unsynced)
    yield unit
    unit.outbox.close()


def press(unit: Unit, score: int = 3) -> Rating:
    rating = unit.press(score)
    assert rating is not None
    return rating


def sent(unit: Unit) -> dict[str, Rating]:
    """What the link would send now, by id."""
    entries = unit.outbox.pending(100)
    return {e.id: Rating.model_validate_json(e.payload) for e in entries}


def test_every_live_press_and_status_carries_the_boot_and_its_monotonic_time(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    unit = Unit(make_settings(NOWHERE), clock)
    clock.advance(12.3456)
    rating = press(unit)
    assert (rating.boot_id, rating.mono_ms) == (clock.boot_id(), 12345)
    assert rating.boot_id and len(rating.boot_id) <= 64
    clock.advance(60)
    status = unit.status("online")
    assert (status.boot_id, status.mono_ms, status.clock_synced) == (
        clock.boot_id(),
        72345,
        True,
    )
    assert ManualClock(WRONG).boot_id() != clock.boot_id()  # each clock is a boot of its own
    unit.outbox.close()


def test_made_up_history_carries_no_boot_and_is_dated_as_the_simulator_says(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock, guard: PlacingGuard
) -> None:
    """The simulator sets the clock to past days: tied to this boot's Status, its presses
    would be dated now by the server."""
    unit = Unit(make_settings(NOWHERE), clock, guard)
    day = datetime(2026, 10, 2, 9, 0, tzinfo=ICT)
    clock.set(day)
    with guard.placing(history=True):
        rating = unit.press(4)
    assert rating is not None
    assert (rating.pressed_at, rating.clock_synced, rating.boot_id, rating.mono_ms) == (
        day,
        True,
        None,
        None,
    )
    clock.advance(1)
    with guard.placing():
        load = unit.press(2)  # a load generator's press is a press of this boot
    assert load is not None
    assert (load.boot_id, load.mono_ms) == (clock.boot_id(), int(clock.monotonic() * 1000))
    assert list(sent(unit)) == [rating.id, load.id]
    unit.outbox.close()


def test_a_press_before_true_time_is_known_waits_and_is_counted(
    offline_unit: Unit, unsynced: ManualClock
) -> None:
    rating = press(offline_unit)
    assert (rating.clock_synced, rating.pressed_at) == (False, WRONG)
    assert offline_unit.outbox.count() == 1
    assert sent(offline_unit) == {}
    assert offline_unit.status("online").outbox == 1


def test_an_acks_server_time_dates_the_waiting_presses_exactly(
    offline_unit: Unit, unsynced: ManualClock
) -> None:
    unsynced.advance(5)
    first = press(offline_unit, 4)  # mono 5000 ms
    unsynced.advance(12.345)
    second = press(offline_unit, 2)  # mono 17345 ms
    unsynced.advance(600)
    offline_unit.learn_time(TRUE, unsynced.monotonic())  # heard at mono 617345 ms
    dated = sent(offline_unit)
    assert dated[first.id].pressed_at == TRUE - timedelta(milliseconds=612345)
    assert dated[second.id].pressed_at == TRUE - timedelta(seconds=600)
    for rating, original in ((dated[first.id], first), (dated[second.id], second)):
        assert rating.clock_synced is True
        assert rating.pressed_at.utcoffset() == timedelta(hours=7)  # the unit's own offset
        assert rating == original.model_copy(
            update={"pressed_at": rating.pressed_at, "clock_synced": True}
        )

    unsynced.advance(30)  # the clock is still wrong, but this boot knows true time now
    third = press(offline_unit)
    assert (third.pressed_at, third.clock_synced) == (TRUE + timedelta(seconds=30), True)
    assert third.id in sent(offline_unit)


def test_the_least_delayed_ack_gives_the_time(offline_unit: Unit, unsynced: ManualClock) -> None:
    """An Ack is never heard before it was sent; one that waited in a queue is behind."""
    unsynced.advance(100)
    offline_unit.learn_time(TRUE, unsynced.monotonic())
    unsynced.advance(10)
    offline_unit.learn_time(TRUE - timedelta(seconds=50), unsynced.monotonic())  # delayed
    unsynced.advance(10)
    assert press(offline_unit).pressed_at == TRUE + timedelta(seconds=20)
    offline_unit.learn_time(TRUE + timedelta(seconds=30), unsynced.monotonic())  # better
    unsynced.advance(5)
    assert press(offline_unit).pressed_at == TRUE + timedelta(seconds=35)


def test_ntp_dates_the_waiting_presses_when_the_clock_becomes_synchronised(
    offline_unit: Unit, unsynced: ManualClock
) -> None:
    first = press(offline_unit)  # mono 0
    unsynced.advance(90.5)
    unsynced.step(TRUE)  # NTP steps the wall clock; monotonic time does not move
    unsynced.is_synced = True
    unsynced.advance(9.5)
    second = press(offline_unit)  # the next press (or the unit's tick) notices first
    dated = sent(offline_unit)
    assert dated[first.id].pressed_at == TRUE - timedelta(seconds=90.5)
    assert dated[first.id].clock_synced is True
    assert (second.pressed_at, second.clock_synced) == (TRUE + timedelta(seconds=9.5), True)


def test_a_past_boots_presses_go_as_pressed_when_the_next_boot_starts(
    make_settings: Callable[..., DeviceSettings], unsynced: ManualClock
) -> None:
    settings = make_settings(NOWHERE)
    before = Unit(settings, unsynced)
    unsynced.advance(42)
    pressed = press(before)
    before.outbox.close()  # the power goes before true time is known
    again = Unit(settings, unsynced)  # the same boot (the program restarted): still waiting
    assert sent(again) == {}
    again.outbox.close()

    rebooted = Unit(settings, ManualClock(WRONG, synced=False))
    assert sent(rebooted) == {pressed.id: pressed}  # as pressed: clock_synced false
    assert (pressed.clock_synced, pressed.boot_id, pressed.mono_ms) == (
        False,
        unsynced.boot_id(),
        42000,
    )
    rebooted.learn_time(TRUE, 0)  # true time of the new boot does not date the old one
    assert sent(rebooted) == {pressed.id: pressed}
    rebooted.outbox.close()


def test_a_synchronised_clock_far_from_the_servers_is_kept_and_reported(
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A clock set by hand one day ahead says it is synchronised: the unit cannot tell which
    is right, sends what its clock says and warns; the server corrects it from the Status."""
    unit = Unit(make_settings(NOWHERE), clock)
    rating = press(unit)
    ahead = clock.now() - timedelta(days=1)
    with caplog.at_level(logging.WARNING):
        unit.learn_time(ahead, clock.monotonic())
        unit.learn_time(ahead, clock.monotonic())
    warnings = [r for r in caplog.records if "off the server's time" in r.message]
    assert len(warnings) == 1 and "+86400 s" in warnings[0].message
    assert sent(unit) == {rating.id: rating}
    clock.advance(5)
    assert press(unit).pressed_at == clock.now()
    unit.outbox.close()


def test_a_retained_configs_server_time_is_not_taken_as_now(
    offline_unit: Unit, unsynced: ManualClock
) -> None:
    """It says when the Config was published, which may be days ago."""
    press(offline_unit)
    offline_unit.apply_config(Config(device_id="unit-1", server_time=TRUE, status_s=30))
    assert sent(offline_unit) == {}
    assert offline_unit.link.status_s == 30  # the rest of the Config applies
