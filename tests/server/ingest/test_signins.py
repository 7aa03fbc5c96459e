"""An officer's SignIn through store_batch on real SQLite and PostgreSQL: the assignment it starts
and ends, how it wins over the registry's shifts, the next rating's officer, the Ack's answers,
and wrong PINs that lock a unit's sign-in for a while."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from hailong import protocol
from server.ingest.signins import SignInRules, sign_in_time
from server.ingest.store import BatchResult, Incoming, IngestRules, store_batch
from server.registry.clashes import check_assignment
from server.registry.credentials import set_credentials
from server.registry.device_config import config_for
from server.registry.roster import roster
from server.registry.rota_writes import put_rota
from server.storage.models import (
    Assignment,
    AuditEvent,
    Counter,
    Device,
    Officer,
    RejectedMessage,
    Unit,
)
from server.storage.models import Rating as StoredRating
from server.storage.schedule import RotaCreate
from tests.server.factories import RATINGS_TOPIC, TEST_CHAIN_KEY, rating_payload

SECRET = "s" * 40
RULES = IngestRules(chain_key=TEST_CHAIN_KEY, signin=SignInRules(secret=SECRET))
DEVICE = "dev-dh-q1"
TOPIC = protocol.topic(DEVICE, "signin")
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 10:00 on Saturday 21 November in Vietnam
MIDNIGHT = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # the end of that day in Vietnam
PINS = {"CB-0042": "4242", "CB-0043": "4343", "CB-0044": "4444"}


def setup(session: Session, method: str = "pin") -> None:
    """seed_registry's DH-Q1 (CB-0042 assigned there since January, no end), two more officers,
    a second counter, everyone's PIN, and the unit's sign-in method."""
    unit = session.get(Unit, "DH")
    assert unit is not None
    unit.signin = method
    session.add(unit)
    session.add(Officer(id="CB-0043", name="Trần Văn Bình", unit_id="DH"))
    session.add(Officer(id="CB-0044", name="Phạm Thu Hà", unit_id="DH"))
    session.add(Counter(id="DH-Q2", name="Quầy 2", unit_id="DH"))
    session.commit()
    for officer_id, pin in PINS.items():
        set_credentials(session, SECRET, officer_id, {"pin": pin}, "admin", NOW - timedelta(days=1))


def signin(pin: str, at: datetime, action: str = "in", kind: str = "pin") -> bytes:
    return protocol.SignIn(
        id=str(uuid.uuid4()),
        action=action,  # type: ignore[arg-type]
        credential=protocol.Credential(kind=kind, value=pin),  # type: ignore[arg-type]
        at=at,
    ).to_payload()


def send(
    session: Session, payload: bytes, received_at: datetime, topic: str = TOPIC
) -> tuple[protocol.Ack, BatchResult]:
    message = Incoming(topic, payload, received_at, received_at - timedelta(hours=2), False)
    result = store_batch(session, [message], received_at, RULES)
    session.commit()
    (ack,) = result.acks[protocol.parse_topic(topic)[0]]
    return ack, result


def accepted(session: Session, payload: bytes, received_at: datetime) -> None:
    ack, result = send(session, payload, received_at)
    assert ack.accepted == [json.loads(payload)["id"]], ack
    assert result.configs_changed


def refusal(session: Session, payload: bytes, received_at: datetime) -> str:
    ack, result = send(session, payload, received_at)
    assert [r.id for r in ack.rejected] == [json.loads(payload)["id"]], ack
    assert not result.configs_changed
    return ack.rejected[0].error


def rated_officer(session: Session, pressed_at: datetime, seq: int) -> str | None:
    payload = rating_payload(seq=seq, pressed_at=pressed_at.isoformat())
    message = Incoming(RATINGS_TOPIC, payload, pressed_at, pressed_at - timedelta(hours=2), False)
    assert store_batch(session, [message], pressed_at, RULES).stored == 1
    session.commit()
    row = session.get(StoredRating, json.loads(payload)["id"])
    assert row is not None
    return row.officer_id


def sign_ins(session: Session) -> list[tuple[str, str, datetime, datetime | None]]:
    rows = session.exec(
        select(Assignment).where(Assignment.source == "signin").order_by(col(Assignment.id))
    ).all()
    return [
        (
            a.officer_id,
            a.counter_id,
            a.start.replace(tzinfo=UTC),
            a.end and a.end.replace(tzinfo=UTC),
        )
        for a in rows
    ]


def shown(session: Session, at: datetime) -> str | None:
    device = session.get(Device, DEVICE)
    assert device is not None
    officer = config_for(session, device, at).officer
    return officer.id if officer else None


def test_a_sign_in_overrides_the_registry_for_the_day_takes_the_next_rating_and_ends_at_sign_out(
    session: Session,
) -> None:
    setup(session)
    assert rated_officer(session, NOW - timedelta(minutes=5), 1) == "CB-0042"
    first = signin(PINS["CB-0043"], NOW)
    accepted(session, first, NOW + timedelta(seconds=1))
    assert sign_ins(session) == [("CB-0043", "DH-Q1", NOW, MIDNIGHT)]
    assert shown(session, NOW + timedelta(seconds=2)) == "CB-0043"
    assert rated_officer(session, NOW + timedelta(minutes=5), 2) == "CB-0043"

    # the same SignIn resent (its Ack lost) is a duplicate and changes nothing
    ack, result = send(session, first, NOW + timedelta(seconds=30))
    assert ack.duplicate == [json.loads(first)["id"]] and not result.configs_changed
    assert len(sign_ins(session)) == 1

    # the roster shows where each piece came from; the registry's one-off resumes after it
    shifts = roster(session, "DH", NOW - timedelta(hours=1), MIDNIGHT + timedelta(hours=1))
    assert [(s.officer_id, s.source, s.start, s.end) for s in shifts] == [
        ("CB-0042", "assignment", datetime(2026, 1, 1, tzinfo=UTC), NOW),
        ("CB-0043", "signin", NOW, MIDNIGHT),
        ("CB-0042", "assignment", MIDNIGHT, None),
    ]

    # another officer's card cannot sign them out; their own PIN does
    later = NOW + timedelta(hours=1)
    reason = refusal(session, signin(PINS["CB-0044"], later, "out"), later)
    assert reason.startswith("Cán bộ chưa đăng nhập tại quầy này")
    accepted(session, signin(PINS["CB-0043"], later, "out"), later)
    assert sign_ins(session) == [("CB-0043", "DH-Q1", NOW, later)]
    assert rated_officer(session, later + timedelta(minutes=5), 3) == "CB-0042"
    events = session.exec(
        select(AuditEvent.action, AuditEvent.detail)
        .where(col(AuditEvent.action).startswith("signin."))
        .order_by(col(AuditEvent.id))
    ).all()
    assert [action for action, _ in events] == ["signin.in", "signin.refused", "signin.out"]
    assert all(pin not in detail for _, detail in events for pin in PINS.values())
    assert '"officer_id": "CB-0043"' in events[0][1] and '"device_id": "dev-dh-q1"' in events[0][1]


def test_a_sign_in_lasts_the_rota_shift_and_one_officer_is_ever_on_duty(session: Session) -> None:
    setup(session)
    seeded = session.exec(select(Assignment)).one()
    seeded.end = NOW - timedelta(days=30)
    session.add(seeded)
    session.commit()
    rota = {"counter_id": "DH-Q1", "officer_id": "CB-0042", "from": "2026-11-01"}
    put_rota(session, RotaCreate.model_validate({**rota, "start": "07:30", "end": "11:30"}))
    shift_end = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)  # 11:30 in Vietnam

    accepted(session, signin(PINS["CB-0043"], NOW), NOW)
    half_past = NOW + timedelta(minutes=30)
    accepted(session, signin(PINS["CB-0044"], half_past), half_past)
    # CB-0044 signs in at the other counter: their sign-in here ends, the rota resumes
    device2 = Device(id="dev-dh-q2", counter_id="DH-Q2", created_at=NOW - timedelta(days=1))
    session.add(device2)
    session.commit()
    at_q2 = NOW + timedelta(minutes=40)
    ack, _ = send(
        session, signin(PINS["CB-0044"], at_q2), at_q2, protocol.topic("dev-dh-q2", "signin")
    )
    assert len(ack.accepted) == 1
    assert sign_ins(session) == [
        ("CB-0043", "DH-Q1", NOW, half_past),
        ("CB-0044", "DH-Q1", half_past, at_q2),
        ("CB-0044", "DH-Q2", at_q2, MIDNIGHT),  # no shift planned at DH-Q2: the day's end
    ]
    shifts = roster(session, "DH", NOW - timedelta(hours=3), MIDNIGHT)
    by_counter = [(s.counter_id, s.officer_id, s.source, s.start, s.end) for s in shifts]
    assert by_counter == [
        ("DH-Q1", "CB-0042", "rota", datetime(2026, 11, 21, 0, 30, tzinfo=UTC), NOW),
        ("DH-Q1", "CB-0043", "signin", NOW, half_past),
        ("DH-Q1", "CB-0044", "signin", half_past, at_q2),
        ("DH-Q1", "CB-0042", "rota", at_q2, shift_end),
        ("DH-Q2", "CB-0044", "signin", at_q2, MIDNIGHT),
    ]
    # a sign-in at DH-Q1 during the rota shift ends with it
    accepted(
        session, signin(PINS["CB-0043"], at_q2 + timedelta(minutes=1)), at_q2 + timedelta(minutes=1)
    )
    assert sign_ins(session)[-1] == ("CB-0043", "DH-Q1", at_q2 + timedelta(minutes=1), shift_end)
    # the registry's own writes are not refused by a sign-in: it wins where they meet
    check_assignment(
        session,
        Assignment(officer_id="CB-0044", counter_id="DH-Q1", start=MIDNIGHT - timedelta(hours=2)),
    )


def test_an_officer_signed_in_at_another_counter_is_not_at_the_one_their_rota_names(
    session: Session,
) -> None:
    setup(session)
    seeded = session.exec(select(Assignment)).one()
    seeded.end = NOW - timedelta(days=30)
    session.add(seeded)
    rota = {"counter_id": "DH-Q1", "officer_id": "CB-0042", "from": "2026-11-01"}
    put_rota(session, RotaCreate.model_validate({**rota, "start": "07:30", "end": "11:30"}))
    session.add(Device(id="dev-dh-q2", counter_id="DH-Q2", created_at=NOW - timedelta(days=1)))
    session.commit()
    at_q2 = protocol.topic("dev-dh-q2", "signin")
    ack, _ = send(session, signin(PINS["CB-0042"], NOW), NOW, at_q2)
    assert len(ack.accepted) == 1
    later = NOW + timedelta(minutes=30)
    ack, _ = send(session, signin(PINS["CB-0042"], later, "out"), later, at_q2)
    assert len(ack.accepted) == 1
    shifts = roster(session, "DH", NOW - timedelta(hours=3), MIDNIGHT)
    assert [(s.counter_id, s.officer_id, s.source, s.start, s.end) for s in shifts] == [
        ("DH-Q1", "CB-0042", "rota", datetime(2026, 11, 21, 0, 30, tzinfo=UTC), NOW),
        ("DH-Q1", "CB-0042", "rota", later, datetime(2026, 11, 21, 4, 30, tzinfo=UTC)),
        ("DH-Q2", "CB-0042", "signin", NOW, later),
    ]
    assert shown(session, NOW + timedelta(minutes=10)) is None  # DH-Q1's unit: nobody there
    assert rated_officer(session, NOW + timedelta(minutes=10), 1) is None
    assert rated_officer(session, later + timedelta(minutes=10), 2) == "CB-0042"


def test_five_wrong_pins_lock_the_units_sign_in_for_a_minute_even_for_the_right_pin(
    session: Session,
) -> None:
    setup(session)
    right = PINS["CB-0043"]
    assert (
        refusal(session, signin("9999", NOW), NOW)
        == "Sai mã PIN (còn 4 lần); wrong PIN (4 tries left)"
    )
    accepted(session, signin(right, NOW), NOW)  # a success starts the count again
    reasons = [refusal(session, signin("9999", NOW), NOW + timedelta(seconds=i)) for i in range(5)]
    assert [r.split(";")[0] for r in reasons] == [
        "Sai mã PIN (còn 4 lần)",
        "Sai mã PIN (còn 3 lần)",
        "Sai mã PIN (còn 2 lần)",
        "Sai mã PIN (còn 1 lần)",
        "Sai mã PIN. Tạm khóa đăng nhập đến 10:02",  # locked at 10:00:04 until 10:01:04
    ]
    locked_at = NOW + timedelta(seconds=4)
    other = PINS["CB-0044"]
    assert refusal(
        session, signin(other, locked_at + timedelta(seconds=59)), locked_at + timedelta(seconds=59)
    ) == ("Tạm khóa đăng nhập đến 10:02; sign-in locked until 10:02")
    assert [a[0] for a in sign_ins(session)] == ["CB-0043"]
    after = locked_at + timedelta(seconds=60)
    accepted(session, signin(other, after), after)
    assert [a[0] for a in sign_ins(session)] == ["CB-0043", "CB-0044"]
    # the lock is the unit's: another unit of the same office was never locked
    actions = session.exec(
        select(AuditEvent.action).where(col(AuditEvent.action).startswith("signin."))
    ).all()
    assert sorted(actions).count("signin.locked") == 1
    assert sorted(actions).count("signin.refused") == 6


def test_methods_the_unit_does_not_take_bad_payloads_and_unknown_devices_are_rejected(
    session: Session,
) -> None:
    setup(session, method="card")
    reason = refusal(session, signin(PINS["CB-0043"], NOW), NOW)
    assert reason == "Đơn vị không dùng đăng nhập bằng mã PIN; sign-in by PIN is not enabled here"
    assert sign_ins(session) == []
    # not counted as wrong credentials: five of them lock nothing
    for _ in range(5):
        refusal(session, signin(PINS["CB-0043"], NOW), NOW)
    set_credentials(session, SECRET, "CB-0043", {"card": "0004561234"}, "admin", NOW)
    accepted(session, signin("0004561234", NOW, kind="card"), NOW)

    bad = json.dumps({"schema": 1, "id": str(uuid.uuid4()), "action": "in", "at": "x"}).encode()
    ack, result = send(session, bad, NOW)
    assert [r.id for r in ack.rejected] == [json.loads(bad)["id"]] and result.rejected == 1
    kept = session.exec(select(RejectedMessage)).one()
    assert kept.topic == TOPIC and kept.payload == bad

    unknown = protocol.topic("dev-nope", "signin")
    ack, _ = send(session, signin(PINS["CB-0044"], NOW), NOW, unknown)
    assert "unknown device" in ack.rejected[0].error
    assert len(sign_ins(session)) == 1


def test_a_sign_in_is_dated_by_the_unit_only_when_its_clock_agrees_with_the_server() -> None:
    assert sign_in_time(NOW - timedelta(seconds=90), NOW) == NOW - timedelta(seconds=90)
    assert sign_in_time(NOW - timedelta(minutes=3), NOW) == NOW  # a clock off: the receipt
    assert sign_in_time(NOW + timedelta(seconds=30), NOW) == NOW  # never after its receipt
    assert sign_in_time(datetime(2000, 1, 1, tzinfo=UTC), NOW) == NOW  # no clock at all
