"""The unit without a network: what a press becomes, cooldown, Config, Service and the view."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, OfficerCard, Service

# A port nothing listens on: these units are never started, so they never connect.
NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
OFFICER = OfficerCard(id="cb-017", name="Nguyễn Thị Hồng Nhung", title="Chuyên viên")


@pytest.fixture
def unit(make_settings: Callable[..., DeviceSettings], clock: ManualClock) -> Iterator[Unit]:
    u = Unit(make_settings(NOWHERE), clock)
    yield u
    u.outbox.close()


def config(**changes: object) -> Config:
    fields: dict[str, object] = {"device_id": "unit-1", "counter_id": "Q03", "officer": OFFICER}
    fields.update(changes)
    return Config.model_validate(fields)


def test_a_rating_is_taken_before_any_config(unit: Unit) -> None:
    rating = unit.press(2)
    assert rating is not None
    assert (rating.seq, rating.score, rating.scale) == (1, 2, "vn4")
    assert rating.officer_id is None and rating.counter_id is None
    assert rating.device_id == "unit-1"
    assert rating.pressed_at.isoformat().startswith("2026-11-23T08:00:00")
    assert rating.pressed_at.utcoffset() is not None
    assert unit.outbox.count() == 1


def test_the_rating_is_stored_before_the_link_is_asked_to_send(unit: Unit) -> None:
    seen_at_kick: list[list[str]] = []
    unit.link.kick = lambda: seen_at_kick.append([e.id for e in unit.outbox.pending(10)])  # type: ignore[method-assign]
    rating = unit.press(4, input="touch")
    assert rating is not None and rating.input == "touch"
    assert seen_at_kick == [[rating.id]]


def test_presses_inside_the_cooldown_are_ignored_and_counted(
    unit: Unit, clock: ManualClock
) -> None:
    unit.apply_config(config(cooldown_s=5))
    assert unit.press(3) is not None
    clock.advance(4.9)
    assert unit.press(3) is None
    assert unit.press(1) is None
    assert unit.ignored_presses == 2
    assert unit.press(2, live=False) is not None  # made-up history is not a double press
    assert unit.status("online").ignored_presses == 2
    clock.advance(5.1)
    assert unit.press(1) is not None
    assert unit.outbox.count() == 3


def test_config_sets_officer_counter_and_scale_of_the_next_rating(
    unit: Unit, clock: ManualClock
) -> None:
    unit.apply_config(config(scale="vn3"))
    rating = unit.press(3)
    assert rating is not None
    assert (rating.officer_id, rating.counter_id, rating.scale) == ("cb-017", "Q03", "vn3")
    clock.advance(10)
    assert unit.press(4) is None  # not a level of vn3
    unit.apply_config(config(officer=None))
    rating = unit.press(1)
    assert rating is not None and rating.officer_id is None


def test_a_config_for_another_device_is_ignored(unit: Unit) -> None:
    unit.apply_config(config(device_id="unit-2"))
    assert unit.config is None


def test_the_last_config_is_remembered_across_restarts(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    first = Unit(make_settings(NOWHERE), clock)
    first.apply_config(config())
    first.outbox.close()
    again = Unit(make_settings(NOWHERE), clock)
    assert again.config == config()
    assert again.view().officer_name == OFFICER.name
    again.outbox.close()


def test_a_service_adds_its_ticket_and_require_service_waits_for_one(
    unit: Unit, clock: ManualClock
) -> None:
    unit.apply_config(config(require_service=True))
    assert unit.view().waiting_for_service
    assert unit.press(4) is None
    assert unit.ignored_presses == 0  # not a cooldown press
    unit.open_service(Service(ticket="HS-0042", officer_id="cb-020", open_s=30))
    assert not unit.view().waiting_for_service
    rating = unit.press(4)
    assert rating is not None
    assert (rating.ticket, rating.officer_id) == ("HS-0042", "cb-020")
    clock.advance(5)
    assert unit.press(4) is None  # one transaction, one rating


def test_an_unsynchronised_clock_is_reported(unit: Unit, clock: ManualClock) -> None:
    clock.is_synced = False
    rating = unit.press(3)
    assert rating is not None and rating.clock_synced is False
    assert unit.status("online").clock_synced is False


def test_the_view_thanks_then_returns_to_idle(unit: Unit, clock: ManualClock) -> None:
    unit.apply_config(config(unit_name="UBND phường Bến Nghé"))
    view = unit.view()
    assert (view.page, view.officer_name, view.counter_id) == ("idle", OFFICER.name, "Q03")
    unit.press(4)
    view = unit.view()
    assert (view.page, view.chosen) == ("thanks", 4)
    clock.advance(3.1)
    assert unit.view().page == "idle"


def test_status_reports_backlog_uptime_and_firmware(unit: Unit, clock: ManualClock) -> None:
    unit.press(3)
    clock.advance(61)
    status = unit.status("online")
    assert (status.state, status.outbox, status.uptime_s) == ("online", 1, 61)
    assert status.firmware
    assert unit.status("offline").state == "offline"
