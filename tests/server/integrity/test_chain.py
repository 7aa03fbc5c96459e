"""The ratings' hash chain catches an edited, an inserted and a deleted row, on both databases,
even when whoever holds the database file drops the append-only triggers first."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Executable, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.housekeeping import housekeeping_jobs
from server.ingest.store import Incoming, IngestRules, store_batch, store_rows
from server.integrity.encoding import (
    ANCHOR,
    CHAIN,
    CHAINED_COLUMNS,
    EVENT,
    GENESIS,
    HEAD,
    RATING,
    RAW,
    SEALED,
    ChainError,
    canonical,
    link_hash,
)
from server.integrity.key import ChainKeyError, ensure_key, key_path, load_key
from server.integrity.verify import verify
from server.integrity.write import anchor, prepare, seal_unchained
from server.jobs import Jobs
from server.policy import load_policy
from server.settings import Settings
from server.storage.db import alembic_config, make_engine, migrate
from server.storage.models import AuditEvent, Rating
from server.timeutil import VN_TZ
from tests.server.factories import rating_payload, rating_row, seed_registry

KEY = bytes(range(100, 132))
WRONG_KEY = bytes(32)
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def _row(device: str, seq: int, **overrides: Any) -> dict[str, Any]:
    pressed = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=VN_TZ) + timedelta(minutes=seq)
    row: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{device}/{seq}")),
        "device_id": device,
        "seq": seq,
        "pressed_at": pressed,
        "device_pressed_at": pressed.isoformat(),
        "received_at": pressed + timedelta(seconds=2),
        "day": date(2026, 11, 20),
        "scale": "vn4",
        "score": 1 + seq % 4,
        "officer_id": "CB-1",
        "counter_id": "Q1",
        "unit_id": "U1",
        "reported_officer_id": None,
        "reported_counter_id": None,
        "ticket": None,
        "reasons": "",
        "comment": "Cán bộ nhiệt tình" if seq % 2 else None,
        "input": "button",
        "clock_synced": bool(seq % 3),
        "flags": "",
    }
    row.update(overrides)
    return row


def _store(
    engine: Engine, rows: list[dict[str, Any]], key: bytes = KEY, now: datetime = NOW
) -> None:
    with Session(engine) as session:
        store_rows(session, [rating_row(**r) for r in rows], IngestRules(chain_key=key), now)
        session.commit()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    seal_unchained(engine, KEY)
    yield engine
    engine.dispose()


@pytest.fixture
def chained(engine: Engine) -> Engine:
    """Three devices, five ratings each, stored in three batches that interleave them."""
    rows = [_row(d, s) for s in range(1, 6) for d in ("dev-a", "dev-b", "dev-c")]
    _store(engine, rows[:4])
    _store(engine, rows[4:11])
    _store(engine, rows[11:])
    return engine


def _tamper(
    engine: Engine, *statements: str | Executable, params: dict[str, Any] | None = None
) -> None:
    """What someone holding the database file can do: drop the append-only rules, then edit."""
    with engine.begin() as conn:
        for table in ("rating", "rating_chain", "audit_event"):
            if conn.dialect.name == "sqlite":
                for op in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only_{op}")
            else:
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            clause = text(statement) if isinstance(statement, str) else statement
            conn.execute(clause, params or {})


def _id(device: str, seq: int) -> str:
    return str(_row(device, seq)["id"])


def _insert_raw(engine: Engine, row: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(RATING), [row])


# the encoding ---------------------------------------------------------------------------------


# The unit's boot and monotonic clock at the press: the chained pressed_at and flags carry what
# the rules made of them, and chaining them would have changed every existing rating's link.
UNCHAINED = {"boot_id", "mono_ms"}


def test_every_rating_column_is_chained() -> None:
    """A new rating column fails here until someone decides whether old hashes must change."""
    assert set(RATING.c.keys()) - UNCHAINED == set(CHAINED_COLUMNS)


def test_a_links_bytes_never_change() -> None:
    """Every stored link was made from these bytes: a column that joins the chain, or any other
    change of the encoding, fails here until someone decides that old hashes must change."""
    row = _row("dev-a", 1)
    assert (
        canonical(row)
        == (
            '{"clock_synced":true,"comment":"Cán bộ nhiệt tình","counter_id":"Q1",'
            '"day":"2026-11-20","device_id":"dev-a",'
            '"device_pressed_at":"2026-11-20T09:01:00.123456+07:00","flags":"",'
            '"id":"f0c57197-443d-5c2d-8749-dd81269e7abb","input":"button","officer_id":"CB-1",'
            '"pressed_at":"2026-11-20T02:01:00.123456","reasons":"",'
            '"received_at":"2026-11-20T02:01:02.123456","reported_counter_id":null,'
            '"reported_officer_id":null,"scale":"vn4","score":2,"seq":1,"ticket":null,"unit_id":"U1"}'
        ).encode()
    )
    assert canonical(rating_row(**row)) == canonical(row)  # the row the ingest stores
    assert link_hash(KEY, GENESIS, "dev-a", 1, row) == (
        "103c0846bad6d14c414f3b948f49b6e414aaf7544230f8e9e8d78f1e29be647a"
    )


def test_canonical_normalises_times_and_types() -> None:
    row = _row("dev-a", 1)
    utc = {
        **row,
        "pressed_at": row["pressed_at"].astimezone(UTC),
        "received_at": row["received_at"].astimezone(UTC).replace(tzinfo=None),
    }
    assert canonical(row) == canonical(utc)
    as_sqlite = {**row, "pressed_at": "2026-11-20 02:01:00.123456", "day": "2026-11-20"}
    as_sqlite["received_at"] = "2026-11-20 02:01:02.123456"
    as_sqlite["clock_synced"] = 1
    assert canonical(row) == canonical(as_sqlite)
    decoded = json.loads(canonical(row))
    assert decoded["pressed_at"] == "2026-11-20T02:01:00.123456"
    assert decoded["comment"] == "Cán bộ nhiệt tình" and decoded["ticket"] is None
    for edited in ({"score": "2"}, {"clock_synced": 2}, {"day": "20/11/2026"}, {"seq": True}):
        assert canonical({**row, **edited}) != canonical(row), edited
    with pytest.raises(ChainError, match="lacks flags"):
        canonical({k: v for k, v in row.items() if k != "flags"})


def test_canonical_is_the_same_read_back_from_the_database(engine: Engine) -> None:
    rows = [_row("dev-a", 1), _row("dev-a", 2, ticket="A-017", reasons="slow,rude")]
    _store(engine, rows)
    with engine.connect() as conn:
        raw = conn.execute(select(*RAW.c).order_by(RAW.c.seq)).mappings().all()
        typed = conn.execute(select(RATING).order_by(RATING.c.seq)).mappings().all()
    with Session(engine) as session:
        models = [session.get(Rating, r["id"]) for r in rows]
    for row, as_raw, as_typed, model in zip(rows, raw, typed, models, strict=True):
        assert model is not None
        assert canonical(as_raw) == canonical(row)
        assert canonical(as_typed) == canonical(row)
        assert canonical(model.model_dump()) == canonical(row)


# a clean chain --------------------------------------------------------------------------------


def test_a_clean_chain_verifies(chained: Engine) -> None:
    seen: list[tuple[int, int]] = []
    report = verify(chained, KEY, lambda done, total: seen.append((done, total)))
    assert report.ok, report.problems
    assert (report.checked, report.devices) == (15, 3)
    assert seen[-1] == (15, 15)
    with chained.connect() as conn:
        positions = conn.execute(
            select(CHAIN.c.position, CHAIN.c.rating_id)
            .where(CHAIN.c.device_id == "dev-b")
            .order_by(CHAIN.c.position)
        ).all()
    assert positions == [(s, _id("dev-b", s)) for s in range(1, 6)]


def test_verify_reads_one_snapshot_while_ingest_goes_on(chained: Engine) -> None:
    """Ratings committed while the check runs are neither counted nor mistaken for tampering."""
    late = [_row("dev-c", s) for s in (6, 7)]

    def store_meanwhile(done: int, total: int) -> None:
        if late:
            _store(chained, late)
            late.clear()

    report = verify(chained, KEY, store_meanwhile)
    assert report.ok, report.problems
    assert report.checked == 15
    assert verify(chained, KEY).checked == 17


def test_the_wrong_key_is_refused_not_reported_as_tampering(chained: Engine) -> None:
    with pytest.raises(ChainKeyError, match="is not the one the ratings were chained"):
        verify(chained, WRONG_KEY)


def test_two_writers_at_once_keep_every_chain_whole(engine: Engine) -> None:
    """Two ingest processes storing ratings of the same devices at the same moment, in
    opposite orders: heads are locked in one order, so neither deadlocks nor forks a chain."""
    errors: list[BaseException] = []

    def writer(name: str, devices: list[str]) -> None:
        try:
            for batch in range(15):
                rows = [_row(d, 1000 * batch + i, id=f"{name}-{batch}-{d}-{i}")
                        for i in range(3) for d in devices]  # fmt: skip
                _store(engine, rows)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=("w1", ["dev-a", "dev-b", "dev-c"])),
        threading.Thread(target=writer, args=("w2", ["dev-c", "dev-b", "dev-a"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    report = verify(engine, KEY)
    assert report.ok, report.problems
    assert report.checked == 2 * 15 * 3 * 3


# tampering -------------------------------------------------------------------------------------


def test_an_edited_rating_is_named(chained: Engine) -> None:
    rating = _id("dev-b", 3)
    _tamper(chained, f"UPDATE rating SET score = 4, officer_id = 'CB-2' WHERE id = '{rating}'")
    report = verify(chained, KEY)
    assert not report.ok and report.problem_count == 1
    assert report.problems[0] == (
        f"device 'dev-b' position 3 (rating '{rating}'): the rating does not match its link: "
        "altered, or inserted with a forged link"
    )


def test_a_time_edited_by_a_second_is_named(chained: Engine) -> None:
    rating = _id("dev-a", 5)
    later = _row("dev-a", 5)["pressed_at"] + timedelta(seconds=1)
    _tamper(chained, update(RATING).where(RATING.c.id == rating).values(pressed_at=later))
    report = verify(chained, KEY)
    assert [p.split(":")[0] for p in report.problems] == [
        f"device 'dev-a' position 5 (rating '{rating}')"
    ]


def test_a_rating_inserted_without_a_link_is_named(chained: Engine) -> None:
    _insert_raw(chained, _row("dev-c", 99))
    report = verify(chained, KEY)
    assert report.problem_count == 1
    assert report.problems[0] == (
        f"device 'dev-c' rating '{_id('dev-c', 99)}' (seq 99) has no link: it was inserted "
        "outside the server"
    )


def test_a_rating_inserted_with_a_link_forged_under_another_key_is_named(chained: Engine) -> None:
    _store(chained, [_row("dev-a", 6)], key=WRONG_KEY)
    report = verify(chained, KEY)
    assert report.problems == [
        f"device 'dev-a' position 6 (rating '{_id('dev-a', 6)}'): the rating does not match its "
        "link: altered, or inserted with a forged link",
        "device 'dev-a': the chain head (position 6) fails its MAC: edited",
    ]


def test_a_rating_inserted_in_the_middle_with_its_link_is_named(chained: Engine) -> None:
    """Positions shifted up to make room: every moved link stops matching its rating."""
    _tamper(
        chained,
        "UPDATE rating_chain SET position = position + 100 WHERE device_id = 'dev-b' "
        "AND position >= 3",
    )
    _tamper(chained, "UPDATE rating_chain SET position = position - 99 WHERE position >= 100")
    _insert_raw(chained, _row("dev-b", 77))
    _tamper(
        chained,
        f"INSERT INTO rating_chain (device_id, position, rating_id, hash) VALUES "
        f"('dev-b', 3, '{_id('dev-b', 77)}', '{'0' * 64}')",
    )
    report = verify(chained, KEY)
    assert report.problems[0].startswith(
        f"device 'dev-b' position 3 (rating '{_id('dev-b', 77)}'): the rating does not match"
    )
    assert not report.ok


def test_a_rating_deleted_in_the_middle_is_named(chained: Engine) -> None:
    rating = _id("dev-a", 2)
    _tamper(chained, f"DELETE FROM rating WHERE id = '{rating}'")
    report = verify(chained, KEY)
    assert report.problems == [
        f"device 'dev-a' position 2 (rating '{rating}'): the rating was removed; its link remains"
    ]


def test_a_rating_deleted_with_its_link_is_named(chained: Engine) -> None:
    rating = _id("dev-c", 3)
    _tamper(
        chained,
        f"DELETE FROM rating WHERE id = '{rating}'",
        f"DELETE FROM rating_chain WHERE rating_id = '{rating}'",
    )
    report = verify(chained, KEY)
    assert report.problems[0] == (
        "device 'dev-c': links 3..3 are missing: ratings were removed with their links"
    )


def _head(engine: Engine, device: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(HEAD).where(HEAD.c.device_id == device))
        return dict(row.mappings().one())


def _delete_tail(engine: Engine, device: str, after: int, head: dict[str, Any]) -> None:
    with engine.connect() as conn:
        gone = (
            conn.execute(
                select(CHAIN.c.rating_id).where(
                    CHAIN.c.device_id == device, CHAIN.c.position > after
                )
            )
            .scalars()
            .all()
        )
    _tamper(
        engine,
        *(f"DELETE FROM rating WHERE id = '{r}'" for r in gone),
        f"DELETE FROM rating_chain WHERE device_id = '{device}' AND position > {after}",
        "UPDATE chain_head SET position = :position, hash = :hash, mac = :mac "
        "WHERE device_id = :device_id",
        params=head,
    )


def test_a_deleted_tail_behind_a_rewound_head_fails_the_heads_mac(chained: Engine) -> None:
    with chained.connect() as conn:
        third = conn.execute(
            select(CHAIN.c.hash).where(CHAIN.c.device_id == "dev-b", CHAIN.c.position == 3)
        ).scalar_one()
    head = {**_head(chained, "dev-b"), "position": 3, "hash": third}  # the MAC of position 5
    _delete_tail(chained, "dev-b", 3, head)
    report = verify(chained, KEY)
    assert report.problems == ["device 'dev-b': the chain head (position 3) fails its MAC: edited"]


def test_a_deleted_tail_behind_a_replayed_old_head_is_caught_by_the_anchor(
    engine: Engine,
) -> None:
    """An old copy of the head carries a valid MAC; the daily anchor written since is what
    shows the chain was longer."""
    _store(engine, [_row("dev-a", s) for s in (1, 2, 3)])
    old_head = _head(engine, "dev-a")
    _store(engine, [_row("dev-a", s) for s in (4, 5)])
    with Session(engine) as session:
        assert anchor(session, KEY, NOW) is not None
        session.commit()
    _delete_tail(engine, "dev-a", 3, old_head)
    report = verify(engine, KEY)
    assert report.problems == [
        "device 'dev-a': the anchor of 2026-11-20 has position 5 but the links end at 3: "
        "ratings were removed with their links"
    ]


def test_a_deleted_head_is_reported_and_does_not_stop_ingest(chained: Engine) -> None:
    _tamper(chained, "DELETE FROM chain_head WHERE device_id = 'dev-c'")
    report = verify(chained, KEY)
    assert report.problems == [
        "device 'dev-c': links 1..5 have no chain head: the head was deleted"
    ]
    _store(chained, [_row("dev-c", 6)])  # continues after the last link, and says so
    report = verify(chained, KEY)
    assert report.checked == 16
    assert report.problems == [
        "device 'dev-c': on 2026-11-20 03:00 UTC its chain head said position 0 while "
        "its links went to 5: the head was deleted or wound back by hand"
    ]


def test_an_edited_anchor_fails_its_mac(chained: Engine) -> None:
    event = _anchor(chained, NOW)
    assert event is not None
    detail = json.loads(event.detail)
    detail["heads"]["dev-a"][0] = 4
    _tamper(
        chained,
        "UPDATE audit_event SET detail = :detail WHERE id = :id",
        params={"detail": json.dumps(detail), "id": event.id},
    )
    report = verify(chained, KEY)
    assert report.problems == [
        f"the anchor of 2026-11-20 (audit event #{event.id}) fails its MAC: edited by hand"
    ]


# sealing what was stored before the chain ------------------------------------------------------


def test_ratings_stored_before_the_chain_are_sealed_once(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0004")
    old = [_row(d, s) for s in (3, 1, 2) for d in ("dev-b", "dev-a")]
    old[0]["received_at"] = old[1]["received_at"] = NOW - timedelta(days=400)  # seq 3 came first
    with engine.begin() as conn:
        conn.execute(insert(RATING), old)
    migrate(engine)
    seen: list[tuple[int, int]] = []
    assert seal_unchained(engine, KEY, lambda d, t: seen.append((d, t))) == 6
    assert seen[-1] == (6, 6)
    assert seal_unchained(engine, KEY) == 0
    report = verify(engine, KEY)
    assert report.ok and report.checked == 6, report.problems
    with engine.connect() as conn:
        first = conn.execute(
            select(CHAIN.c.rating_id).where(CHAIN.c.device_id == "dev-a", CHAIN.c.position == 1)
        ).scalar_one()
        sealed = (
            conn.execute(select(EVENT.c.detail).where(EVENT.c.action == SEALED)).scalars().all()
        )
    assert first == _id("dev-a", 3)
    assert [json.loads(d)["ratings"] for d in sealed] == [6]
    _insert_raw(engine, _row("dev-a", 9))  # after the seal, never sealed: reported as inserted
    assert seal_unchained(engine, KEY) == 0
    assert "has no link" in verify(engine, KEY).problems[0]
    engine.dispose()


def test_an_unsealed_database_says_so(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    _insert_raw(engine, _row("dev-a", 1))
    report = verify(engine, KEY)
    assert report.problems[0].startswith("the audit log has no chain.sealed event")
    engine.dispose()


def test_prepare_makes_the_key_once_and_refuses_a_lost_or_foreign_one(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    engine = make_engine(database_url)
    migrate(engine)
    key = prepare(engine, settings)
    path = tmp_path / "data" / "chain.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes.fromhex(path.read_text().strip()) == key and len(key) == 32
    assert prepare(engine, settings) == key
    path.unlink()
    with pytest.raises(ChainKeyError, match="no chain key at .*chain.key: restore it"):
        prepare(engine, settings)
    assert not path.exists()  # a lost key is never silently replaced
    path.write_text(WRONG_KEY.hex())
    with pytest.raises(ChainKeyError, match="not the one the ratings were chained with"):
        prepare(engine, settings)
    with engine.connect() as conn:
        seals = conn.execute(select(EVENT.c.id).where(EVENT.c.action == SEALED))
        assert len(seals.all()) == 1
    engine.dispose()


# the key file ---------------------------------------------------------------------------------


def test_the_key_file_is_private_and_a_bad_one_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "chain.key"
    key = ensure_key(path)
    assert ensure_key(path) == key == load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["chain.key"]  # no temporary file left behind
    with pytest.raises(ChainKeyError, match="no chain key at"):
        load_key(tmp_path / "missing.key")
    path.write_text("not hex")
    with pytest.raises(ChainKeyError, match="is not a chain key .32 bytes as 64 hex"):
        load_key(path)
    assert key_path(Settings(data_dir=tmp_path)) == tmp_path / "chain.key"
    assert key_path(Settings(chain_key_file=path)) == path


def test_processes_starting_together_share_one_key_and_one_seal(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    keys: list[bytes] = []
    start = threading.Barrier(3)

    def starting() -> None:
        start.wait()
        keys.append(prepare(engine, settings))

    threads = [threading.Thread(target=starting) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(keys) == 3 and len(set(keys)) == 1
    with engine.connect() as conn:
        seals = conn.execute(select(EVENT.c.id).where(EVENT.c.action == SEALED))
        assert len(seals.all()) == 1
    engine.dispose()


# anchors ---------------------------------------------------------------------------------------


def _anchors(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(
            select(EVENT.c.detail).where(EVENT.c.action == ANCHOR).order_by(EVENT.c.id)
        )
        return [json.loads(d) for d in found.scalars()]


def _anchor(engine: Engine, now: datetime) -> AuditEvent | None:
    with Session(engine, expire_on_commit=False) as session:
        event = anchor(session, KEY, now)
        session.commit()
    return event


def test_an_anchor_a_day_with_the_heads_changed_since_the_last(engine: Engine) -> None:
    evening = datetime(2026, 11, 20, 16, 59, tzinfo=UTC)  # 23:59 in Vietnam
    assert _anchor(engine, evening) is None  # no head yet: nothing to anchor
    _store(engine, [_row("dev-a", 1), _row("dev-b", 1)], now=evening - timedelta(hours=3))
    assert _anchor(engine, evening) is not None
    assert _anchor(engine, evening + timedelta(seconds=30)) is None  # the same Vietnam day
    _store(engine, [_row("dev-a", 2)], now=evening + timedelta(seconds=40))
    midnight = datetime(2026, 11, 20, 17, 0, 30, tzinfo=UTC)  # 00:00:30 on the 21st
    assert _anchor(engine, midnight) is not None
    first, second = _anchors(engine)
    assert first["day"] == "2026-11-20" and set(first["heads"]) == {"dev-a", "dev-b"}
    assert second["day"] == "2026-11-21" and list(second["heads"]) == ["dev-a"]
    assert second["heads"]["dev-a"][0] == 2
    assert verify(engine, KEY).ok


def test_processes_racing_for_the_anchor_write_one(engine: Engine) -> None:
    _store(engine, [_row("dev-a", 1)])
    written: list[AuditEvent | None] = []
    start = threading.Barrier(3)

    def attempt() -> None:
        start.wait()
        written.append(_anchor(engine, NOW))

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(e is not None for e in written) == 1 and len(written) == 3
    assert len(_anchors(engine)) == 1


def test_the_housekeeping_jobs_write_the_anchor(engine: Engine, tmp_path: Path) -> None:
    _store(engine, [_row("dev-a", 1)])
    made = housekeeping_jobs(Settings(data_dir=tmp_path), load_policy(None), KEY)
    jobs = Jobs(engine, made, clock=lambda: NOW)
    assert "chain-anchor" in jobs.run_due()
    assert [a["heads"] for a in _anchors(engine)] == [
        {"dev-a": [1, _head(engine, "dev-a")["hash"]]}
    ]


# through the ingest ----------------------------------------------------------------------------


def test_ratings_stored_by_the_ingest_are_chained(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        seed_registry(session)
    seal_unchained(engine, KEY)
    now = datetime.now(UTC)
    topic = "hailong/v1/devices/dev-dh-q1/ratings"
    comments = {1: None, 2: "Nhanh gọn", 3: None}
    payloads = [rating_payload(seq=s, comment=c) for s, c in comments.items()]
    with Session(engine) as session:
        result = store_batch(
            session, [Incoming(topic, p) for p in payloads * 2], now, IngestRules(chain_key=KEY)
        )
        session.commit()
    assert result.stored == 3
    assert verify(engine, KEY).checked == 3
    second = json.loads(payloads[1])["id"]
    _tamper(engine, f"UPDATE rating SET comment = 'Chậm' WHERE id = '{second}'")
    report = verify(engine, KEY)
    assert report.problems == [
        f"device 'dev-dh-q1' position 2 (rating '{second}'): the rating does not match its "
        "link: altered, or inserted with a forged link"
    ]
    engine.dispose()


# the command -----------------------------------------------------------------------------------


def test_hailong_verify(database_url: str, tmp_path: Path) -> None:
    """On SQLite the database is found in --data-dir, as `hailong up` keeps it."""
    data = tmp_path
    engine = make_engine(database_url)
    migrate(engine)
    key = prepare(engine, Settings(database_url=database_url, data_dir=data))
    _store(engine, [_row(d, s) for s in range(1, 4) for d in ("dev-a", "dev-b")], key=key)
    env = {"PATH": "/usr/bin:/bin"}
    if not database_url.startswith("sqlite"):
        env["HAILONG_DATABASE_URL"] = database_url

    def hailong(folder: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "system.cli", "verify", "--data-dir", str(folder)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, **extra},
        )

    clean = hailong(data)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines()[0] == (
        "verified 6 ratings of 2 devices: no rating was altered, inserted or removed"
    )
    assert "6/6 ratings" in clean.stderr
    _tamper(engine, f"UPDATE rating SET score = 4 WHERE id = '{_id('dev-b', 2)}'")
    _insert_raw(engine, _row("dev-a", 50))
    broken = hailong(data)
    assert broken.returncode == 1, broken.stderr
    lines = broken.stdout.splitlines()
    assert lines[0] == (
        f"first broken link: device 'dev-b' position 2 (rating '{_id('dev-b', 2)}'): the rating "
        "does not match its link: altered, or inserted with a forged link"
    )
    assert lines[-1].endswith(
        " problems: the ratings and the counts reports read are not all as the server stored them"
    )
    elsewhere = tmp_path / "keys" / "chain.key"
    elsewhere.parent.mkdir()
    (data / "chain.key").rename(elsewhere)
    lost = hailong(data)
    assert lost.returncode == 2 and "no chain key at" in lost.stderr, lost.stderr
    moved = hailong(data, HAILONG_CHAIN_KEY_FILE=str(elsewhere))
    assert moved.returncode == 1, moved.stderr
    engine.dispose()


def test_hailong_verify_without_a_database_says_so(tmp_path: Path) -> None:
    ensure_key(tmp_path / "chain.key")
    done = subprocess.run(
        [sys.executable, "-m", "system.cli", "verify", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "no database at" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "hailong.db").exists()
