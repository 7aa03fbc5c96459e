"""Simulated units: real Unit, Outbox and Link, headless; history by setting the clock."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from device.clock import ManualClock, SystemClock
from device.settings import DeviceSettings
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, Reason
from system.simulator import USUAL, PressIgnored, SimulatedUnit, choose_reasons
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


def test_citizens_choose_reasons_after_a_low_score_with_realistic_weights() -> None:
    rng = random.Random(14)
    worst = [choose_reasons(rng, 1) for _ in range(4000)]
    middling = [choose_reasons(rng, 2) for _ in range(4000)]
    assert all(choose_reasons(rng, score) == [] for score in (3, 4) for _ in range(200))
    assert all(choose_reasons(rng, 2, "vn3") == [] for _ in range(200))  # Hài lòng on vn3
    given = sum(1 for r in worst if r) / len(worst)
    assert 0.70 < given < 0.80  # three in four give a reason after Không hài lòng
    assert 0.40 < sum(1 for r in middling if r) / len(middling) < 0.50
    sizes = Counter(len(r) for r in worst if r)
    assert sizes[1] > sizes[2] > sizes[3] > 0 and set(sizes) == {1, 2, 3}
    mentions = Counter(code for r in worst + middling for code in r)
    ranked = [code for code, _ in mentions.most_common()]
    assert ranked == ["wait_time", "paperwork", "late_result", "guidance", "attitude", "facilities"]
    for r in worst:
        assert len(set(r)) == len(r) and r == [c for c in USUAL if c in r]  # in the page's order
    again = random.Random(14)
    assert [choose_reasons(again, 1) for _ in range(4000)] == worst  # a seed gives one history


def test_choices_come_from_what_the_config_offers() -> None:
    rng = random.Random(3)
    offered = ["facilities", "queue_display"]  # a code without a weight weighs 1
    made = [choose_reasons(rng, 1, "vn3", offered) for _ in range(500)]
    assert {c for r in made for c in r} == set(offered)
    assert choose_reasons(rng, 1, offered=[]) == []


def test_a_simulated_citizen_gives_reasons_unless_told_otherwise(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    nowhere = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
    sim = SimulatedUnit(make_settings(nowhere), clock, rng=random.Random(5))
    offered = [Reason(code="wait_time", label_vi="Chờ đợi lâu", label_en="Long wait")]
    sim.unit.apply_config(Config(device_id="unit-1", reasons=offered))
    day = datetime(2026, 11, 2, 9, 0, tzinfo=ICT)
    try:
        low = [sim.press(1, at=day + timedelta(minutes=m)).reasons for m in range(40)]
        assert ["wait_time"] in low and [] in low
        assert all(r in ([], ["wait_time"]) for r in low)
        assert sim.press(1, at=day, reasons=()).reasons == []
        assert all(sim.press(4, at=day).reasons == [] for _ in range(20))
    finally:
        sim.unit.outbox.close()
