"""Services from the queue system: stored once per counter, ticket and Vietnam day, attributed
like ratings, counted for the response rate, and audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from server.reporting import reading
from server.storage import rollups
from server.storage.models import AuditEvent, ServiceRecord
from tests.server.web.test_api import api_app, login, seed


def test_services_are_stored_once_attributed_and_counted(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with TestClient(app) as client:
        auth = login(client, "admin")
        seed(client, auth)  # CB-0042 serves DH-Q1 from 1 January 2026
        services = [
            {"counter_id": "DH-Q1", "ticket": "A-001", "served_at": "2026-10-05T08:00:00+07:00"},
            {"counter_id": "DH-Q1", "ticket": "A-002", "served_at": "2026-10-05T08:10:00+07:00"},
            # 23:30 UTC on the 5th is the 6th in Vietnam: the same ticket number, another day
            {"counter_id": "DH-Q1", "ticket": "A-001", "served_at": "2026-10-05T23:30:00+00:00"},
        ]
        r = client.post("/api/v1/services", json={"services": services}, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json() == {"stored": 3, "duplicates": 0}
        again = client.post("/api/v1/services", json={"services": services[:2]}, headers=auth)
        assert again.json() == {"stored": 0, "duplicates": 2}

        with Session(app.state.engine) as session:
            rows = session.exec(select(ServiceRecord).order_by(ServiceRecord.id)).all()
            assert [(r.ticket, r.day, r.officer_id, r.unit_id) for r in rows] == [
                ("A-001", date(2026, 10, 5), "CB-0042", "DH"),
                ("A-002", date(2026, 10, 5), "CB-0042", "DH"),
                ("A-001", date(2026, 10, 6), "CB-0042", "DH"),
            ]
            per_day = reading.tallies(
                session, rollups.SERVICES, date(2026, 10, 1), date(2026, 10, 31), ["day"]
            )
            assert sorted(per_day) == [(date(2026, 10, 5), 2), (date(2026, 10, 6), 1)]
            year = reading.tallies(
                session, rollups.SERVICES, date(2026, 1, 1), date(2026, 12, 31), ["officer_id"]
            )
            assert year == [("CB-0042", 3)]
            events = session.exec(
                select(AuditEvent).where(AuditEvent.action == "services.import")
            ).all()
            assert [(e.actor, e.detail) for e in events] == [
                ("admin", '{"duplicates": 0, "stored": 3}'),
                ("admin", '{"duplicates": 2, "stored": 0}'),
            ]


def test_unknown_counters_and_bad_input_are_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    app = api_app(tmp_path)
    with TestClient(app) as client:
        auth = login(client, "admin")
        seed(client, auth)
        good = {"counter_id": "DH-Q1", "ticket": "A-1", "served_at": "2026-10-05T08:00:00+07:00"}
        for bad, status, text in [
            ({**good, "counter_id": "NOPE"}, 422, "unknown counter(s) NOPE"),
            ({**good, "officer_id": "CB-9"}, 422, "unknown officer(s) CB-9"),
            ({**good, "served_at": "2026-10-05T08:00:00"}, 422, "timezone"),
            ({**good, "ticket": "A\x00"}, 422, "printable"),
        ]:
            r = client.post("/api/v1/services", json={"services": [good, bad]}, headers=auth)
            assert (r.status_code, text in r.text) == (status, True), r.text
        hr = login(client, "hr")
        r = client.post("/api/v1/services", json={"services": [good]}, headers=hr)
        assert r.status_code == 403
        with Session(app.state.engine) as session:
            assert session.exec(select(ServiceRecord)).all() == []
