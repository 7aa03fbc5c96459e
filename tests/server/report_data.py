"""A small registry and ratings whose report figures are worked out by hand in the tests.

Two units. Phường Diên Hồng (DH) has counter DH-Q1 (field tu-phap) with officer CB-A, and
DH-Q2 (fields tu-phap and dat-dai) with CB-B; Xã An (XA) has XA-Q1 (dat-dai) with CB-C.

- CB-A, October 2026 (5/10, from 08:00 Vietnam time, 5 minutes apart): 20 × level 4, 7 × 3,
  2 × 2 (reason wait_time), 1 × 1 (wait_time, attitude); the first 10 carry a ticket. Then one
  more level 1 press a second after the last (reason paperwork, a ticket): flagged "cooldown".
  Twelve services announced at DH-Q1 in October.
- CB-A, September 2026: 5 × level 4, 2 × 3, 2 × 1 on 15/9, and one level 4 at
  2026-09-30T16:59:59Z, which is 23:59:59 on 30/9 in Vietnam.
- CB-B, October: 29 × level 4; the first at 2026-09-30T17:00:00Z, which is 00:00 on 1/10 in
  Vietnam, the other 28 on 6/10.
- CB-C, October (7/10): 36 × level 4, 4 × level 1.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.access.auth import add_user
from server.ingest.services import ServiceIn, record_services
from server.ingest.store import Incoming, store_batch
from server.settings import Settings
from server.storage.models import (
    Assignment,
    Counter,
    CounterField,
    Device,
    Officer,
    ServiceField,
    Unit,
)
from server.timeutil import VN_TZ
from server.web.app import create_app
from system.web import create_app as with_dashboard
from tests.server.factories import RULES, rating_payload

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
DEVICES = {"dev-q1": "DH-Q1", "dev-q2": "DH-Q2", "dev-x1": "XA-Q1"}


def _registry(session: Session) -> None:
    session.add(Unit(id="DH", name="Phường Diên Hồng", kind="ward", province="Gia Lai"))
    session.add(Unit(id="XA", name="Xã An", kind="commune", province="Gia Lai"))
    session.add(ServiceField(id="tu-phap", name="Tư pháp"))
    session.add(ServiceField(id="dat-dai", name="Đất đai"))
    session.commit()
    for counter_id, name, unit_id in [
        ("DH-Q1", "Quầy 1", "DH"),
        ("DH-Q2", "Quầy 2", "DH"),
        ("XA-Q1", "Quầy một cửa", "XA"),
    ]:
        session.add(Counter(id=counter_id, name=name, unit_id=unit_id))
    for officer_id, name, unit_id in [
        ("CB-A", "Nguyễn Thị An", "DH"),
        ("CB-B", "Trần Văn Bình", "DH"),
        ("CB-C", "Lê Thị Cúc", "XA"),
    ]:
        session.add(Officer(id=officer_id, name=name, unit_id=unit_id, title="Công chức"))
    session.commit()
    for counter_id, field_id in [
        ("DH-Q1", "tu-phap"),
        ("DH-Q2", "tu-phap"),
        ("DH-Q2", "dat-dai"),
        ("XA-Q1", "dat-dai"),
    ]:
        session.add(CounterField(counter_id=counter_id, field_id=field_id))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    for (device_id, counter_id), officer_id in zip(
        DEVICES.items(), ["CB-A", "CB-B", "CB-C"], strict=True
    ):
        session.add(Device(id=device_id, counter_id=counter_id, created_at=since))
        session.add(Assignment(officer_id=officer_id, counter_id=counter_id, start=since))
    session.commit()


class _Presses:
    """Rating messages per device, with the device's own sequence numbers, which rise with the
    press time as a unit's do (or the order rules would flag them)."""

    def __init__(self) -> None:
        self.presses: list[tuple[str, datetime, int, dict[str, object]]] = []

    def press(self, device_id: str, at: datetime, score: int, **fields: object) -> None:
        self.presses.append((device_id, at, score, fields))

    def messages(self) -> list[Incoming]:
        order = sorted(range(len(self.presses)), key=lambda i: self.presses[i][:2])
        seqs: dict[int, int] = {}
        last = dict.fromkeys(DEVICES, 0)
        for i in order:
            last[self.presses[i][0]] += 1
            seqs[i] = last[self.presses[i][0]]
        return [
            Incoming(
                f"hailong/v1/devices/{device_id}/ratings",
                rating_payload(
                    id=str(uuid.uuid4()),
                    device_id=device_id,
                    seq=seqs[i],
                    pressed_at=at.isoformat(),
                    score=score,
                    officer_id=None,
                    counter_id=None,
                    **fields,
                ),
            )
            for i, (device_id, at, score, fields) in enumerate(self.presses)
        ]

    def series(
        self, device_id: str, start: datetime, scores: list[int], **fields: object
    ) -> datetime:
        """One press per score, 5 minutes apart (no misuse flag); returns the last one's time."""
        at = start
        for i, score in enumerate(scores):
            at = start + timedelta(minutes=5 * i)
            self.press(device_id, at, score, **fields)
        return at


def _ratings() -> list[Incoming]:
    p = _Presses()
    october_5 = datetime(2026, 10, 5, 8, 0, tzinfo=VN_TZ)
    a_scores = [4] * 20 + [3] * 7 + [2] * 2 + [1]
    for i, score in enumerate(a_scores):
        reasons = {2: ["wait_time"], 1: ["wait_time", "attitude"]}.get(score, [])
        ticket = f"A{i + 1:03d}" if i < 10 else None
        at = october_5 + timedelta(minutes=5 * i)
        p.press("dev-q1", at, score, reasons=reasons, ticket=ticket)
    last = october_5 + timedelta(minutes=5 * (len(a_scores) - 1))
    p.press("dev-q1", last + timedelta(seconds=1), 1, reasons=["paperwork"], ticket="A999")
    p.series("dev-q1", datetime(2026, 9, 15, 8, 0, tzinfo=VN_TZ), [4] * 5 + [3] * 2 + [1] * 2)
    p.press("dev-q1", datetime(2026, 9, 30, 16, 59, 59, tzinfo=UTC), 4)
    p.press("dev-q2", datetime(2026, 9, 30, 17, 0, 0, tzinfo=UTC), 4)
    p.series("dev-q2", datetime(2026, 10, 6, 8, 0, tzinfo=VN_TZ), [4] * 28)
    p.series("dev-x1", datetime(2026, 10, 7, 8, 0, tzinfo=VN_TZ), [4] * 36 + [1] * 4)
    return p.messages()


def _services() -> list[ServiceIn]:
    start = datetime(2026, 10, 5, 8, 0, tzinfo=VN_TZ)
    return [
        ServiceIn(counter_id="DH-Q1", ticket=f"S{i:03d}", served_at=start + timedelta(minutes=i))
        for i in range(12)
    ]


def seed(engine: Engine) -> None:
    with Session(engine) as session:
        _registry(session)
        result = store_batch(session, _ratings(), NOW, RULES)
        assert result.stored == 30 + 1 + 10 + 29 + 40 and result.rejected == 0, result
        record_services(session, _services(), NOW)
        session.commit()


USERS = {
    "admin": ("admin", None, None),
    "hr": ("hr", None, None),
    "head-dh": ("unit_head", "DH", None),
    "viewer": ("viewer", None, None),
    "officer-a": ("officer", None, "CB-A"),
}


def report_app(
    tmp_path: Path, database_url: str | None = None, *, dashboard: bool = False
) -> FastAPI:
    """The API without ingest over the seeded database, with a login for every role; with
    `dashboard`, the dashboard mounted too, as `hailong server` serves it."""
    url = database_url or f"sqlite:///{tmp_path / 'reports.db'}"
    settings = Settings(database_url=url, secret_key="k" * 40, data_dir=tmp_path)
    app = (with_dashboard if dashboard else create_app)(settings, ingest=False)
    seed(app.state.engine)
    with Session(app.state.engine) as session:
        for name, (role, unit_id, officer_id) in USERS.items():
            add_user(session, name, f"{name}-password", role, unit_id, officer_id)
    return app


def login(client: TestClient, user: str) -> dict[str, str]:
    form = {"username": user, "password": f"{user}-password"}
    r = client.post("/api/v1/auth/token", data=form)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
