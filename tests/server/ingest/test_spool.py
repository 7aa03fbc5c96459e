"""The spool of devices over their rate (server/ingest/spool.py), on real SQLite and PostgreSQL:
what goes in, the order it comes out, and claims that neither lose nor double a rating when several
workers drain it or one dies mid-way."""

from __future__ import annotations

import json
import threading
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from devtools.postgres import PostgresServer
from hailong import protocol
from server.ingest import store as ingest
from server.ingest.spool import Spool, TokenBuckets, claim
from server.ingest.store import BatchResult, Incoming, IngestRules
from server.storage.db import make_engine, migrate
from server.storage.models import Counter, Device, RejectedMessage, SpooledMessage
from server.storage.models import Rating as StoredRating
from server.storage.rows import RatingRow
from tests.server.factories import RULES, rating_payload, seed_registry

A, B = "dev-dh-q1", "dev-dh-q2"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = seeded(database_url)
    yield engine
    engine.dispose()


def seeded(url: str) -> Engine:
    """A migrated database with two devices, each at its counter."""
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        seed_registry(session)
        session.add(Counter(id="DH-Q2", name="Quầy 2", unit_id="DH"))
        session.commit()
        session.add(Device(id=B, counter_id="DH-Q2", created_at=datetime.now(UTC)))
        session.commit()
    return engine


def message(device_id: str, seq: int) -> Incoming:
    payload = rating_payload(device_id=device_id, seq=seq, officer_id=None, counter_id=None)
    return Incoming(protocol.topic(device_id, "ratings"), payload)


def rating_id(msg: Incoming) -> str:
    return str(json.loads(msg.payload)["id"])


def accepted(result: BatchResult) -> list[str]:
    return [i for acks in result.acks.values() for ack in acks for i in ack.accepted]


def spooled(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(SpooledMessage)).one()


def stored(engine: Engine) -> list[StoredRating]:
    with Session(engine) as session:
        return list(session.exec(select(StoredRating)).all())


def test_token_buckets_let_a_burst_through_then_the_rate_per_device() -> None:
    clock = [0.0]
    buckets = TokenBuckets(rate=2, burst=3, monotonic=lambda: clock[0])
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.take("b"), "each device has its own bucket"
    clock[0] = 0.5
    assert [buckets.take("a") for _ in range(2)] == [True, False]
    clock[0] = 100.0
    assert sum(buckets.take("a") for _ in range(10)) == 3, "never more than the burst"


def test_a_device_over_its_rate_stays_spooled_until_drained_and_is_dated_by_receipt(
    engine: Engine,
) -> None:
    clock = [0.0]
    spool = Spool(engine, RULES, rate=1, burst=2, monotonic=lambda: clock[0])
    a = [message(A, seq) for seq in range(1, 5)]
    b = message(B, 1)
    topics = [a[0].topic, a[1].topic, a[2].topic, b.topic, "not/a/device/topic/x", a[3].topic]
    assert spool.split(topics) == [False, False, True, False, False, True]
    received = datetime.now(UTC) - timedelta(seconds=30)
    spool.put([a[2], a[3]], received)
    clock[0] = 100.0  # its bucket is full again, but older messages of it wait in the spool
    later = message(A, 5)
    assert spool.split([later.topic, b.topic]) == [True, False]
    spool.put([later], received + timedelta(seconds=1))

    result = spool.drain(500)
    assert accepted(result) == [rating_id(m) for m in (a[2], a[3], later)], "in the order sent"
    assert result.stored == 3 and spooled(engine) == 0
    rows = {r.id: r for r in stored(engine)}
    assert rows[rating_id(a[2])].received_at == received
    assert spool.split([message(A, 6).topic]) == [False], "its spool is empty: direct again"
    assert spool.drain(500).stored == 0 and not spool.pending()


def test_the_drain_takes_devices_in_turn(engine: Engine) -> None:
    spool = Spool(engine, RULES, rate=1, burst=1)
    now = datetime.now(UTC)
    a = [message(A, seq) for seq in range(1, 4)]
    b = [message(B, seq) for seq in range(1, 4)]
    spool.put(a, now)  # all of A's first: a queue in order would store them before any of B's
    spool.put(b, now)
    turns = [spool.drain(2) for _ in range(4)]
    assert [list(t.acks) for t in turns] == [[A], [B], [A], [B]]
    assert [accepted(t) for t in turns] == [
        [rating_id(m) for m in a[:2]],
        [rating_id(m) for m in b[:2]],
        [rating_id(a[2])],
        [rating_id(b[2])],
    ]
    assert spooled(engine) == 0


def test_a_claim_not_committed_leaves_the_rows_for_another_worker(engine: Engine) -> None:
    """As a process killed between its claim and its commit: the rows come back."""
    Spool(engine, RULES, rate=1, burst=1).put(
        [message(A, s) for s in range(1, 6)], datetime.now(UTC)
    )
    with Session(engine) as dying:
        assert len(claim(dying, A, 10)) == 5
        dying.rollback()
    assert spooled(engine) == 5
    result = Spool(engine, RULES, rate=1, burst=1).drain(10)
    assert result.stored == 5 and spooled(engine) == 0


def test_rows_claimed_by_one_worker_are_skipped_by_another_on_postgresql(
    postgres: PostgresServer,
) -> None:
    """SQLite has one writer at a time, so there a second claim waits for the first."""
    engine = seeded(postgres.create_database())
    msgs = [message(A, s) for s in range(1, 6)]
    Spool(engine, RULES, rate=1, burst=1).put(msgs, datetime.now(UTC))
    with Session(engine) as first, Session(engine) as second:
        assert len(claim(first, A, 3)) == 3
        second.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting would fail, not hang
        others = claim(second, A, 10)
        assert len(others) == 2
        first.commit()
        second.rollback()
    assert spooled(engine) == 2
    engine.dispose()


def test_two_workers_draining_one_spool_store_every_rating_once(engine: Engine) -> None:
    msgs = [message(device, s) for s in range(1, 201) for device in (A, B)]
    Spool(engine, RULES, rate=1, burst=1).put(msgs, datetime.now(UTC))
    acks: list[list[str]] = [[], []]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        spool = Spool(engine, RULES, rate=1, burst=1)
        try:
            while spool.pending():
                acks[n].extend(accepted(spool.drain(25)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors
    both = Tally(acks[0] + acks[1])
    assert set(both) == {rating_id(m) for m in msgs} and set(both.values()) == {1}
    ids = [r.id for r in stored(engine)]
    assert len(ids) == len(set(ids)) == len(msgs)
    assert spooled(engine) == 0
    with Session(engine) as session:
        seqs = session.exec(select(StoredRating.seq).where(col(StoredRating.device_id) == A)).all()
    assert sorted(seqs) == list(range(1, 201))


def test_a_spooled_message_the_database_refuses_is_kept_as_rejected_and_the_rest_stored(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    msgs = [message(A, s) for s in range(1, 4)]
    bad_id = rating_id(msgs[1])
    real = ingest.store_rows

    def refusing(
        s: Session, rows: Sequence[RatingRow], rules: IngestRules, now: datetime
    ) -> set[str]:
        if any(r.id == bad_id for r in rows):
            raise IntegrityError("INSERT", {}, Exception("value out of range"))
        return real(s, rows, rules, now)

    monkeypatch.setattr(ingest, "store_rows", refusing)
    spool = Spool(engine, RULES, rate=1, burst=1)
    spool.put(msgs, datetime.now(UTC))
    result = spool.drain(10)
    assert (result.stored, result.rejected) == (2, 1)
    assert sorted(accepted(result)) == sorted(rating_id(m) for m in msgs if m is not msgs[1])
    assert [r.id for acks in result.acks.values() for a in acks for r in a.rejected] == [bad_id]
    assert spooled(engine) == 0
    with Session(engine) as session:
        kept = session.exec(select(RejectedMessage)).one()
    assert (kept.device_id, bytes(kept.payload)) == (A, msgs[1].payload)
