"""Registry and rating builders for server tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.ingest.store import IngestRules, store_rows
from server.storage.db import make_engine, migrate
from server.storage.models import (
    Assignment,
    Counter,
    CounterField,
    Device,
    Officer,
    Rating,
    ServiceField,
    Unit,
)
from server.storage.rows import RatingRow
from server.timeutil import vn_day


def seed_registry(session: Session, *, assigned_since: datetime | None = None) -> None:
    """One unit, one counter serving one field with one device, one officer assigned to it."""
    session.add(Unit(id="DH", name="Phường Diên Hồng", kind="ward", province="Gia Lai"))
    session.add(ServiceField(id="tu-phap", name="Tư pháp"))
    session.commit()
    session.add(Counter(id="DH-Q1", name="Quầy Tư pháp", unit_id="DH"))
    session.add(Officer(id="CB-0042", name="Nguyễn Thị Lan", unit_id="DH", title="Công chức"))
    session.commit()
    session.add(CounterField(counter_id="DH-Q1", field_id="tu-phap"))
    session.add(Device(id="dev-dh-q1", counter_id="DH-Q1", created_at=datetime.now(UTC)))
    session.add(
        Assignment(
            officer_id="CB-0042",
            counter_id="DH-Q1",
            start=assigned_since or datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    session.commit()


def rating_payload(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "schema": 1,
        "id": str(uuid.uuid4()),
        "device_id": "dev-dh-q1",
        "seq": 1,
        "pressed_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "score": 4,
        "officer_id": "CB-0042",
        "counter_id": "DH-Q1",
    }
    body.update(overrides)
    return json.dumps(body).encode()


RATINGS_TOPIC = "hailong/v1/devices/dev-dh-q1/ratings"


# The ratings' hash-chain key for tests; a real server reads its own from a file
# (server/integrity/key.py).
TEST_CHAIN_KEY = bytes(range(32))
RULES = IngestRules(chain_key=TEST_CHAIN_KEY)


def stored_row(
    pressed_at: datetime, flags: str = "", received_at: datetime | None = None, **overrides: Any
) -> RatingRow:
    """A rating row as the ingest hands it to `store_rows`, with whatever flags a rule set: for
    tests of what is done with flags, whichever rule sets them."""
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "device_id": "dev-dh-q1",
        "seq": 1,
        "pressed_at": pressed_at,
        "device_pressed_at": pressed_at.isoformat(),
        "received_at": received_at or pressed_at,
        "day": vn_day(pressed_at),
        "scale": "vn4",
        "score": 4,
        "officer_id": "CB-0042",
        "counter_id": "DH-Q1",
        "unit_id": "DH",
        "flags": flags,
    }
    fields.update(overrides)
    return rating_row(**fields)


def rating_row(**columns: Any) -> RatingRow:
    """The row of a rating given some of its columns, the model's defaults for the others."""
    return RatingRow(**Rating(**columns).model_dump())


def seed_one_counter(engine_url: str, device_ids: tuple[str, ...]) -> None:
    """A migrated database with one commune, officer and counter, its devices, and the officer
    on duty there since 2026: what a process-level ingest test needs."""
    engine = make_engine(engine_url)
    migrate(engine)
    with Session(engine) as session:
        session.add(Unit(id="U", name="Xã Một", kind="commune"))
        session.commit()
        session.add(Officer(id="CB", name="Cán bộ", unit_id="U"))
        session.add(Counter(id="Q", name="Quầy", unit_id="U"))
        session.commit()
        for device_id in device_ids:
            session.add(Device(id=device_id, counter_id="Q", created_at=datetime.now(UTC)))
        session.add(
            Assignment(officer_id="CB", counter_id="Q", start=datetime(2026, 1, 1, tzinfo=UTC))
        )
        session.commit()
    engine.dispose()


def stored_in(database_url: str, rows: list[RatingRow], now: datetime) -> Engine:
    """A migrated database with seed_registry's counter and these rating rows stored through
    `store_rows` (rollups and chain kept as the ingest keeps them)."""
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        seed_registry(session)
        store_rows(session, rows, RULES, now)
        session.commit()
    return engine
