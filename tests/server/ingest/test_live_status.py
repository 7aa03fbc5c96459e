"""The MQTT side of the time and order rules, on a real Mosquitto with the unit's own account:
a Status from the broker's backlog never dates a press, an online Status is answered with an
Ack carrying the server's time, and the issue's backdating attack is stored, flagged and left
out of the officer's figures (real SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from hailong import protocol
from hailong.mqtt import MqttTarget
from server.alerts.checks import check_order
from server.ingest.service import IngestService
from server.ingest.store import Incoming, IngestRules, store_batch
from server.policy import load_policy
from server.reporting.reports import officer_report
from server.storage.db import make_engine, migrate
from server.storage.models import Device, DeviceBoot
from server.storage.models import Rating as StoredRating
from server.timeutil import VN_TZ, vn_day
from tests.conftest import Broker
from tests.server.factories import TEST_CHAIN_KEY, seed_registry
from tests.server.test_faults import DeviceLink, wait_until

DEVICE = "dev-dh-q1"
OFFICER = "CB-0042"
SHIPPED = IngestRules(chain_key=TEST_CHAIN_KEY, misuse=load_policy().misuse)
SERVER_ID = f"hailong-{uuid.uuid4().hex}-server"  # as server/broker/client_ids.py makes them


def unit_link(target: MqttTarget) -> DeviceLink:
    """The counter unit's own MQTT link: its account and client id, reading its Acks."""
    link = DeviceLink(target, DEVICE)
    link.wait_ready()
    return link


def status(boot_id: str, mono_ms: int, state: str = "online") -> bytes:
    return protocol.Status(
        state=state,  # type: ignore[arg-type]
        firmware="1.0",
        outbox=0,
        uptime_s=mono_ms // 1000,
        at=datetime.now(UTC),
        boot_id=boot_id,
        mono_ms=mono_ms,
    ).to_payload()


def rating(seq: int, pressed_at: datetime, score: int, **extra: Any) -> protocol.Rating:
    return protocol.Rating(
        id=str(uuid.uuid4()),
        device_id=DEVICE,
        seq=seq,
        pressed_at=pressed_at,
        score=score,
        officer_id=OFFICER,
        counter_id="DH-Q1",
        **extra,
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        seed_registry(session, assigned_since=datetime.now(UTC) - timedelta(days=120))
    yield engine
    engine.dispose()


def start_server(engine: Engine, broker: Broker) -> IngestService:
    service = IngestService(
        engine, broker.server_target, client_id=SERVER_ID, rules=SHIPPED, batch_ms=20
    ).start()
    wait_until(lambda: service.liveness.since is not None, "the server's marker to come back")
    return service


def test_a_status_from_the_backlog_never_dates_presses_a_live_one_does_and_is_answered(
    broker: Broker, engine: Engine
) -> None:
    """The server is stopped while the unit publishes its Status; started again, the broker
    delivers that Status from the server's session (and its retained copy): neither says when
    the unit sent it. The next Status, received live, marks its boot and gets an Ack."""
    server = start_server(engine, broker)
    server.stop()
    unit = unit_link(broker.add_device(DEVICE))
    try:
        unit.publish("status", status("boot-backlog", 1_000), retain=True).wait_for_publish(30)
        server = start_server(engine, broker)

        def seen() -> bool:
            with Session(engine) as session:
                device = session.get(Device, DEVICE)
                return device is not None and device.state == "online"

        wait_until(seen, "the backlog Status to be stored")
        with Session(engine) as session:
            assert session.exec(select(DeviceBoot)).all() == []

        unit.publish("status", status("boot-live", 2_000)).wait_for_publish(30)
        wait_until(lambda: bool(unit.received()), "the Ack answering the live Status")
        with Session(engine) as session:
            marks = session.exec(select(DeviceBoot)).all()
        assert [(m.boot_id, m.mono_ms) for m in marks] == [("boot-live", 2_000)]
        assert server.liveness.since is not None
        assert marks[0].received_at >= server.liveness.since
        acks = unit.received()
        assert len(acks) == 1, "only the live online Status is answered"
        assert acks[0].named_ids() == set() and acks[0].server_time is not None
        assert abs(acks[0].server_time - datetime.now(UTC)) < timedelta(minutes=1)

        ahead = datetime.now(UTC) + timedelta(days=1)
        press = rating(1, ahead, 4, boot_id="boot-live", mono_ms=3_000)
        unit.publish("ratings", press.to_payload()).wait_for_publish(30)
        wait_until(lambda: press.id in unit.acked(), "the Ack of a rating a day ahead")
        ack = unit.received()[-1]
        assert ack.accepted == [press.id] and ack.server_time is not None
        with Session(engine) as session:
            row = session.get(StoredRating, press.id)
        assert row is not None and row.flags == "clock_corrected"
        assert row.pressed_at - marks[0].received_at == timedelta(seconds=1)
    finally:
        server.stop()
        unit.close()


def last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def genuine_history(engine: Engine, now: datetime) -> tuple[date, date]:
    """A month of the officer's ratings (half "Không hài lòng"), then today's, stored by the
    same rule book as the ingest: the device's seqs 1..80, each received a second after its
    press."""
    first, last = last_month(vn_day(now))
    month = [
        datetime.combine(first + timedelta(days=i // 3), datetime.min.time(), VN_TZ)
        + timedelta(hours=8 + i % 3)
        for i in range(60)
    ]
    today = [now - timedelta(hours=1) + timedelta(seconds=30 * i) for i in range(20)]
    presses = [rating(seq, at, 1 if seq % 2 else 4) for seq, at in enumerate([*month, *today], 1)]
    topic = protocol.topic(DEVICE, "ratings")
    second = timedelta(seconds=1)
    received = [Incoming(topic, p.to_payload(), p.pressed_at + second) for p in presses]
    with Session(engine) as session:
        store_batch(session, received, now, SHIPPED)
        session.commit()
    return first, last


def officer_month(engine: Engine, first: date, last: date) -> tuple[Any, ...]:
    with Session(engine) as session:
        rows = officer_report(session, first, last, policy=load_policy())
    row = next(r for r in rows if r.id == OFFICER)
    fig = row.figures
    code = row.classification.code if row.classification else None
    return (fig.ratings, fig.satisfied_pct, fig.happy_index, fig.wilson_low, code), fig.flagged


@pytest.mark.parametrize("seqs", ["fresh", "reused"])
def test_backdating_with_the_units_password_is_stored_flagged_and_left_out_of_scores(
    broker: Broker, engine: Engine, seqs: str
) -> None:
    """The issue's attack: 150 ratings of score 4 dated over last month, published in a burst
    on the officer's own unit. Before, all were stored unflagged and lifted the officer from
    "Không hoàn thành" to "Hoàn thành" in an issued month; now each is stored and flagged
    (out_of_order for new seqs, seq_reused for used ones), the month's figures stay, and the
    unit head and admin get one alert naming the unit."""
    now = datetime.now(UTC)
    first, last = genuine_history(engine, now)
    before, flagged_before = officer_month(engine, first, last)
    # 30 of 60 satisfied: under the shipped policy too few ratings for the harshest class
    assert before[0] == 60 and before[1] == 50 and before[4] == "completed"
    server = start_server(engine, broker)
    unit = unit_link(broker.add_device(DEVICE))
    try:
        unit.publish("status", status("boot-1", 86_400_000)).wait_for_publish(30)
        wait_until(lambda: bool(unit.received()), "the Ack of the unit's Status")
        start = datetime.combine(first, datetime.min.time(), VN_TZ) + timedelta(hours=8)
        forged = [
            rating(81 + i if seqs == "fresh" else 1 + i % 80, start + timedelta(hours=4 * i), 4)
            for i in range(150)
        ]
        infos = [
            unit.client.publish(protocol.topic(DEVICE, "ratings"), f.to_payload(), qos=1)
            for f in forged
        ]
        for info in infos:
            info.wait_for_publish(30)
        ids = {f.id for f in forged}
        wait_until(lambda: unit.acked() >= ids, "the forged ratings' Acks")
        with Session(engine) as session:
            rows = [session.get(StoredRating, f.id) for f in forged]
        expected = "out_of_order" if seqs == "fresh" else "seq_reused"
        assert all(r is not None and expected in r.flags.split(",") for r in rows), [
            r.flags for r in rows if r is not None
        ]
        after, flagged_after = officer_month(engine, first, last)
        assert after == before, "the attacked month's figures moved"
        in_month = sum(1 for f in forged if first <= vn_day(f.pressed_at) <= last)
        assert flagged_after == flagged_before + in_month
        with Session(engine) as session:
            raised = check_order(session, load_policy().alerts, datetime.now(UTC))
            again = check_order(session, load_policy().alerts, datetime.now(UTC))
            session.commit()
        assert [a.rule for a in raised] == ["ratings-out-of-order"] and again == []
        assert DEVICE in raised[0].message, "the alert names the unit"
    finally:
        server.stop()
        unit.close()
