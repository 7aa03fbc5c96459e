"""The unit against a real Mosquitto: delivery, Ack, resend, refusal, Config, Status, burst."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from device.clock import ManualClock
from device.outbox import Outbox
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, OfficerCard, Rating
from server.broker.dynsec import DynSec
from tests.device.conftest import DEADLINE_S, ServerStub, wait_until

UnitFactory = Callable[..., Unit]


@pytest.fixture
def start_unit(running_units: Callable[[Unit], Unit], clock: ManualClock) -> UnitFactory:
    return lambda settings: running_units(Unit(settings, clock))


def press_all(unit: Unit, clock: ManualClock, scores: list[int]) -> list[Rating]:
    ratings = []
    for score in scores:
        rating = unit.press(score)
        assert rating is not None
        ratings.append(rating)
        clock.advance(5)
    return ratings


def test_a_press_is_stored_sent_acknowledged_and_deleted(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    stored_on_arrival: list[bool] = []

    def check_outbox(rating: Rating) -> None:
        with sqlite3.connect(settings.outbox_path) as db:
            row = db.execute("SELECT 1 FROM outbox WHERE id = ?", (rating.id,)).fetchone()
        stored_on_arrival.append(row is not None)

    server.on_rating = check_outbox
    unit = start_unit(settings)
    rating = unit.press(4)
    assert rating is not None
    assert wait_until(lambda: rating.id in server.ids())
    assert unit.outbox.wait_empty(DEADLINE_S)
    assert stored_on_arrival == [True]
    received = server.ratings[0]
    assert received == rating


def test_broker_down_at_start_then_ratings_are_delivered(
    broker: Any,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    broker.process.stop()
    unit = start_unit(settings)
    ratings = press_all(unit, clock, [1, 2, 3])
    assert unit.outbox.count() == 3
    assert not unit.link.connected

    broker.process.start()
    server = ServerStub(broker.server_target)
    try:
        assert unit.outbox.wait_empty(DEADLINE_S)
        assert sorted(server.ids()) == sorted(r.id for r in ratings)
    finally:
        server.close()


def test_unacknowledged_ratings_are_sent_again_after_a_reconnect(
    broker: Any,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    server = ServerStub(broker.server_target, auto_ack=False)
    unit = start_unit(settings)
    first = press_all(unit, clock, [2, 4])
    assert wait_until(lambda: len(server.ids()) == 2)
    server.close()

    broker.process.stop()
    broker.process.start()
    server = ServerStub(broker.server_target)
    try:
        assert unit.outbox.wait_empty(DEADLINE_S)
        assert {r.id for r in first} <= set(server.ids())
    finally:
        server.close()


def test_unacknowledged_ratings_are_sent_again_while_connected(
    broker: Any,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    settings = make_settings(broker.add_device("unit-1"), mqtt={"resend_s": 0.2})
    server = ServerStub(broker.server_target, auto_ack=False)
    try:
        unit = start_unit(settings)
        (rating,) = press_all(unit, clock, [3])
        assert wait_until(lambda: server.ids().count(rating.id) >= 2)
        assert unit.outbox.count() == 1
        server.ack(rating)
        assert unit.outbox.wait_empty(DEADLINE_S)
    finally:
        server.close()


def test_a_rejected_rating_is_logged_loudly_and_dropped(
    broker: Any,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    server = ServerStub(broker.server_target, auto_ack=False)
    server.on_rating = lambda rating: server.ack(rating, rejected="unknown reason code")
    try:
        unit = start_unit(settings)
        (rating,) = press_all(unit, clock, [1])
        assert unit.outbox.wait_empty(DEADLINE_S)
        assert wait_until(lambda: any("REJECTED" in r.message for r in caplog.records))
        (record,) = [r for r in caplog.records if "REJECTED" in r.message]
        assert record.levelno == logging.ERROR and rating.id in record.message
    finally:
        server.close()


def test_a_publish_to_another_devices_topic_is_refused_logged_and_kept(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    own = broker.add_device("unit-a")
    # A bound account cannot even connect as unit-b; one without a binding (made by hand) can,
    # and then the ACL must still refuse its publish.
    with DynSec(broker.server_target) as dynsec:
        dynsec.check({"command": "setClientId", "username": "unit-a"})
    as_b = make_settings(replace(own, username="unit-b"))
    # A settings file cannot say this (it is refused at load), so the check is bypassed here.
    wrong = as_b.model_copy(update={"mqtt": make_settings(own).mqtt})
    assert (wrong.device.id, wrong.mqtt.target.username) == ("unit-b", "unit-a")
    unit = start_unit(wrong)
    (rating,) = press_all(unit, clock, [3])

    def refused() -> bool:
        return any("REFUSED" in r.message and rating.id in r.message for r in caplog.records)

    assert wait_until(refused)
    record = next(r for r in caplog.records if "REFUSED" in r.message)
    assert record.levelno == logging.ERROR and "Not authorized" in record.message
    assert unit.outbox.count() == 1
    assert server.ids() == []


def test_a_retained_config_changes_the_officer_of_the_next_rating(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    officer = OfficerCard(id="cb-017", name="Nguyễn Thị Hồng Nhung", title="Chuyên viên")
    server.send_config(Config(device_id="unit-1", counter_id="Q03", officer=officer))
    unit = start_unit(settings)
    assert wait_until(lambda: unit.config is not None)
    assert unit.view().officer_name == "Nguyễn Thị Hồng Nhung"
    (first,) = press_all(unit, clock, [4])
    assert (first.officer_id, first.counter_id) == ("cb-017", "Q03")

    other = OfficerCard(id="cb-020", name="Trần Văn Bình")
    server.send_config(Config(device_id="unit-1", counter_id="Q03", officer=other))
    assert wait_until(lambda: unit.config is not None and unit.config.officer == other)
    (second,) = press_all(unit, clock, [3])
    assert second.officer_id == "cb-020"
    assert unit.outbox.wait_empty(DEADLINE_S)


def test_status_is_retained_online_then_offline_after_a_clean_stop(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
) -> None:
    unit = Unit(make_settings(broker.add_device("unit-1")), clock)
    unit.press(3)
    clock.advance(1)
    unit.press(3)  # inside the cooldown: ignored and counted
    unit.start()

    def online_and_drained() -> bool:
        status = server.status_of("unit-1")
        return status is not None and status.state == "online" and status.outbox == 0

    assert wait_until(online_and_drained)
    status = server.status_of("unit-1")
    assert status is not None
    assert status.ignored_presses == 1 and status.clock_synced is True and status.firmware
    unit.stop()
    assert wait_until(lambda: getattr(server.status_of("unit-1"), "state", "") == "offline")

    late = ServerStub(broker.server_target)  # a server started later still sees it, retained
    try:
        assert wait_until(lambda: getattr(late.status_of("unit-1"), "state", "") == "offline")
    finally:
        late.close()


def test_a_burst_of_3000_presses_all_arrive_and_are_deleted(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    unit = start_unit(make_settings(broker.add_device("unit-1")))
    ratings = press_all(unit, clock, [1 + i % 4 for i in range(3000)])
    assert [r.seq for r in ratings] == list(range(1, 3001))
    assert unit.outbox.wait_empty(300)
    assert wait_until(lambda: len(set(server.ids())) == 3000)
    assert set(server.ids()) == {r.id for r in ratings}


def test_a_wrong_password_is_logged_and_ratings_are_kept(
    broker: Any,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = replace(broker.add_device("unit-1"), password="not-the-password")
    unit = start_unit(make_settings(target))
    press_all(unit, clock, [2])
    assert wait_until(lambda: "refused the login" in caplog.text)
    assert unit.outbox.count() == 1


def test_with_no_broker_at_all_ratings_are_kept_and_stop_is_prompt(
    make_settings: Callable[..., DeviceSettings], start_unit: UnitFactory, clock: ManualClock
) -> None:
    from server.broker.mosquitto import free_port

    target = MqttTarget("127.0.0.1", free_port(), "unit-1", "pw")
    settings = make_settings(target)
    unit = start_unit(settings)
    press_all(unit, clock, [1, 4])
    unit.stop()
    reopened = Outbox(settings.outbox_path, "unit-1")
    assert [e.seq for e in reopened.pending(10)] == [1, 2]
    reopened.close()
