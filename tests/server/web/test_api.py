"""The registry and report API over real SQLite; the broker side is replaced by a recorder."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from hailong.errors import BrokerError
from hailong.mqtt import MqttTarget
from server.access.auth import add_user
from server.settings import Settings
from server.web.app import create_app
from system.simulator import bundle_settings


class RecordingAccounts:
    def __init__(self) -> None:
        self.made: dict[str, str] = {}
        self.disabled: list[str] = []
        self.down = False
        self.device_target = MqttTarget("broker.example", 8883, tls=True)

    def put_device(self, device_id: str, password: str) -> None:
        if self.down:
            raise BrokerError("the broker is not reachable")
        self.made[device_id] = password

    def put_devices(self, passwords: Mapping[str, str]) -> None:
        for device_id, password in passwords.items():
            self.put_device(device_id, password)

    def disable_device(self, device_id: str) -> None:
        if self.down:
            raise BrokerError("the broker is not reachable")
        self.disabled.append(device_id)


def api_app(tmp_path: Path) -> FastAPI:
    """The API without ingest, broker accounts recorded, and an admin, hr and viewer login."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", secret_key="k" * 40, data_dir=tmp_path
    )
    app = create_app(settings, ingest=False)
    app.state.accounts = RecordingAccounts()
    with Session(app.state.engine) as session:
        for role in ("admin", "hr", "viewer"):
            add_user(session, role, f"{role}-password", role)
    return app


def broker_app(broker_url: str, tmp_path: Path) -> FastAPI:
    """The API (no ingest) keeping device accounts in a real Mosquitto, with an admin login."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        mqtt_url=broker_url,
        secret_key="k" * 40,
        data_dir=tmp_path,
    )
    app = create_app(settings, ingest=False)
    with Session(app.state.engine) as session:
        add_user(session, "admin", "admin-password", "admin")
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(api_app(tmp_path)) as c:
        yield c


def login(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": f"{user}-password"})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer"
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def issue_bundle(client: TestClient, auth: dict[str, str], device_id: str) -> bytes:
    """A device's bundle as an administrator downloads it (a TestClient or an httpx.Client)."""
    r = client.post(f"/api/v1/devices/{device_id}/bundle", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return r.content


def bundle_toml(client: TestClient, auth: dict[str, str], device_id: str) -> str:
    """The device.toml of a freshly issued bundle, as the administrator copies it to the Pi."""
    with zipfile.ZipFile(io.BytesIO(issue_bundle(client, auth, device_id))) as archive:
        return archive.read("device.toml").decode()


def device_login(client: TestClient, auth: dict[str, str], device_id: str) -> MqttTarget:
    """The unit's broker login from a freshly issued bundle, read by the unit's own loader."""
    return bundle_settings(issue_bundle(client, auth, device_id), device_id).mqtt.target


def seed(client: TestClient, auth: dict[str, str]) -> None:
    for path, body in [
        ("/api/v1/units", {"id": "DH", "name": "Phường Diên Hồng", "kind": "ward"}),
        ("/api/v1/fields", {"id": "tu-phap", "name": "Tư pháp – Hộ tịch"}),
        (
            "/api/v1/officers",
            {
                "id": "CB-0042",
                "name": "Nguyễn Thị Lan",
                "unit_id": "DH",
                "title": "Công chức Tư pháp",
            },
        ),
        (
            "/api/v1/counters",
            {"id": "DH-Q1", "name": "Quầy 1", "unit_id": "DH", "field_ids": ["tu-phap"]},
        ),
        (
            "/api/v1/assignments",
            {
                "officer_id": "CB-0042",
                "counter_id": "DH-Q1",
                "start": "2026-01-01T07:30:00+07:00",
                "end": None,
            },
        ),
    ]:
        r = client.post(path, json=body, headers=auth)
        assert r.status_code == 201, (path, r.text)


def test_healthz_reports_database_and_mqtt(client: TestClient) -> None:
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "mqtt": "not in this process",
    }


def test_wrong_password_is_refused(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    assert r.status_code == 401


def test_registry_and_device_provisioning(client: TestClient) -> None:
    auth = login(client, "admin")
    seed(client, auth)
    r = client.post(
        "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
    )
    assert r.status_code == 201, r.text
    body = r.json()
    accounts: RecordingAccounts = client.app.state.accounts  # type: ignore[attr-defined]
    assert list(accounts.made) == ["dev-dh-q1"], "the account exists from the registration on"
    assert {"id": "dev-dh-q1", "counter_id": "DH-Q1", "replaced": None}.items() <= body.items()
    assert accounts.made["dev-dh-q1"] not in r.text, "no password outside a bundle"
    login_ = device_login(client, auth, "dev-dh-q1")
    assert (login_.host, login_.port, login_.tls) == ("broker.example", 8883, True)
    assert login_.password == accounts.made["dev-dh-q1"]
    again = client.post(
        "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
    )
    assert again.status_code == 409


def test_device_not_registered_when_broker_is_down(client: TestClient) -> None:
    auth = login(client, "admin")
    seed(client, auth)
    client.app.state.accounts.down = True  # type: ignore[attr-defined]
    r = client.post("/api/v1/devices", json={"id": "dev-x", "counter_id": "DH-Q1"}, headers=auth)
    assert r.status_code == 503 and "broker" in r.json()["detail"]
    client.app.state.accounts.down = False  # type: ignore[attr-defined]
    r = client.post("/api/v1/devices", json={"id": "dev-x", "counter_id": "DH-Q1"}, headers=auth)
    assert r.status_code == 201, "the failed attempt left nothing behind"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/units", {"id": "bad/id", "name": "x", "kind": "ward"}, "id"),
        ("/api/v1/units", {"id": "U1", "kind": "ward"}, "name"),
        ("/api/v1/officers", {"id": "CB-1", "name": "A", "unit_id": "NOPE"}, "unit_id"),
        ("/api/v1/counters", {"id": "Q", "name": "Q", "unit_id": "NOPE"}, "unit_id"),
        (
            "/api/v1/assignments",
            {"officer_id": "CB-0042", "counter_id": "DH-Q1", "start": "2026-01-01"},
            "start",
        ),
        (
            "/api/v1/assignments",
            {"officer_id": "CB-0042", "counter_id": "DH-Q1", "start": "2026-03-01T00:00:00+07:00"},
            "start",
        ),
        ("/api/v1/devices", {"id": "dev-2", "counter_id": "NOPE"}, "counter_id"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, path: str, body: dict[str, object], field: str
) -> None:
    auth = login(client, "admin")
    seed(client, auth)
    r = client.post(path, json=body, headers=auth)
    assert 400 <= r.status_code < 500
    assert field in r.text


def test_writes_need_admin_and_reports_need_a_login(client: TestClient) -> None:
    unit = {"id": "U", "name": "U", "kind": "commune"}
    r = client.post("/api/v1/units", json=unit, headers=login(client, "hr"))
    assert r.status_code == 403
    assert client.post("/api/v1/units", json=unit).status_code == 401
    q = "/api/v1/reports/officers?start=2026-11-01&end=2026-11-30"
    assert client.get(q).status_code == 401
    assert client.get(q, headers=login(client, "hr")).status_code == 200


def test_report_of_an_empty_period_lists_officers_with_no_figures(client: TestClient) -> None:
    seed(client, login(client, "admin"))
    r = client.get(
        "/api/v1/reports/officers?start=2026-11-01&end=2026-11-30", headers=login(client, "hr")
    )
    body = r.json()
    assert (body["period"]["start"], body["period"]["end"]) == ("2026-11-01", "2026-11-30")
    (officer,) = body["officers"]
    assert {k: officer[k] for k in ("officer_id", "name", "unit_id", "ratings", "counts")} == {
        "officer_id": "CB-0042",
        "name": "Nguyễn Thị Lan",
        "unit_id": "DH",
        "ratings": 0,
        "counts": {"vn4": {"1": 0, "2": 0, "3": 0, "4": 0}},
    }
    assert officer["satisfied_pct"] is officer["happy_index"] is officer["wilson_low"] is None
    assert (officer["ranked"], officer["rank"], officer["classification"]) == (False, None, None)
    bad = client.get(
        "/api/v1/reports/officers?start=2026-11-30&end=2026-11-01", headers=login(client, "hr")
    )
    assert bad.status_code == 422 and "end" in bad.text
