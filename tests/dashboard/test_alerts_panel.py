"""The alerts panel on a real SQLite database: what each role sees, acknowledging and resolving
through the plain functions and through Dash's HTTP callbacks as the browser calls them."""

from __future__ import annotations

import json
from typing import Any

from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dashboard import alerts_panel
from dashboard.app import create_dash
from dashboard.pages import satisfaction
from dashboard.sources import Sources
from server.access.roles import ACCESS_KEY, Access
from server.alerts import answers
from server.storage.models import Alert, AuditEvent
from tests.dashboard.conftest import DH_ALERT, XA_ALERT
from tests.dashboard.rows import TODAY, factory

HR = Access("hr", "hr")
HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")
HEAD_XA = Access("unit_head", "head-xa", unit_id="XA")


def alert_id(engine: Engine, unit_id: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(Alert.id).where(col(Alert.unit_id) == unit_id)).one()
    assert found is not None
    return found


def text(component: Any) -> str:
    """Every string in a component tree (a layout object or its JSON)."""
    return json.dumps(
        component if isinstance(component, (dict, list)) else component.to_plotly_json(),
        default=lambda c: c.to_plotly_json(),
        ensure_ascii=False,
    )


def test_each_role_sees_the_alerts_it_may_with_names(alerts_engine: Engine) -> None:
    src = Sources(factory(alerts_engine), today=lambda: TODAY)
    every = alerts_panel.view(src, HR, "*")
    mine = alerts_panel.view(src, HEAD_DH, "DH")

    assert len(every.cards) == 2 and every.open and every.empty_hidden
    assert "Cảnh báo: 2 chưa xử lý" in text(every.title)
    shown = text(mine.cards)
    assert DH_ALERT in shown and XA_ALERT not in shown
    assert "Phường Diên Hồng · Quầy 1" in shown and "DH-Q1" not in shown  # names, not codes
    assert "10:00 05/10/2026" in shown  # Vietnam time
    assert "Không gửi ra ngoài (chưa cấu hình webhook)" in shown
    assert "Đánh dấu đã xem" in shown and "Đã xử lý…" in shown
    assert alerts_panel.view(src, Access("viewer", "v"), "*").cards == []
    assert "Đang chờ gửi webhook" in text(
        alerts_panel.view(Sources(factory(alerts_engine), alert_webhook=True), HR, "DH").cards
    )


def test_answers_are_audited_and_refused_clearly(alerts_engine: Engine) -> None:
    src = Sources(factory(alerts_engine), today=lambda: TODAY)
    dh, xa = alert_id(alerts_engine, "DH"), alert_id(alerts_engine, "XA")

    assert alerts_panel.answer(src, HEAD_DH, alerts_panel.ACK, dh, None) == (
        f"Cảnh báo số {dh}: đã đánh dấu đã xem / acknowledged.",
        True,
    )
    said, done = alerts_panel.answer(src, HR, alerts_panel.ACK, dh, None)
    assert not done and "đã được xem" in said and "bởi head-dh" in said
    said, done = alerts_panel.answer(src, HEAD_DH, alerts_panel.CONFIRM, xa, "x")
    assert not done and "sees only their own unit" in said
    assert alerts_panel.answer(src, HR, alerts_panel.CONFIRM, xa, "Đã nhắc nhở")[1]

    after = alerts_panel.view(src, HR, "*")
    assert "Cảnh báo: 1 chưa xử lý" in text(after.title)
    shown = text(after.cards)
    assert "Đã xem (head-dh, " in shown and "Đã xử lý (hr, " in shown and ": Đã nhắc nhở" in shown
    with Session(alerts_engine) as session:
        found = session.exec(
            select(AuditEvent.action, AuditEvent.actor).order_by(col(AuditEvent.id))
        )
        assert [e for e in found if e[0].startswith("alert.")] == [
            (answers.ACKNOWLEDGED, "head-dh"),
            (answers.RESOLVED, "hr"),
        ]


# --- through Dash's routes, as the browser calls them -----------------------------------------


def client_as(app: Dash, access: Access) -> FlaskClient:
    client = app.server.test_client()
    client.environ_base["asgi.scope"] = {ACCESS_KEY: access}
    client.get("/")
    return client


def dependency(client: FlaskClient, output: str) -> dict[str, Any]:
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [
        d
        for d in deps
        if d["output"].startswith(f"..{output}.") or d["output"].startswith(f"{output}.")
    ]
    return dep


def outputs_of(dep: dict[str, Any]) -> Any:
    parts = [p.rsplit(".", 1) for p in dep["output"].strip(".").split("...")]
    found = [{"id": i, "property": p} for i, p in parts]
    return found if len(found) > 1 else found[0]


def refresh(client: FlaskClient, unit: str, trigger: str) -> dict[str, Any]:
    dep = dependency(client, alerts_panel.TABLE)
    body = {
        "output": dep["output"],
        "outputs": outputs_of(dep),
        "inputs": [
            {"id": satisfaction.UNIT, "property": "value", "value": unit},
            {"id": alerts_panel.REFRESH, "property": "n_intervals", "value": 1},
            {"id": alerts_panel.ANSWERED, "property": "data", "value": 0},
        ],
        "state": [[]],
        "changedPropIds": [trigger],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    result: dict[str, Any] = r.get_json()["response"]
    return result


def press(client: FlaskClient, kind: str, alert: int, note: str | None = None) -> dict[str, Any]:
    """A click on one card's acknowledge or confirm button, the others untouched."""
    dep = dependency(client, alerts_panel.MESSAGE)
    pressed = {"type": kind, "alert": alert}
    button_id = json.dumps(pressed, separators=(",", ":"), sort_keys=True)

    def buttons(of: str) -> list[dict[str, Any]]:
        return [
            {"id": {"type": of, "alert": alert}, "property": "n_clicks", "value": int(of == kind)}
        ]

    body = {
        "output": dep["output"],
        "outputs": outputs_of(dep),
        "inputs": [buttons(alerts_panel.ACK), buttons(alerts_panel.CONFIRM)],
        "state": [
            [
                {
                    "id": {"type": alerts_panel.NOTE, "alert": alert},
                    "property": "value",
                    "value": note,
                }
            ],
            [
                {
                    "id": {"type": alerts_panel.NOTE, "alert": alert},
                    "property": "id",
                    "value": {"type": alerts_panel.NOTE, "alert": alert},
                }
            ],
            {"id": alerts_panel.ANSWERED, "property": "data", "value": 0},
        ],
        "changedPropIds": [f"{button_id}.n_clicks"],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    result: dict[str, Any] = r.get_json()["response"]
    return result


def test_the_callbacks_show_and_answer_the_unit_heads_alerts(alerts_engine: Engine) -> None:
    app = create_dash(factory(alerts_engine), today=lambda: TODAY)
    head = client_as(app, HEAD_DH)
    dh = alert_id(alerts_engine, "DH")

    first = refresh(head, "DH", f"{satisfaction.UNIT}.value")
    shown = text(first[alerts_panel.TABLE]["children"])
    assert DH_ALERT in shown and XA_ALERT not in shown and "Phường Diên Hồng · Quầy 1" in shown
    assert first[alerts_panel.PANEL]["open"] is True  # an alert is open
    assert first[alerts_panel.EMPTY]["hidden"] is True

    out = press(head, alerts_panel.ACK, dh)
    assert out[alerts_panel.MESSAGE]["children"].endswith("đã đánh dấu đã xem / acknowledged.")
    assert out[alerts_panel.ANSWERED]["data"] == 1
    out = press(head, alerts_panel.CONFIRM, dh, "Đã nhắc nhở cán bộ")
    assert "đã xử lý / resolved" in out[alerts_panel.MESSAGE]["children"]
    again = press(head, alerts_panel.CONFIRM, dh)
    assert again[alerts_panel.MESSAGE]["className"] == "form-message error"
    assert "đã được xử lý" in again[alerts_panel.MESSAGE]["children"]

    after = refresh(head, "DH", f"{satisfaction.UNIT}.value")
    shown = text(after[alerts_panel.TABLE]["children"])
    assert "Đã xử lý (head-dh, " in shown and "Đã nhắc nhở cán bộ" in shown
    assert "Đánh dấu đã xem" not in shown  # nothing left to press
    assert after[alerts_panel.PANEL]["open"] is False  # nothing open: closed
    assert "không có cảnh báo chưa xử lý" in text(after[alerts_panel.TITLE]["children"])

    other = press(client_as(app, HEAD_XA), alerts_panel.ACK, dh)
    assert "sees only their own unit" in other[alerts_panel.MESSAGE]["children"]
