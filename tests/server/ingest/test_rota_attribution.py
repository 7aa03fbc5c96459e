"""A rating goes to the officer the rota puts at its counter that day, and a one-off wins over
the rota: store_batch on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from server.ingest.store import Incoming, store_batch
from server.registry.rota_writes import put_rota
from server.storage.models import Assignment, Officer
from server.storage.models import Rating as StoredRating
from server.storage.schedule import RotaCreate
from tests.server.factories import RATINGS_TOPIC, RULES, rating_payload

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 10:00 on Saturday 21 November in Vietnam


def stored_officer(session: Session, pressed_at: datetime, seq: int) -> str | None:
    payload = rating_payload(seq=seq, pressed_at=pressed_at.isoformat())
    message = Incoming(RATINGS_TOPIC, payload, NOW, NOW - timedelta(hours=2), False)
    result = store_batch(session, [message], NOW, RULES)
    session.commit()
    assert result.stored == 1
    row = session.get(StoredRating, json.loads(payload)["id"])
    assert row is not None
    return row.officer_id


def test_ratings_go_to_the_officer_the_rota_puts_at_the_counter_that_day(session: Session) -> None:
    shift = session.exec(select(Assignment)).one()
    shift.end = datetime(2026, 11, 1, tzinfo=UTC)
    session.add(shift)
    session.add(Officer(id="CB-0043", name="Trần Văn Bình", unit_id="DH"))
    session.commit()
    for officer, first in (("CB-0042", "2026-11-20"), ("CB-0043", "2026-11-21")):
        row = {"counter_id": "DH-Q1", "officer_id": officer, "from": first, "every": 2}
        put_rota(session, RotaCreate.model_validate(row))
    assert stored_officer(session, NOW - timedelta(minutes=5), 1) == "CB-0043"
    # Yesterday was the other officer's day (a late rating: its press time decides).
    assert stored_officer(session, NOW - timedelta(days=1), 2) == "CB-0042"
    # A one-off substitute this morning wins over the rota for its span.
    session.add(
        Officer(id="CB-0044", name="Phạm Thu Hà", unit_id="DH"),
    )
    session.commit()
    session.add(
        Assignment(
            officer_id="CB-0044",
            counter_id="DH-Q1",
            start=NOW - timedelta(hours=2),
            end=NOW - timedelta(hours=1),
        )
    )
    session.commit()
    assert stored_officer(session, NOW - timedelta(minutes=90), 3) == "CB-0044"
    assert stored_officer(session, NOW - timedelta(minutes=30), 4) == "CB-0043"
