"""Time, Status and session against a real Mosquitto: the unit holds what it cannot date, learns
true time from a live Ack, keeps its session while away, and deletes only what an Ack names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.protocol import Ack, Config, Rating, Service, Status, topic
from tests.device.conftest import DEADLINE_S, ICT, ServerStub, wait_until

WRONG = datetime(2000, 1, 1, 0, 0, tzinfo=ICT)
TRUE = datetime(2026, 11, 23, 2, 15, 0, tzinfo=UTC)

UnitFactory = Callable[[DeviceSettings, ManualClock], Unit]


@pytest.fixture
def start_unit(running_units: Callable[[Unit], Unit]) -> UnitFactory:
    return lambda settings, clock: running_units(Unit(settings, clock))


@pytest.fixture
def quiet_server(broker: Any) -> Iterator[ServerStub]:
    """A server that does not answer Status with its time (an older server), nor ack."""
    stub = ServerStub(broker.server_target, auto_ack=False, answer_status=False)
    try:
        yield stub
    finally:
        stub.close()


def send_ack(server: ServerStub, device_id: str, ack: Ack) -> None:
    info = server._client.publish(topic(device_id, "acks"), ack.to_payload(), qos=1)
    info.wait_for_publish(DEADLINE_S)


def reported(server: ServerStub, device_id: str, check: Callable[[Status], bool]) -> bool:
    status = server.status_of(device_id)
    return status is not None and check(status)


def received(server: ServerStub, rating_id: str) -> Rating:
    assert wait_until(lambda: rating_id in server.ids()), f"rating {rating_id} never arrived"
    return next(r for r in server.ratings if r.id == rating_id)


def test_a_press_before_true_time_is_held_until_a_live_acks_server_time_dates_it(
    broker: Any,
    quiet_server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
) -> None:
    clock = ManualClock(WRONG, synced=False)
    unit = start_unit(make_settings(broker.add_device("unit-1")), clock)
    assert wait_until(lambda: unit.link.connected)
    clock.advance(3)
    pressed = unit.press(4)  # at mono 3000 ms
    assert pressed is not None and pressed.clock_synced is False
    # The Status that counts it is sent after anything ready to send: so it was held.
    assert wait_until(lambda: reported(quiet_server, "unit-1", lambda s: s.outbox == 1))
    assert quiet_server.ids() == []
    status = quiet_server.status_of("unit-1")
    assert status is not None
    assert (status.boot_id, status.clock_synced) == (clock.boot_id(), False)

    clock.advance(120)  # the Ack is heard at mono 123000 ms
    send_ack(quiet_server, "unit-1", Ack(server_time=TRUE))
    rating = received(quiet_server, pressed.id)
    assert rating.pressed_at == TRUE - timedelta(seconds=120)
    assert (rating.clock_synced, rating.seq, rating.boot_id, rating.mono_ms) == (
        True,
        pressed.seq,
        clock.boot_id(),
        3000,
    )
    send_ack(quiet_server, "unit-1", Ack(accepted=[pressed.id]))
    assert unit.outbox.wait_empty(DEADLINE_S)


def test_ntp_releases_the_held_presses_without_a_press_or_an_ack(
    broker: Any,
    quiet_server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
) -> None:
    clock = ManualClock(WRONG, synced=False)
    unit = start_unit(make_settings(broker.add_device("unit-1")), clock)
    pressed = unit.press(2)
    assert pressed is not None
    assert wait_until(lambda: reported(quiet_server, "unit-1", lambda s: s.outbox == 1))
    clock.advance(45)
    clock.step(TRUE)
    clock.is_synced = True  # the unit's own timer notices
    rating = received(quiet_server, pressed.id)
    assert (rating.pressed_at, rating.clock_synced) == (TRUE - timedelta(seconds=45), True)


def test_an_ack_queued_while_the_unit_was_away_does_not_give_the_time(
    broker: Any,
    quiet_server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
) -> None:
    """Acks the broker kept for the unit's session are old: only one heard after the broker
    confirmed this connection's Status says what time it is now."""
    settings = make_settings(broker.add_device("unit-1"))
    clock = ManualClock(WRONG, synced=False)
    first = Unit(settings, clock)
    first.start()
    pressed = first.press(3)
    assert pressed is not None
    assert wait_until(lambda: reported(quiet_server, "unit-1", lambda s: s.outbox == 1))
    first.stop()  # the session stays on the broker, and the press waits for true time
    send_ack(quiet_server, "unit-1", Ack(server_time=TRUE - timedelta(hours=5)))  # kept
    quiet_server.close()

    server = ServerStub(broker.server_target)  # this one answers every Status with its time
    try:
        clock.advance(60)
        start_unit(settings, clock)  # the same boot (the program restarted), back online
        rating = received(server, pressed.id)
        now = datetime.now(UTC)
        assert rating.clock_synced is True
        assert now - timedelta(minutes=5) < rating.pressed_at < now  # the live answer's time
    finally:
        server.close()


def test_a_past_boots_held_presses_are_sent_as_pressed_after_a_reboot(
    broker: Any,
    quiet_server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    boot1 = ManualClock(WRONG, synced=False)
    before = start_unit(settings, boot1)
    boot1.advance(7)
    pressed = before.press(1)
    assert pressed is not None
    assert wait_until(lambda: reported(quiet_server, "unit-1", lambda s: s.outbox == 1))
    before.stop()  # the boot ends before anyone told it the time
    assert quiet_server.ids() == []

    boot2 = ManualClock(WRONG + timedelta(minutes=1), synced=False)
    after = start_unit(settings, boot2)
    rating = received(quiet_server, pressed.id)
    assert rating == pressed  # its own time, clock_synced false, its boot and mono_ms
    assert (rating.clock_synced, rating.boot_id, rating.mono_ms) == (False, boot1.boot_id(), 7000)
    assert wait_until(
        lambda: reported(quiet_server, "unit-1", lambda s: s.boot_id != boot1.boot_id())
    )
    assert quiet_server.status_of("unit-1").boot_id == boot2.boot_id()  # type: ignore[union-attr]
    send_ack(quiet_server, "unit-1", Ack(accepted=[pressed.id]))
    assert after.outbox.wait_empty(DEADLINE_S)


def test_status_follows_the_configs_status_s(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    settings = make_settings(broker.add_device("unit-1"), mqtt={"status_s": 3600})
    unit = start_unit(settings, clock)
    assert wait_until(lambda: unit.link.connected)
    server.send_config(Config(device_id="unit-1", status_s=1))
    assert wait_until(lambda: unit.config is not None)
    heard = len(server.status_log)
    # With device.toml's hour only the Status at connect would come; the Config's second
    # brings one about every second, each with this boot and its monotonic time.
    assert wait_until(lambda: len(server.status_log) >= heard + 3)
    latest = server.status_log[-1]
    assert (latest.state, latest.boot_id, latest.clock_synced) == ("online", clock.boot_id(), True)
    assert latest.mono_ms == int(clock.monotonic() * 1000)


def test_a_clean_stop_publishes_the_offline_status_with_its_boot(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
) -> None:
    unit = Unit(make_settings(broker.add_device("unit-1")), clock)
    unit.start()
    assert wait_until(lambda: reported(server, "unit-1", lambda s: s.state == "online"))
    clock.advance(30)
    unit.stop()
    assert wait_until(lambda: reported(server, "unit-1", lambda s: s.state == "offline"))
    status = server.status_of("unit-1")
    assert status is not None
    assert (status.boot_id, status.mono_ms, status.clock_synced) == (clock.boot_id(), 30000, True)


def test_what_the_server_publishes_while_the_unit_is_away_reaches_it(
    broker: Any,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    """The persistent session: clean start false and a long session expiry, reconnects too."""
    settings = make_settings(broker.add_device("unit-1"))
    server = ServerStub(broker.server_target, auto_ack=False, answer_status=False)
    first = Unit(settings, clock)
    try:
        first.start()
        pressed = first.press(4)
        assert pressed is not None
        received(server, pressed.id)
        server.close()
        broker.process.stop()  # the unit reconnects by itself: with its session too
        broker.process.start()
        server = ServerStub(broker.server_target, auto_ack=False, answer_status=False)
        assert wait_until(lambda: reported(server, "unit-1", lambda s: s.outbox == 1))
        assert first.link.connected
        first.stop()  # a clean stop leaves the session on the broker
        send_ack(server, "unit-1", Ack(accepted=[pressed.id]))
        service = Service(ticket="HS-7", officer_id="cb-1")
        info = server._client.publish(topic("unit-1", "service"), service.to_payload(), qos=1)
        info.wait_for_publish(DEADLINE_S)
        server.send_config(Config(device_id="unit-1", require_service=True))

        clock.advance(10)
        again = start_unit(settings, clock)
        assert again.outbox.wait_empty(DEADLINE_S)  # only the Ack kept for it can do that
        assert wait_until(
            lambda: (
                again.config is not None
                and again.config.require_service
                and not again.view().waiting_for_service
            )
        )
        clock.advance(5)
        rating = again.press(3)
        assert rating is not None and rating.ticket == "HS-7"
    finally:
        first.stop()
        server.close()
    logins = [
        line
        for line in broker.process.cfg.log_path.read_text().splitlines()
        if "New client connected" in line and " as unit-1 " in line
    ]
    assert len(logins) >= 3 and all("c0," in line for line in logins), logins


def test_only_an_ack_naming_a_rating_deletes_it_whatever_the_clock_does(
    broker: Any,
    quiet_server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    start_unit: UnitFactory,
    clock: ManualClock,
) -> None:
    unit = start_unit(make_settings(broker.add_device("unit-1"), mqtt={"resend_s": 0.2}), clock)
    pressed = unit.press(1)
    assert pressed is not None
    received(quiet_server, pressed.id)
    clock.set(clock.now() + timedelta(days=1))  # the clock jumps a day ahead, then back
    send_ack(quiet_server, "unit-1", Ack(server_time=datetime.now(UTC)))
    clock.set(clock.now() - timedelta(days=2))
    send_ack(quiet_server, "unit-1", Ack(accepted=["5f0e8a52-3c57-4d0b-9a43-2f4f3b7d1e00"]))
    seen = quiet_server.ids().count(pressed.id)
    # Still resent after those Acks reached the unit: it was kept.
    assert wait_until(lambda: quiet_server.ids().count(pressed.id) >= seen + 2)
    assert unit.outbox.count() == 1
    send_ack(quiet_server, "unit-1", Ack(rejected=[{"id": pressed.id, "error": "unknown reason"}]))
    assert unit.outbox.wait_empty(DEADLINE_S)
