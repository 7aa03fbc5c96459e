"""The sign-in pieces of the registry screens, through Dash's HTTP routes on a real SQLite
database: an admin sets and clears an officer's PIN and card on the officers screen (the API's
service and audit event, the value never shown or logged), and chooses a unit's sign-in method
on the units screen, which its units' Config carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from dashboard import officer_credentials as creds
from dashboard.app import create_dash
from dashboard.pages import units
from server.registry.credentials import find_officer
from server.registry.device_config import config_for
from server.storage.db import session_scope
from server.storage.models import AuditEvent, Device
from tests.dashboard.rows import TODAY, factory
from tests.dashboard.test_registry import (  # noqa: F401 - `seeded` is a fixture
    ADMIN,
    HEAD_DH,
    Changes,
    client_as,
    events,
    run,
    save,
    seeded,
)

SECRET = "d" * 40


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def app(seeded: Engine, changes: Changes) -> Dash:  # noqa: F811
    return create_dash(
        factory(seeded), today=lambda: TODAY, registry_changed=changes, credential_secret=SECRET
    )


def press(client: FlaskClient, button: str, officer: str, pin: str = "", card: str = "") -> Any:
    inputs = {(button, "n_clicks"): 1}
    states = {
        (creds.PICK, "value"): officer,
        (creds.PIN, "value"): pin,
        (creds.CARD, "value"): card,
    }
    response = run(client, creds.MESSAGE, inputs, states)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def test_an_admin_sets_and_clears_an_officers_pin_and_card_without_ever_seeing_them(
    app: Dash,
    seeded: Engine,  # noqa: F811
    changes: Changes,
) -> None:
    client = client_as(app, ADMIN)
    out = press(client, creds.SAVE, "CB-0042", pin="482913", card="0004561234")
    assert (
        out[creds.MESSAGE]["children"]
        == "Đã lưu Mã PIN, Thẻ của CB-0042 · PIN, Card of CB-0042 saved"
    )
    assert out[creds.PIN]["value"] == "" and out[creds.CARD]["value"] == ""
    shown = next(v for k, v in out.items() if k.startswith(creds.STATE))["children"]
    assert "Mã PIN · PIN: " in shown and "(quantri)" in shown and "482913" not in shown
    with session_scope(seeded) as session:
        officer = find_officer(session, SECRET, "DH", "pin", "482913")
        assert officer is not None and officer.id == "CB-0042"
        assert find_officer(session, SECRET, "DH", "card", "0004561234") is not None
    (event,) = events(seeded, "officer.credentials")
    assert (event.actor, event.target, event.client) == ("quantri", "CB-0042", "10.0.0.9")
    assert event.detail == {"cleared": [], "set": ["card", "pin"]}
    assert changes.count == 1

    out = press(client, creds.CLEAR_CARD, "CB-0042", card="ignored")
    shown = next(v for k, v in out.items() if k.startswith(creds.STATE))["children"]
    assert "Thẻ · Card: chưa có · none" in shown
    with session_scope(seeded) as session:
        assert find_officer(session, SECRET, "DH", "card", "0004561234") is None
        assert find_officer(session, SECRET, "DH", "pin", "482913") is not None

    refused = press(client, creds.SAVE, "CB-0042", pin="12")
    assert refused[creds.MESSAGE]["className"] == "form-message error"
    assert "4 đến 8 chữ số" in refused[creds.MESSAGE]["children"]
    empty = press(client, creds.SAVE, "CB-0042")
    assert "cần điền" in empty[creds.MESSAGE]["children"]


def test_a_unit_head_cannot_set_a_pin_even_by_posting_the_callback(
    app: Dash,
    seeded: Engine,  # noqa: F811
) -> None:
    client = client_as(app, HEAD_DH)
    inputs = {(creds.SAVE, "n_clicks"): 1}
    states = {(creds.PICK, "value"): "CB-0042", (creds.PIN, "value"): "482913"}
    assert run(client, creds.MESSAGE, inputs, states).status_code == 403
    with session_scope(seeded) as session:
        assert find_officer(session, SECRET, "DH", "pin", "482913") is None


def test_the_units_screen_sets_a_units_sign_in_method_for_its_units_config(
    app: Dash,
    seeded: Engine,  # noqa: F811
) -> None:
    client = client_as(app, ADMIN)
    unit = {"id": "DH", "name": "Phường Diên Hồng", "kind": "ward", "signin": "pin"}
    out = save(client, units.SCREEN, unit)
    assert out["units-message"]["className"] == "form-message"
    with session_scope(seeded) as session:
        device = session.get(Device, "dev-dh-q1")
        assert device is not None
        assert config_for(session, device, datetime.now(UTC)).signin == "pin"
        actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["unit.update", "unit.update"]
    (event,) = [e for e in events(seeded, "unit.update") if "signin" in e.detail]
    assert event.detail == {"signin": "pin"}
    # saved again with the method left empty, the method stays
    save(client, units.SCREEN, {**unit, "signin": None, "name": "Phường Diên Hồng mới"})
    with session_scope(seeded) as session:
        device = session.get(Device, "dev-dh-q1")
        assert device is not None
        assert config_for(session, device, datetime.now(UTC)).signin == "pin"
    refused = save(client, units.SCREEN, {**unit, "signin": "face"})
    assert refused["units-message"]["className"] == "form-message error"
