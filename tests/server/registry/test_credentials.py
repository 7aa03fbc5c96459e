"""Officers' PINs and cards through the API: stored only as Argon2 hashes, answered and audited
without the value, refused when another active officer of the unit has it; and a unit's sign-in
method, set by the API or the registry import, which its units' Configs carry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from devtools.import_workbook import xlsx_bytes
from server.registry.credentials import find_officer, tag
from server.registry.device_config import config_for
from server.storage.channels import OfficerCredential
from server.storage.models import AuditEvent, Device
from tests.server.web.test_api import api_app, login, seed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECRET = "k" * 40  # api_app's secret_key
URL = "/api/v1/officers/CB-0042/credentials"


Admin = tuple[FastAPI, TestClient, dict[str, str]]


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Admin]:
    """The API with seed's registry (CB-0042 at DH-Q1 of unit DH) and an admin's login."""
    app = api_app(tmp_path)
    with TestClient(app) as client:
        auth = login(client, "admin")
        seed(client, auth)
        yield app, client, auth


def add_officer(client: TestClient, auth: dict[str, str], officer_id: str) -> None:
    body = {"id": officer_id, "name": "Trần Văn Bình", "unit_id": "DH"}
    assert client.post("/api/v1/officers", json=body, headers=auth).status_code == 201


def test_a_pin_and_a_card_are_set_as_hashes_and_never_shown_or_logged(admin: Admin) -> None:
    app, client, auth = admin
    r = client.post(URL, json={"pin": "483920", "card": "0004561234"}, headers=auth)
    assert r.status_code == 200, r.text
    assert "483920" not in r.text and "0004561234" not in r.text
    assert [c["kind"] for c in r.json()["credentials"]] == ["card", "pin"]
    listed = client.get(URL, headers=auth)
    assert [(c["kind"], c["set_by"]) for c in listed.json()["credentials"]] == [
        ("card", "admin"),
        ("pin", "admin"),
    ]
    with Session(app.state.engine) as session:
        rows = {r.kind: r for r in session.exec(select(OfficerCredential)).all()}
        assert rows["pin"].hash.startswith("$argon2id$") and "483920" not in rows["pin"].hash
        assert rows["pin"].tag == tag(SECRET, "pin", "483920")
        found = find_officer(session, SECRET, "DH", "pin", "483920")
        assert found is not None and found.id == "CB-0042"
        assert find_officer(session, SECRET, "DH", "pin", "483921") is None
        assert find_officer(session, SECRET, "DH", "card", "0004561234") is not None
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "officer.credentials")
        ).all()
        assert [(e.target, e.detail) for e in events] == [
            ("CB-0042", '{"cleared": [], "set": ["card", "pin"]}')
        ]
        assert all("483920" not in e.detail for e in session.exec(select(AuditEvent)))

    # null clears one kind and leaves the other
    r = client.post(URL, json={"card": None}, headers=auth)
    assert [c["kind"] for c in r.json()["credentials"]] == ["pin"]


def test_bad_shapes_a_pin_in_use_and_other_roles_are_refused(admin: Admin) -> None:
    app, client, auth = admin
    add_officer(client, auth, "CB-0043")
    for body in ({"pin": "12"}, {"pin": "12a4"}, {"pin": "123456789"}, {"card": "ab"}, {}):
        r = client.post(URL, json=body, headers=auth)
        assert r.status_code == 422, (body, r.text)
    assert "4 đến 8 chữ số" in client.post(URL, json={"pin": "12"}, headers=auth).text
    assert "12a4" not in client.post(URL, json={"pin": "12a4"}, headers=auth).text
    assert client.post(URL, json={"pin": "1234"}, headers=auth).status_code == 200
    taken = client.post("/api/v1/officers/CB-0043/credentials", json={"pin": "1234"}, headers=auth)
    assert taken.status_code == 409
    assert "CB-0042" not in taken.text and "đã dùng" in taken.text
    with Session(app.state.engine) as session:  # the refused write left no event
        targets = session.exec(
            select(AuditEvent.target).where(AuditEvent.action == "officer.credentials")
        ).all()
        assert targets == ["CB-0042"]
    # the officer's own PIN set again is no clash
    assert client.post(URL, json={"pin": "1234"}, headers=auth).status_code == 200
    # an officer who left gives their PIN back
    r = client.patch("/api/v1/officers/CB-0042", json={"active": False}, headers=auth)
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/officers/CB-0043/credentials", json={"pin": "1234"}, headers=auth)
    assert r.status_code == 200, r.text
    assert client.post(URL, json={"pin": "5678"}, headers=auth).status_code == 409
    missing = client.post("/api/v1/officers/CB-9/credentials", json={"pin": "1234"}, headers=auth)
    assert missing.status_code == 404
    hr = login(client, "hr")
    assert client.post(URL, json={"pin": "4321"}, headers=hr).status_code == 403
    assert client.get(URL, headers=hr).status_code == 403


def test_a_units_signin_method_is_set_by_an_admin_and_its_units_config_says_it(
    admin: Admin,
) -> None:
    app, client, auth = admin
    r = client.post("/api/v1/devices", json={"id": "dev-q1", "counter_id": "DH-Q1"}, headers=auth)
    assert r.status_code == 201, r.text
    with Session(app.state.engine) as session:
        device = session.get(Device, "dev-q1")
        assert device is not None
        assert config_for(session, device, datetime.now(UTC)).signin == "none"
    r = client.patch("/api/v1/units/DH", json={"signin": "pin_or_card"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["signin"] == "pin_or_card"
    with Session(app.state.engine) as session:
        device = session.get(Device, "dev-q1")
        assert device is not None
        assert config_for(session, device, datetime.now(UTC)).signin == "pin_or_card"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "unit.update")).one()
        assert event.detail == '{"signin": "pin_or_card"}'
    bad = client.patch("/api/v1/units/DH", json={"signin": "face"}, headers=auth)
    assert bad.status_code == 422
    assert (
        client.patch("/api/v1/units/NOPE", json={"signin": "pin"}, headers=auth).status_code == 404
    )
    hr = login(client, "hr")
    assert client.patch("/api/v1/units/DH", json={"signin": "pin"}, headers=hr).status_code == 403


def test_the_registry_import_sets_a_units_method_and_a_sheet_without_the_column_keeps_it(
    admin: Admin,
) -> None:
    _, client, auth = admin

    def upload(units: list[dict[str, str | None]], status: int = 200) -> dict[str, Any]:
        files = {"file": ("dang-ky.xlsx", xlsx_bytes({"units": units}), XLSX)}
        r = client.post("/api/v1/import", files=files, headers=auth)
        assert r.status_code == status, r.text
        return dict(r.json())

    def method() -> str:
        (unit,) = [u for u in client.get("/api/v1/units", headers=auth).json() if u["id"] == "DH"]
        return str(unit["signin"])

    dh = {"id": "DH", "name": "Phường Diên Hồng", "kind": "phường"}
    assert upload([{**dh, "signin": "pin hoặc thẻ"}])["sheets"]["units"]["updated"] == ["DH"]
    assert method() == "pin_or_card"
    assert upload([dh])["sheets"]["units"]["unchanged"] == ["DH"]  # no column: kept
    assert method() == "pin_or_card"
    refused = upload([{**dh, "signin": "vân tay"}], 422)
    assert [(e["sheet"], e["row"], e["column"]) for e in refused["errors"]] == [
        ("units", 3, "signin")
    ]
    assert method() == "pin_or_card"
    upload([{**dh, "signin": None}])  # an empty cell: the rota only
    assert method() == "none"
