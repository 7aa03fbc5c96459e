"""Rejected messages within a quota per device and an age limit, every deletion counted
(server/ingest/rejected.py), on real SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from hailong import protocol
from server.ingest import rejected
from server.ingest.store import Incoming, store_batch
from server.jobs import Jobs
from server.storage.db import alembic_config, make_engine
from server.storage.models import RejectedDropped, RejectedMessage, SpooledMessage
from tests.server.factories import RULES
from tests.server.web.test_api import api_app, login

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
A, B = "dev-dh-q1", "dev-ghost"  # B is in no registry: its ratings are rejected too


def garbage(device_id: str, n: int) -> Incoming:
    return Incoming(protocol.topic(device_id, "ratings"), f"garbage {n}".encode())


def kept(session: Session, device_id: str) -> list[bytes]:
    rows = session.exec(
        select(RejectedMessage.payload)
        .where(col(RejectedMessage.device_id) == device_id)
        .order_by(col(RejectedMessage.id))
    ).all()
    return [bytes(p) for p in rows]


def dropped(session: Session) -> dict[str, tuple[int, int]]:
    session.expire_all()
    return {d.device_id: (d.over_quota, d.too_old) for d in rejected.dropped_counts(session)}


def test_beyond_its_quota_a_device_keeps_its_newest_and_the_rest_are_counted(
    session: Session,
) -> None:
    rules = replace(RULES, rejected_per_device=5)
    first = [garbage(A, n) for n in range(3)]
    store_batch(session, [*first, garbage(B, 0), garbage(B, 1)], NOW, rules)
    session.commit()
    assert dropped(session) == {}
    then = [garbage(A, n) for n in range(3, 8)]
    nowhere = Incoming("hailong/v1/devices/not a valid id/ratings", b"x")
    result = store_batch(session, [*then, nowhere], NOW, rules)
    session.commit()
    assert result.rejected == 6
    assert kept(session, A) == [f"garbage {n}".encode() for n in range(3, 8)]
    assert kept(session, B) == [b"garbage 0", b"garbage 1"], "another device's are untouched"
    assert kept(session, "") == [b"x"], "a topic that names no device counts as ''"
    assert dropped(session) == {A: (3, 0)}
    store_batch(session, [garbage(A, 8)], NOW, rules)
    session.commit()
    assert kept(session, A)[-1] == b"garbage 8" and len(kept(session, A)) == 5
    assert dropped(session) == {A: (4, 0)}


def test_the_age_job_deletes_old_rejected_messages_and_counts_them(session: Session) -> None:
    for days, msgs in ((100, [garbage(A, 0), garbage(A, 1), garbage(B, 0)]), (10, [garbage(A, 2)])):
        store_batch(session, msgs, NOW - timedelta(days=days), RULES)
        session.commit()
    engine = session.get_bind()
    jobs = Jobs(engine, [rejected.age_job(timedelta(days=90))], clock=lambda: NOW)  # type: ignore[arg-type]
    assert jobs.run_due() == ["rejected.age"]
    session.expire_all()
    assert kept(session, A) == [b"garbage 2"] and kept(session, B) == []
    assert dropped(session) == {A: (0, 2), B: (0, 1)}
    assert jobs.run_due() == [], "hourly"
    with Session(engine) as other:
        assert rejected.drop_old(other, NOW, timedelta(days=90)) == 0
    assert dropped(session) == {A: (0, 2), B: (0, 1)}, "nothing counted twice"
    assert session.get(RejectedDropped, A) is not None


def test_the_api_lists_each_devices_deleted_rejected_messages(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with Session(app.state.engine) as session:
        rejected.count(session, {A: 3, "": 1}, "over_quota")
        rejected.count(session, {A: 2}, "too_old")
        session.commit()
    with TestClient(app) as client:
        answer = client.get("/api/v1/rejected/dropped", headers=login(client, "admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {"device_id": A, "over_quota": 3, "too_old": 2},
        {"device_id": "", "over_quota": 1, "too_old": 0},
    ]


def test_the_migration_gives_kept_rejected_messages_their_device_and_refuses_to_drop_a_spool(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    try:
        command.upgrade(cfg, "0005")
        with engine.begin() as connection:
            for topic in (protocol.topic(A, "ratings"), protocol.topic(B, "status"), "x/y"):
                connection.execute(
                    text(
                        "INSERT INTO rejectedmessage (received_at, topic, payload, reason)"
                        " VALUES (:at, :topic, :payload, 'test')"
                    ),
                    {"at": NOW, "topic": topic, "payload": b"?"},
                )
        command.upgrade(cfg, "0007")
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT topic, device_id FROM rejectedmessage ORDER BY id")
            ).all()
        assert [device for _, device in found] == [A, B, ""]

        with Session(engine) as session:
            session.add(SpooledMessage(device_id=A, topic="t", payload=b"p", received_at=NOW))
            session.commit()
        with pytest.raises(RuntimeError, match="ingest_spool still holds 1 message"):
            command.downgrade(cfg, "0005")
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM ingest_spool"))
        command.downgrade(cfg, "0005")
        with engine.connect() as connection:
            assert len(connection.execute(text("SELECT * FROM rejectedmessage")).all()) == 3
    finally:
        engine.dispose()
