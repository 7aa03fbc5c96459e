"""The devices page's admin card through Dash's HTTP routes: adding, replacing, bundles and
revoking as the devices API does them (same services, same audit events), with the broker
accounts recorded as the API tests record them; without accounts nothing is written."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dashboard import device_admin, registry_view
from dashboard.app import create_dash
from dashboard.pages import devices
from server.storage.db import session_scope
from server.storage.models import Device
from tests.dashboard.rows import TODAY, callback_body, factory
from tests.dashboard.test_registry import ADMIN, HEAD_DH, client_as, events, page, run, seeded
from tests.server.report_data import report_app
from tests.server.web.test_api import RecordingAccounts

__all__ = ["seeded"]  # the fixture this module uses


@pytest.fixture
def accounts() -> RecordingAccounts:
    return RecordingAccounts()


@pytest.fixture
def app(seeded: Engine, accounts: RecordingAccounts) -> Dash:
    return create_dash(factory(seeded), today=lambda: TODAY, accounts=lambda: accounts)


def add(app: Dash, device_id: str, counter_id: str, replace: bool) -> dict[str, Any]:
    response = run(
        client_as(app, ADMIN),
        device_admin.ADD_MESSAGE,
        {(device_admin.ADD, "n_clicks"): 1},
        {
            (device_admin.NEW_ID, "value"): device_id,
            (device_admin.NEW_COUNTER, "value"): counter_id,
            (device_admin.REPLACE, "value"): ["replace"] if replace else [],
            (device_admin.SAVED, "data"): 0,
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    out: dict[str, Any] = response.get_json()["response"]
    return out


def revoked_at(engine: Engine, device_id: str) -> Any:
    with session_scope(engine) as session:
        device = session.get(Device, device_id)
        assert device is not None
        return device.revoked_at


def test_a_second_device_on_a_counter_is_refused_unless_it_replaces_the_first(
    app: Dash, seeded: Engine, accounts: RecordingAccounts
) -> None:
    refused = add(app, "dev-new", "DH-Q1", replace=False)[device_admin.ADD_MESSAGE]
    assert refused["className"] == "form-message error"
    assert "already has device 'dev-dh-q1'" in refused["children"]
    assert accounts.made == {}

    out = add(app, "dev-new", "DH-Q1", replace=True)

    assert out[device_admin.ADD_MESSAGE]["children"].startswith(
        "Đã thêm thiết bị dev-new · Device dev-new added (thu hồi dev-dh-q1"
    )
    assert out[device_admin.SAVED]["data"] == 1
    assert list(accounts.made) == ["dev-new"] and accounts.disabled == ["dev-dh-q1"]
    assert revoked_at(seeded, "dev-dh-q1") is not None
    assert [(e.action, e.target, e.detail) for e in events(seeded, "device.")] == [
        ("device.revoke", "dev-dh-q1", {"replaced_by": "dev-new"}),
        ("device.create", "dev-new", {"counter_id": "DH-Q1", "replace": True}),
    ]


def test_a_bundle_downloads_as_a_zip_with_a_new_password(
    app: Dash, seeded: Engine, accounts: RecordingAccounts
) -> None:
    response = run(
        client_as(app, ADMIN),
        device_admin.DOWNLOAD,
        {(device_admin.BUNDLE, "n_clicks"): 1},
        {(device_admin.BUNDLE_DEVICE, "value"): "dev-dh-q1"},
    )

    out = response.get_json()["response"]
    download = out[device_admin.DOWNLOAD]["data"]
    assert download["filename"] == "hailong-thiet-bi-dev-dh-q1.zip"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(download["content"])))
    toml = archive.read("device.toml").decode()
    assert accounts.made["dev-dh-q1"] in toml
    assert out[device_admin.BUNDLE_MESSAGE]["children"].startswith(
        "Đã cấp hailong-thiet-bi-dev-dh-q1.zip; gói cũ không còn kết nối được"
    )
    (event,) = events(seeded, "device.bundle")
    assert event.target == "dev-dh-q1"


def test_a_unit_bundle_holds_each_active_device(app: Dash, seeded: Engine) -> None:
    response = run(
        client_as(app, ADMIN),
        device_admin.DOWNLOAD,
        {(device_admin.UNIT_BUNDLE, "n_clicks"): 1},
        {(device_admin.BUNDLE_UNIT, "value"): "DH"},
    )

    download = response.get_json()["response"][device_admin.DOWNLOAD]["data"]
    assert download["filename"] == "hailong-don-vi-DH.zip"
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(download["content"]))).namelist()
    assert "dev-dh-q1/device.toml" in names
    (event,) = events(seeded, "device.bundle")
    assert (event.target, event.detail) == ("DH", {"devices": ["dev-dh-q1"]})


def test_revoking_asks_first_naming_the_device_and_its_counter(
    app: Dash, seeded: Engine, accounts: RecordingAccounts
) -> None:
    client = client_as(app, ADMIN)
    asked = run(
        client,
        device_admin.CONFIRM,
        {(device_admin.REVOKE, "n_clicks"): 1},
        {(device_admin.REVOKE_DEVICE, "value"): "dev-dh-q1"},
    ).get_json()["response"][device_admin.CONFIRM]
    assert asked["displayed"] is True
    assert (
        "Thu hồi thiết bị dev-dh-q1 ở Quầy Tư pháp (DH-Q1), Phường Diên Hồng?" in (asked["message"])
    )
    assert revoked_at(seeded, "dev-dh-q1") is None

    done = run(
        client,
        device_admin.REVOKE_MESSAGE,
        {(device_admin.CONFIRM, "submit_n_clicks"): 1},
        {(device_admin.REVOKE_DEVICE, "value"): "dev-dh-q1", (device_admin.SAVED, "data"): 2},
    ).get_json()["response"]

    assert done[device_admin.REVOKE_MESSAGE]["children"] == (
        "Đã thu hồi thiết bị dev-dh-q1 · Device dev-dh-q1 revoked"
    )
    assert revoked_at(seeded, "dev-dh-q1") is not None and accounts.disabled == ["dev-dh-q1"]
    assert [e.target for e in events(seeded, "device.revoke")] == ["dev-dh-q1"]


def test_without_broker_accounts_the_buttons_are_off_and_nothing_is_written(
    seeded: Engine,
) -> None:
    app = create_dash(factory(seeded), today=lambda: TODAY)
    client = client_as(app, ADMIN)

    content = str(page(client, "/devices").get_json()["response"]["_pages_content"])
    out = add(app, "dev-new", "XA-Q9", replace=False)[device_admin.ADD_MESSAGE]

    assert registry_view.NO_BROKER in content and "'disabled': True" in content
    assert out["children"] == registry_view.NOT_SAVED + registry_view.NO_BROKER
    assert events(seeded, "device.") == []


def test_a_unit_head_gets_the_table_without_the_admin_card(app: Dash) -> None:
    content = str(page(client_as(app, HEAD_DH), "/devices").get_json()["response"])

    assert devices.TABLE in content and device_admin.ADD not in content


class RecordingIngest:
    def __init__(self) -> None:
        self.refreshes = 0

    def request_config_refresh(self) -> None:
        self.refreshes += 1


def test_inside_the_server_a_write_uses_its_accounts_and_refreshes_its_configs(
    tmp_path: Path,
) -> None:
    """system/web.py hands the dashboard the app's broker accounts and ingest, read at the write
    (as a test replaces them, or the lifespan starts the ingest)."""
    app = report_app(tmp_path, dashboard=True)
    accounts, ingest = RecordingAccounts(), RecordingIngest()
    app.state.accounts, app.state.ingest = accounts, ingest
    with TestClient(app, headers={"Origin": "http://testserver"}) as client:
        form = {"username": "admin", "password": "admin-password", "next": "/dashboard/"}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        deps = client.get("/dashboard/_dash-dependencies").json()
        body = callback_body(
            deps,
            device_admin.ADD_MESSAGE,
            {(device_admin.ADD, "n_clicks"): 1},
            {
                (device_admin.NEW_ID, "value"): "dev-new",
                (device_admin.NEW_COUNTER, "value"): "XA-Q1",
                (device_admin.REPLACE, "value"): ["replace"],
                (device_admin.SAVED, "data"): 0,
            },
        )
        response = client.post("/dashboard/_dash-update-component", json=body)

    assert response.status_code == 200, response.text
    message = response.json()["response"][device_admin.ADD_MESSAGE]["children"]
    assert message.startswith("Đã thêm thiết bị dev-new")
    assert list(accounts.made) == ["dev-new"] and accounts.disabled == ["dev-x1"]
    assert ingest.refreshes == 1
    (event,) = events(app.state.engine, "device.create")
    assert (event.actor, event.client) == ("admin", "testclient")
