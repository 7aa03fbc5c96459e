"""Devices: one active per counter (`replace=true`), and the bundle that carries what a unit
needs; over the API with the broker recorded, and once against a real Mosquitto."""

from __future__ import annotations

import io
import json
import struct
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from device.settings import DeviceSettings
from server.registry.install_sheet import QR_BORDER, QR_SCALE, qr_code, qr_size
from server.storage.models import AuditEvent
from tests.conftest import Broker
from tests.server.broker.test_broker import can_connect
from tests.server.web.test_api import (
    RecordingAccounts,
    api_app,
    broker_app,
    device_login,
    issue_bundle,
    login,
    seed,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(api_app(tmp_path)) as c:
        yield c


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    admin = login(client, "admin")
    seed(client, admin)
    return admin


def accounts(client: TestClient) -> RecordingAccounts:
    return client.app.state.accounts  # type: ignore[attr-defined, no-any-return]


def register(
    client: TestClient, auth: dict[str, str], device_id: str, counter_id: str = "DH-Q1", **q: str
) -> dict[str, object]:
    r = client.post(
        "/api/v1/devices", json={"id": device_id, "counter_id": counter_id}, headers=auth, params=q
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def add_counter(client: TestClient, auth: dict[str, str], counter_id: str) -> None:
    body = {"id": counter_id, "name": f"Quầy {counter_id}", "unit_id": "DH"}
    assert client.post("/api/v1/counters", json=body, headers=auth).status_code == 201


def listed(client: TestClient, auth: dict[str, str]) -> dict[str, dict[str, object]]:
    return {d["id"]: d for d in client.get("/api/v1/devices", headers=auth).json()}


def audit_events(client: TestClient, prefix: str) -> list[AuditEvent]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        found = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    return [e for e in found if e.action.startswith(prefix)]


# --- one active device per counter ---------------------------------------------------------------


def test_a_second_device_on_a_counter_is_refused_naming_the_first(
    client: TestClient, auth: dict[str, str]
) -> None:
    register(client, auth, "dev-1")
    r = client.post("/api/v1/devices", json={"id": "dev-2", "counter_id": "DH-Q1"}, headers=auth)
    assert r.status_code == 409
    detail = r.json()["detail"]
    vietnamese, english = detail.split(" / ")
    assert "quầy 'DH-Q1' đã có thiết bị 'dev-1' từ" in vietnamese and "giờ Việt Nam" in vietnamese
    assert "counter 'DH-Q1' already has device 'dev-1' since" in english
    assert "replace=true" in vietnamese and "replace=true" in english
    assert set(listed(client, auth)) == {"dev-1"}
    assert list(accounts(client).made) == ["dev-1"], "no broker account for the refused one"
    add_counter(client, auth, "DH-Q2")
    register(client, auth, "dev-2", "DH-Q2")  # another counter takes it


def test_replace_revokes_the_old_device_and_disables_its_account(
    client: TestClient, auth: dict[str, str]
) -> None:
    register(client, auth, "dev-1")
    made = register(client, auth, "dev-2", replace="true")
    assert made["replaced"] == "dev-1"
    assert accounts(client).disabled == ["dev-1"]
    assert list(accounts(client).made) == ["dev-1", "dev-2"]
    devices = listed(client, auth)
    assert devices["dev-1"]["revoked_at"] is not None
    assert devices["dev-2"]["revoked_at"] is None
    events = [
        (e.action, e.target, json.loads(e.detail or "null"))
        for e in audit_events(client, "device.")
    ]
    assert events[-2:] == [
        ("device.create", "dev-2", {"counter_id": "DH-Q1", "replace": True}),
        ("device.revoke", "dev-1", {"replaced_by": "dev-2"}),
    ]
    # With nothing to replace, replace=true simply registers.
    add_counter(client, auth, "DH-Q2")
    assert register(client, auth, "dev-3", "DH-Q2", replace="true")["replaced"] is None
    assert accounts(client).disabled == ["dev-1"]


def test_a_replacement_the_broker_refuses_changes_nothing(
    client: TestClient, auth: dict[str, str]
) -> None:
    register(client, auth, "dev-1")
    accounts(client).down = True
    r = client.post(
        "/api/v1/devices?replace=true", json={"id": "dev-2", "counter_id": "DH-Q1"}, headers=auth
    )
    assert r.status_code == 503
    accounts(client).down = False
    assert set(listed(client, auth)) == {"dev-1"}
    assert listed(client, auth)["dev-1"]["revoked_at"] is None
    assert [e.target for e in audit_events(client, "device.")] == ["dev-1"]


# --- a device's bundle ---------------------------------------------------------------------------


def test_a_bundle_holds_what_the_unit_needs(
    client: TestClient, auth: dict[str, str], tmp_path: Path
) -> None:
    register(client, auth, "dev-dh-q1")
    r = client.post("/api/v1/devices/dev-dh-q1/bundle", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert (
        r.headers["content-disposition"] == 'attachment; filename="hailong-thiet-bi-dev-dh-q1.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == [
        "device.toml",
        "huong-dan-lap-dat.html",
        "ma-thiet-bi.png",
    ]

    # device.toml: loaded by the unit's own loader, it logs in with the password just set.
    (tmp_path / "device.toml").write_bytes(archive.read("device.toml"))
    settings = DeviceSettings.load(tmp_path / "device.toml")
    target = settings.mqtt.target
    assert settings.device.id == "dev-dh-q1"
    assert (target.host, target.port, target.tls) == ("broker.example", 8883, True)
    assert (target.username, target.password) == ("dev-dh-q1", accounts(client).made["dev-dh-q1"])

    # The sheet: the unit, counter and device, the steps, the QR inline, nothing from outside.
    sheet = archive.read("huong-dan-lap-dat.html").decode()
    for text in ("Phường Diên Hồng", "Quầy 1 (DH-Q1)", "dev-dh-q1", "broker.example:8883"):
        assert text in sheet
    assert "sudo bash firmware-config/kiosk/setup-unit.sh device.toml" in sheet
    assert "systemctl restart hailong-device" in sheet
    assert 'src="data:image/png;base64,' in sheet
    assert "http://" not in sheet and "https://" not in sheet and "<script" not in sheet
    assert target.password not in sheet, "the password stays in device.toml"

    # The label: a PNG of the expected size whose modules are the QR code of the device id.
    png = archive.read("ma-thiet-bi.png")
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    assert width == height == qr_size("dev-dh-q1")
    image = pygame.image.load(io.BytesIO(png), "ma-thiet-bi.png")
    matrix = qr_code("dev-dh-q1").matrix
    for row, modules in enumerate(matrix):
        for col, dark in enumerate(modules):
            x = (QR_BORDER + col) * QR_SCALE + QR_SCALE // 2
            y = (QR_BORDER + row) * QR_SCALE + QR_SCALE // 2
            assert (image.get_at((x, y))[0] < 128) == bool(dark), (row, col)


def test_each_bundle_sets_a_new_password_and_the_event_holds_none(
    client: TestClient, auth: dict[str, str]
) -> None:
    register(client, auth, "dev-1")
    registered = accounts(client).made["dev-1"]
    first = device_login(client, auth, "dev-1").password
    second = device_login(client, auth, "dev-1").password
    assert len({registered, first, second}) == 3
    assert accounts(client).made["dev-1"] == second
    events = audit_events(client, "device.bundle")
    assert [(e.target, e.actor) for e in events] == [("dev-1", "admin")] * 2
    for event in events:
        assert first not in event.model_dump_json() and second not in event.model_dump_json()


def test_a_revoked_or_unknown_device_gets_no_bundle(
    client: TestClient, auth: dict[str, str]
) -> None:
    register(client, auth, "dev-1")
    assert client.post("/api/v1/devices/dev-1/revoke", headers=auth).status_code == 200
    before = dict(accounts(client).made)
    r = client.post("/api/v1/devices/dev-1/bundle", headers=auth)
    assert r.status_code == 409
    assert "đã bị thu hồi" in r.json()["detail"] and "was revoked" in r.json()["detail"]
    assert accounts(client).made == before, "no password was set"
    assert client.post("/api/v1/devices/dev-x/bundle", headers=auth).status_code == 404
    assert audit_events(client, "device.bundle") == [], "a refused bundle leaves no event"


def test_no_bundle_when_the_broker_is_down(client: TestClient, auth: dict[str, str]) -> None:
    register(client, auth, "dev-1")
    accounts(client).down = True
    assert client.post("/api/v1/devices/dev-1/bundle", headers=auth).status_code == 503
    assert audit_events(client, "device.bundle") == []


def test_only_an_admin_issues_a_bundle(client: TestClient, auth: dict[str, str]) -> None:
    register(client, auth, "dev-1")
    for role in ("hr", "viewer"):
        r = client.post("/api/v1/devices/dev-1/bundle", headers=login(client, role))
        assert r.status_code == 403
    assert client.post("/api/v1/units/DH/bundle", headers=login(client, "hr")).status_code == 403


# --- a unit's bundle -----------------------------------------------------------------------------


def test_a_unit_bundle_has_every_active_device(client: TestClient, auth: dict[str, str]) -> None:
    add_counter(client, auth, "DH-Q2")
    register(client, auth, "dev-old")
    register(client, auth, "dev-q1", replace="true")  # dev-old is revoked
    register(client, auth, "dev-q2", "DH-Q2")
    r = client.post("/api/v1/units/DH/bundle", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'attachment; filename="hailong-don-vi-DH.zip"'
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    files = ("device.toml", "huong-dan-lap-dat.html", "ma-thiet-bi.png")
    assert sorted(archive.namelist()) == sorted(
        ["danh-sach-thiet-bi.html", *(f"{d}/{f}" for d in ("dev-q1", "dev-q2") for f in files)]
    )
    index = archive.read("danh-sach-thiet-bi.html").decode()
    assert "dev-q1/" in index and "dev-q2/" in index and "dev-old" not in index
    for device_id in ("dev-q1", "dev-q2"):
        toml = archive.read(f"{device_id}/device.toml").decode()
        target = DeviceSettings.from_mapping(tomllib.loads(toml)).mqtt.target
        assert target.password == accounts(client).made[device_id]
    (event,) = audit_events(client, "device.bundle")
    assert (event.target, json.loads(event.detail or "null")) == (
        "DH",
        {"devices": ["dev-q1", "dev-q2"]},
    )


def test_a_unit_without_active_devices_gets_no_bundle(
    client: TestClient, auth: dict[str, str]
) -> None:
    r = client.post("/api/v1/units/DH/bundle", headers=auth)
    assert r.status_code == 409 and "no active device" in r.json()["detail"]
    assert client.post("/api/v1/units/NOPE/bundle", headers=auth).status_code == 404


# --- against a real Mosquitto --------------------------------------------------------------------


def test_a_unit_logs_in_with_its_bundle_and_a_new_bundle_cuts_the_old_off(
    broker: Broker, tmp_path: Path
) -> None:
    with TestClient(broker_app(broker.server_url, tmp_path)) as c:
        auth = login(c, "admin")
        seed(c, auth)
        assert (
            c.post(
                "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
            ).status_code
            == 201
        )
        first = device_login(c, auth, "dev-dh-q1")
        assert (first.host, first.port) == (broker.host, broker.port)
        assert can_connect(first), "the unit could not log in with its bundle"
        issue_bundle(c, auth, "dev-dh-q1")
        assert not can_connect(first), "the previous bundle's password still works"
        second = device_login(c, auth, "dev-dh-q1")
        assert can_connect(second)
