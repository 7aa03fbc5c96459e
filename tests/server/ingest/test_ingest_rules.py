"""The server's rules for a rating (PROTOCOL.md, "Server rules"), on real SQLite and PostgreSQL,
no broker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from hailong import protocol
from server.ingest import store as ingest
from server.ingest.store import Incoming, IngestRules, store_batch
from server.storage.models import Assignment, Counter, Device, Officer, RejectedMessage
from server.storage.models import Rating as StoredRating
from server.storage.rows import RatingRow
from server.timeutil import VN_TZ
from tests.server import factories
from tests.server.factories import RATINGS_TOPIC, RULES

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def rating_payload(**overrides: object) -> bytes:
    return factories.rating_payload(**{"pressed_at": "2026-11-21T09:55:00+07:00", **overrides})


def run(session: Session, *payloads: bytes, topic: str = RATINGS_TOPIC):  # type: ignore[no-untyped-def]
    result = store_batch(session, [Incoming(topic, p) for p in payloads], NOW, RULES)
    session.commit()
    return result


def test_valid_rating_is_stored_attributed_and_accepted(session: Session) -> None:
    payload = rating_payload(pressed_at="2026-11-21T09:15:02+07:00", seq=5)
    result = run(session, payload)
    rid = json.loads(payload)["id"]
    assert result.acks["dev-dh-q1"][0].accepted == [rid]
    row = session.get(StoredRating, rid)
    assert row is not None
    assert (row.officer_id, row.counter_id, row.unit_id, row.flags) == (
        "CB-0042",
        "DH-Q1",
        "DH",
        "",
    )
    assert row.day.isoformat() == "2026-11-21"
    assert row.seq == 5


def test_same_id_twice_is_stored_once_and_acked_as_duplicate(session: Session) -> None:
    payload = rating_payload()
    rid = json.loads(payload)["id"]
    first = run(session, payload, payload)
    assert first.acks["dev-dh-q1"][0].accepted == [rid]
    assert first.acks["dev-dh-q1"][0].duplicate == [rid]
    second = run(session, payload)
    assert second.acks["dev-dh-q1"][0].duplicate == [rid]
    assert len(session.exec(select(StoredRating)).all()) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", None),
        (rating_payload(score=9), "score"),
        (rating_payload(device_id="dev-other"), "device_id"),
        (rating_payload(reasons=["no_such_reason"]), "reasons"),
        (rating_payload(seq=2**31), "seq"),
        (rating_payload(comment="a\x00b"), "comment"),
        (rating_payload(ticket="\ud800"), "ticket"),
        (rating_payload(schema=True), "schema"),
        (b"[" * 5000 + b"]" * 5000, None),
    ],
)
def test_rejected_messages_are_kept_with_reason(
    session: Session, payload: bytes, field: str | None
) -> None:
    valid = rating_payload()
    result = run(session, payload, valid)
    kept = session.exec(select(RejectedMessage)).one()
    assert kept.payload == payload
    assert kept.field == field
    assert kept.topic == RATINGS_TOPIC
    assert result.stored == 1, "the valid rating after a bad one is still stored"


def test_unknown_and_revoked_devices_are_rejected(session: Session) -> None:
    other = "hailong/v1/devices/dev-ghost/ratings"
    run(session, rating_payload(device_id="dev-ghost"), topic=other)
    device = session.get(Device, "dev-dh-q1")
    assert device is not None
    device.revoked_at = NOW
    session.add(device)
    session.commit()
    result = run(session, rating_payload())
    reasons = [r.reason for r in session.exec(select(RejectedMessage)).all()]
    assert "unknown device" in reasons[0] and "revoked" in reasons[1]
    assert result.acks["dev-dh-q1"][0].rejected[0].error.startswith("device_id")


def test_unsynced_ancient_or_future_time_is_dated_by_receipt_and_flagged(session: Session) -> None:
    """Without a live Status of the boot, a time that cannot be true is no time: the rating is
    stored at its receipt, flagged time_unknown, never rejected (it was rejected before, and the
    unit deleted it: lost)."""
    unsynced = rating_payload(seq=1, clock_synced=False, pressed_at="2020-01-01T00:00:00+07:00")
    ancient = rating_payload(seq=2, pressed_at="2024-01-01T00:00:00+07:00")
    ahead = rating_payload(seq=3, pressed_at="2026-11-22T10:00:00+07:00")  # a day ahead
    result = run(session, unsynced, ancient, ahead)
    assert result.stored == 3 and result.rejected == 0
    rows = session.exec(select(StoredRating).order_by(StoredRating.seq)).all()
    assert [r.flags.split(",")[0] for r in rows] == ["time_unknown"] * 3
    assert all(r.pressed_at == NOW for r in rows)
    assert rows[1].device_pressed_at.startswith("2024-01-01")
    just_ahead = rating_payload(seq=4, pressed_at="2026-11-21T10:04:00+07:00")  # 4 min ahead
    run(session, just_ahead)
    row = session.get(StoredRating, json.loads(just_ahead)["id"])
    assert row is not None and "time_unknown" not in row.flags


def test_disagreeing_officer_or_counter_is_kept_and_flagged(session: Session) -> None:
    run(session, rating_payload(officer_id="CB-9999", counter_id="DH-Q7"))
    row = session.exec(select(StoredRating)).one()
    assert row.officer_id == "CB-0042"
    assert set(row.flags.split(",")) == {"officer_mismatch", "counter_mismatch"}
    assert row.reported_officer_id == "CB-9999"


def test_rating_before_any_assignment_is_kept_without_officer(session: Session) -> None:
    run(session, rating_payload(pressed_at="2025-12-31T23:00:00+07:00"))
    row = session.exec(select(StoredRating)).one()
    assert row.officer_id is None
    assert set(row.flags.split(",")) == {"no_officer", "officer_mismatch"}


def test_status_updates_the_device(session: Session) -> None:
    status = {
        "schema": 1,
        "state": "online",
        "firmware": "0.1.0",
        "outbox": 7,
        "uptime_s": 12,
        "at": "2026-11-21T09:00:00+07:00",
    }
    run(session, json.dumps(status).encode(), topic="hailong/v1/devices/dev-dh-q1/status")
    device = session.get(Device, "dev-dh-q1")
    assert device is not None
    assert (device.state, device.outbox, device.firmware) == ("online", 7, "0.1.0")
    assert device.last_seen_at == NOW


def test_a_rating_pressed_at_17h_utc_counts_on_the_next_vietnam_day(session: Session) -> None:
    at = (NOW - timedelta(days=1)).replace(hour=17, minute=0)
    run(session, rating_payload(pressed_at=at.isoformat()))
    row = session.exec(select(StoredRating)).one()
    assert row.day.isoformat() == "2026-11-21"


def test_acks_for_a_large_batch_stay_inside_the_payload_limit(session: Session) -> None:
    payloads = [rating_payload(seq=i) for i in range(1, 1001)]
    result = run(session, *payloads)
    acks = result.acks["dev-dh-q1"]
    assert len(acks) > 1
    assert all(len(a.to_payload()) <= protocol.MAX_PAYLOAD_BYTES for a in acks)
    assert sum(len(a.accepted) for a in acks) == 1000


def test_acks_of_many_rejections_stay_inside_the_payload_limit(session: Session) -> None:
    """Rejections carry their reason, so 200 of them outweigh 200 accepted ids."""
    unknown = ["no_such_reason"]
    payloads = [rating_payload(seq=i, reasons=unknown, comment="x" * 400) for i in range(300)]
    result = run(session, *payloads)
    acks = result.acks["dev-dh-q1"]
    assert sum(len(a.rejected) for a in acks) == 300
    assert all(len(a.to_payload()) <= protocol.MAX_PAYLOAD_BYTES for a in acks)


def test_only_a_uuid_is_claimed_as_the_rejected_rating_id(session: Session) -> None:
    run(session, json.dumps({"schema": 1, "id": "not-a-uuid", "score": 9}).encode())
    result = run(session, rating_payload(score=9))
    rows = session.exec(select(RejectedMessage).order_by(RejectedMessage.id)).all()  # type: ignore[arg-type]
    assert [r.rating_id is None for r in rows] == [True, False]
    assert len(result.acks["dev-dh-q1"][0].rejected) == 1


def test_a_message_the_database_refuses_is_kept_and_the_rest_stored(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails for any reason but a database outage is stored message by message."""
    bad, good = rating_payload(seq=1), rating_payload(seq=2)
    bad_id = json.loads(bad)["id"]
    real = ingest.store_rows

    def refusing(
        s: Session, rows: Sequence[RatingRow], rules: IngestRules, now: datetime
    ) -> set[str]:
        if any(r.id == bad_id for r in rows):
            raise IntegrityError("INSERT", {}, Exception("value out of range"))
        return real(s, rows, rules, now)

    monkeypatch.setattr(ingest, "store_rows", refusing)
    batch = [Incoming(RATINGS_TOPIC, bad), Incoming(RATINGS_TOPIC, good)]
    engine = session.get_bind()
    with pytest.raises(IntegrityError), Session(engine) as s:
        store_batch(s, batch, NOW, RULES)
    result = ingest.store_separately(lambda: Session(engine), batch, NOW, RULES)
    assert (result.stored, result.rejected) == (1, 1)
    kept = session.exec(select(RejectedMessage)).one()
    assert kept.payload == bad and "database could not store it" in kept.reason
    acks = result.acks["dev-dh-q1"]
    assert [r.id for a in acks for r in a.rejected] == [bad_id]
    assert [i for a in acks for i in a.accepted] == [json.loads(good)["id"]]


def test_a_database_outage_is_not_taken_for_a_bad_message(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(_s: Session, _rows: object, _rules: object, _now: object) -> set[str]:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(ingest, "store_rows", down)
    engine = session.get_bind()
    with pytest.raises(OperationalError):
        ingest.store_separately(
            lambda: Session(engine), [Incoming(RATINGS_TOPIC, rating_payload())], NOW, RULES
        )
    assert session.exec(select(RejectedMessage)).all() == []


def test_attribution_picks_the_shift_of_each_press_among_years_of_shifts(
    session: Session,
) -> None:
    """Morning and afternoon shifts of two officers for 500 days; each press goes to the one on
    duty then, boundaries included (start inclusive, end exclusive)."""
    session.add(Counter(id="DH-Q2", name="Quầy 2", unit_id="DH"))
    session.add(Officer(id="CB-AM", name="Ca sáng", unit_id="DH"))
    session.add(Officer(id="CB-PM", name="Ca chiều", unit_id="DH"))
    session.commit()
    session.add(Device(id="dev-dh-q2", counter_id="DH-Q2", created_at=NOW))
    first_day = datetime(2025, 7, 10, tzinfo=VN_TZ)
    for d in range(500):
        day = first_day + timedelta(days=d)
        for officer, start, end in (("CB-AM", 7, 12), ("CB-PM", 13, 17)):
            session.add(
                Assignment(
                    officer_id=officer,
                    counter_id="DH-Q2",
                    start=day.replace(hour=start).astimezone(UTC),
                    end=day.replace(hour=end).astimezone(UTC),
                )
            )
    session.commit()
    topic = "hailong/v1/devices/dev-dh-q2/ratings"
    presses = {
        "2026-11-20T07:00:00+07:00": "CB-AM",
        "2026-11-20T11:59:59+07:00": "CB-AM",
        "2026-11-20T12:00:00+07:00": None,
        "2026-11-20T13:00:00+07:00": "CB-PM",
        "2025-12-01T16:30:00+07:00": "CB-PM",
        "2026-11-20T17:00:00+07:00": None,
    }
    payloads = {
        at: factories.rating_payload(
            device_id="dev-dh-q2", seq=i + 1, pressed_at=at, officer_id=None, counter_id=None
        )
        for i, at in enumerate(presses)
    }
    result = store_batch(session, [Incoming(topic, p) for p in payloads.values()], NOW, RULES)
    session.commit()
    assert result.stored == len(presses)
    for at, officer in presses.items():
        row = session.get(StoredRating, json.loads(payloads[at])["id"])
        assert row is not None and row.officer_id == officer, at
        assert ("no_officer" in row.flags) == (officer is None)
