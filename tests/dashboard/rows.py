"""Test data: the fixed clock of the dashboard tests, the users looking, and rows for tests that
need exact counts."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dashboard.sources import SessionFactory
from server.access.roles import Access
from server.ingest.store import store_rows
from server.storage.db import session_scope
from server.storage.models import Alert, Counter, Device, Officer, Unit
from server.timeutil import VN_TZ
from tests.server.factories import RULES, rating_row

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=VN_TZ)  # a Friday afternoon in Vietnam
TODAY = date(2026, 11, 20)

_seq = itertools.count(1)

# The users of the demo data (devtools/dashboard_demo.py).
HR = Access("hr", "phongnoivu")
HEAD_Q1 = Access("unit_head", "truongq1", unit_id="Q1-MOTCUA")
OFFICER_1 = Access("officer", "huong", unit_id="Q1-MOTCUA", officer_id="CB-0001")
VIEWER = Access("viewer", "xem")


def factory(engine: Engine) -> SessionFactory:
    return lambda: session_scope(engine)


def add_unit(session: Session, unit_id: str, name: str) -> None:
    session.add(Unit(id=unit_id, name=name, kind="ward"))
    session.flush()


def add_officer(session: Session, officer_id: str, name: str, unit_id: str) -> None:
    session.add(Officer(id=officer_id, name=name, unit_id=unit_id))
    session.flush()


def add_counter(session: Session, counter_id: str, name: str, unit_id: str) -> None:
    session.add(Counter(id=counter_id, name=name, unit_id=unit_id))
    session.flush()


def add_device(session: Session, device_id: str, counter_id: str, **fields: Any) -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    session.add(Device(id=device_id, counter_id=counter_id, created_at=created, **fields))
    session.flush()


def add_ratings(
    session: Session,
    officer_id: str,
    unit_id: str,
    day: date,
    scores: list[int],
    scale: str = "vn4",
) -> None:
    """One rating per score, pressed at 09:00 Vietnam time on `day`."""
    pressed = datetime.combine(day, time(9), VN_TZ)
    rows = []
    for i, score in enumerate(scores):
        at = pressed + timedelta(minutes=i)
        rows.append(
            rating_row(
                id=str(uuid.uuid4()),
                device_id="HL-T",
                seq=next(_seq),
                pressed_at=at,
                device_pressed_at=at.isoformat(),
                received_at=at,
                day=day,
                scale=scale,
                score=score,
                officer_id=officer_id,
                unit_id=unit_id,
            )
        )
    store_rows(session, rows, RULES, pressed)
    session.flush()


def add_alert(
    session: Session, unit_id: str, message: str, at: datetime, counter_id: str | None = None
) -> None:
    """An alert as server/alerts/checks.py raises one, undelivered."""
    session.add(
        Alert(
            key=f"test:{unit_id}:{counter_id}:{at.isoformat()}",
            rule="unsatisfied-at-counter" if counter_id else "unit-satisfied-below",
            unit_id=unit_id,
            counter_id=counter_id,
            raised_at=at,
            window_start=at - timedelta(hours=1),
            window_end=at,
            message=message,
        )
    )
    session.flush()


def callback_body(
    deps: list[dict[str, Any]],
    output_id: str,
    inputs: dict[tuple[str, str], Any],
    states: dict[tuple[str, str], Any] | None = None,
) -> dict[str, Any]:
    """The body the browser posts to run the Dash callback that writes `output_id`, given the
    app's `_dash-dependencies`; `inputs` changed, `states` are only read."""
    (dep,) = [d for d in deps if f"{output_id}." in d["output"]]
    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in dep["output"].strip(".").split("...")
    ]
    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{**i, "value": inputs.get((i["id"], i["property"]))} for i in dep["inputs"]],
        "changedPropIds": [f"{i}.{p}" for i, p in inputs],
        "state": []
        if states is None
        else [{**s, "value": states.get((s["id"], s["property"]))} for s in dep["state"]],
    }
