"""The rota, absence and roster routes: status codes, the 409 wording, scopes and the audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from server.access.auth import add_user
from tests.server.web.test_api import api_app, login, seed

ROW = {
    "counter_id": "DH-Q2",
    "officer_id": "CB-01",
    "from": "2026-12-01",
    "days": "T2 T3 T4 T5 T6",
    "start": "07:30",
    "end": "11:30",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = api_app(tmp_path)
    with TestClient(app) as c:
        auth = login(c, "admin")
        seed(c, auth)
        for path, body in [
            ("/api/v1/units", {"id": "LDB", "name": "Xã Lê Đình Bảy", "kind": "commune"}),
            ("/api/v1/officers", {"id": "CB-01", "name": "Trần Văn An", "unit_id": "DH"}),
            ("/api/v1/officers", {"id": "CB-02", "name": "Lê Thị Bình", "unit_id": "DH"}),
            ("/api/v1/counters", {"id": "DH-Q2", "name": "Quầy 2", "unit_id": "DH"}),
            ("/api/v1/counters", {"id": "DH-Q3", "name": "Quầy 3", "unit_id": "DH"}),
            ("/api/v1/counters", {"id": "LDB-Q1", "name": "Quầy 1", "unit_id": "LDB"}),
        ]:
            assert c.post(path, json=body, headers=auth).status_code == 201
        with Session(app.state.engine) as session:
            add_user(session, "head", "head-password", "unit_head", "DH")
        yield c


def test_a_rota_row_is_created_then_found_again(client: TestClient) -> None:
    auth = login(client, "admin")
    made = client.post("/api/v1/rota", json=ROW, headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["outcome"] == "created"
    assert made.json()["rota"] | {"id": 0} == {
        **ROW,
        "id": 0,
        "to": None,
        "days": "mon,tue,wed,thu,fri",
        "every": 1,
    }
    again = client.post("/api/v1/rota", json=ROW, headers=auth)
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    changed = client.post("/api/v1/rota", json={**ROW, "to": "2026-12-31"}, headers=auth)
    assert (changed.status_code, changed.json()["outcome"]) == (200, "updated")
    assert changed.json()["rota"]["id"] == made.json()["rota"]["id"]
    listed = client.get("/api/v1/rota?counter_id=DH-Q2", headers=auth).json()
    assert [r["to"] for r in listed] == ["2026-12-31"]
    actions = [e["action"] for e in client.get("/api/v1/audit?action=rota.", headers=auth).json()]
    assert actions == ["rota.put", "rota.put"]  # the unchanged one wrote nothing
    gone = client.delete(f"/api/v1/rota/{made.json()['rota']['id']}", headers=auth)
    assert gone.status_code == 200 and client.get("/api/v1/rota", headers=auth).json() == []
    assert client.delete("/api/v1/rota/99", headers=auth).status_code == 404


def test_an_officer_at_two_counters_is_a_409_in_vietnam_time(client: TestClient) -> None:
    auth = login(client, "admin")
    assert client.post("/api/v1/rota", json=ROW, headers=auth).status_code == 201
    clash = client.post(
        "/api/v1/rota",
        json={**ROW, "counter_id": "DH-Q3", "from": "2026-12-02", "start": "10:00", "end": "12:00"},
        headers=auth,
    )
    assert clash.status_code == 409
    assert clash.json()["detail"] == (
        "cán bộ CB-01 đã ở quầy DH-Q2 từ 07:30 đến 11:30 ngày 02/12/2026 (giờ Việt Nam); "
        "officer CB-01 is already at counter DH-Q2 from 07:30 to 11:30 on 02/12/2026 "
        "(Vietnam time)"
    )
    one_off = client.post(
        "/api/v1/assignments",
        json={
            "officer_id": "CB-01",
            "counter_id": "DH-Q3",
            "start": "2026-12-03T11:00:00+07:00",
            "end": "2026-12-03T12:00:00+07:00",
        },
        headers=auth,
    )
    assert one_off.status_code == 409
    assert one_off.json()["detail"].startswith(
        "cán bộ CB-01 đã ở quầy DH-Q2 từ 07:30 đến 11:30 ngày 03/12/2026 (giờ Việt Nam)"
    )
    other_unit = client.post(
        "/api/v1/rota", json={**ROW, "counter_id": "LDB-Q1", "officer_id": "CB-02"}, headers=auth
    )
    assert other_unit.status_code == 409 and "belongs to unit DH" in other_unit.json()["detail"]
    unknown = client.post("/api/v1/rota", json={**ROW, "officer_id": "CB-99"}, headers=auth)
    assert unknown.status_code == 422
    overnight = client.post(
        "/api/v1/rota", json={**ROW, "start": "22:00", "end": "06:00"}, headers=auth
    )
    assert overnight.status_code == 422


def test_the_roster_shows_who_is_at_each_counter_and_leave_cuts_it(client: TestClient) -> None:
    auth = login(client, "admin")
    client.post("/api/v1/rota", json=ROW, headers=auth)
    client.post(
        "/api/v1/rota",
        json={**ROW, "officer_id": "CB-02", "start": "13:00", "end": "17:00"},
        headers=auth,
    )
    leave = client.post(
        "/api/v1/absences",
        json={
            "officer_id": "CB-02",
            "start": "2026-12-02T00:00:00+07:00",
            "end": "2026-12-03T00:00:00+07:00",
            "note": "phép",
        },
        headers=auth,
    )
    assert leave.status_code == 201, leave.text
    span = "unit_id=DH&start=2026-12-01T00:00:00%2B07:00&end=2026-12-03T00:00:00%2B07:00"
    shifts = client.get(f"/api/v1/roster?{span}", headers=login(client, "head"))
    assert shifts.status_code == 200, shifts.text
    seen = [
        (s["counter_id"], s["officer_name"], s["source"], s["start"][:16])
        for s in shifts.json()
        if s["counter_id"] == "DH-Q2"
    ]
    assert seen == [
        ("DH-Q2", "Trần Văn An", "rota", "2026-12-01T00:30"),
        ("DH-Q2", "Lê Thị Bình", "rota", "2026-12-01T06:00"),
        ("DH-Q2", "Trần Văn An", "rota", "2026-12-02T00:30"),
    ]
    assert any(s["source"] == "assignment" and s["counter_id"] == "DH-Q1" for s in shifts.json())
    head = login(client, "head")
    assert (
        client.get(f"/api/v1/roster?{span}".replace("DH", "LDB"), headers=head).status_code == 403
    )
    assert client.get("/api/v1/absences", headers=head).json()[0]["note"] == "phép"
    too_long = client.get(
        "/api/v1/roster?unit_id=DH&start=2026-01-01T00:00:00Z&end=2026-06-01T00:00:00Z",
        headers=auth,
    )
    assert too_long.status_code == 422 and "at most 62 days" in too_long.json()["detail"]
    no_unit = client.get(
        "/api/v1/roster?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z", headers=auth
    )
    assert no_unit.status_code == 422
    absence_id = leave.json()["id"]
    assert client.delete(f"/api/v1/absences/{absence_id}", headers=auth).status_code == 200
    assert client.get("/api/v1/absences", headers=auth).json() == []
    assert client.post("/api/v1/rota", json=ROW, headers=head).status_code == 403
