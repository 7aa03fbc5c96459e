"""Simulated units: real Unit, Outbox and Link, headless; history by setting the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from device.clock import ManualClock, SystemClock
from device.settings import DeviceSettings
from system.simulator import PressIgnored, SimulatedUnit
from tests.device.conftest import DEADLINE_S, ICT, ServerStub, wait_until


def test_presses_in_the_past_make_history(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
) -> None:
    sim = SimulatedUnit(make_settings(broker.add_device("unit-1")), clock)
    sim.start()
    try:
        day = datetime(2026, 11, 2, 9, 0, tzinfo=ICT)
        first = sim.press(4, at=day)
        second = sim.press(1, at=day + timedelta(minutes=7), reasons=["cho-lau"])
        assert first.pressed_at == day
        assert second.pressed_at == day + timedelta(minutes=7)
        assert second.reasons == ["cho-lau"]
        assert (first.seq, second.seq) == (1, 2)
        with pytest.raises(PressIgnored):
            sim.press(3)  # a live press inside the cooldown, like a citizen's double press
        earlier = sim.press(3, at=day - timedelta(seconds=1))  # history: any moment, any order
        assert earlier.seq == 3
        assert sim.wait_drained(DEADLINE_S)
        assert sim.unacked() == 0
        assert set(server.ids()) == {first.id, second.id, earlier.id}
    finally:
        sim.stop()


def test_press_at_needs_a_manual_clock(make_settings: Callable[..., DeviceSettings]) -> None:
    from hailong.mqtt import MqttTarget

    sim = SimulatedUnit(make_settings(MqttTarget("127.0.0.1", 9, "unit-1", "pw")), SystemClock())
    with pytest.raises(TypeError):
        sim.press(3, at=datetime(2026, 11, 2, 9, 0, tzinfo=ICT))
    sim.unit.outbox.close()


def test_a_fleet_of_40_units_runs_in_one_process(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
) -> None:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=ICT)
    fleet = [
        SimulatedUnit(make_settings(broker.add_device(f"unit-{n:02d}")), ManualClock(start))
        for n in range(40)
    ]
    for sim in fleet:
        sim.start()
    try:
        made = []
        for minute in (0, 10, 20):
            for n, sim in enumerate(fleet):
                made.append(sim.press(1 + (n + minute) % 4, at=start + timedelta(minutes=minute)))
        assert all(sim.wait_drained(DEADLINE_S) for sim in fleet)
        assert wait_until(lambda: len(set(server.ids())) == len(made))
        assert set(server.ids()) == {r.id for r in made}
    finally:
        for sim in fleet:
            sim.stop()
