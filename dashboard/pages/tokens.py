"""Mã truy cập: the API tokens of machine clients (a queue system). An admin makes one (the
token is shown once, in the message under the form, and never again) and revokes one after a
confirmation that names it; the same functions as `hailong token` and /api/v1/tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from sqlmodel import Session

from dashboard import registry_screen, registry_view, sources
from dashboard.components import card, field
from dashboard.registry_screen import Box, Screen, message, outcome_view, save_button
from server.access import tokens
from server.access.roles import ADMINISTER, Access
from server.timeutil import vn_text

PAGE = {
    "path": "/tokens",
    "name": "Mã truy cập",
    "name_en": "API tokens",
    "title": "Mã truy cập · Hài Lòng",
    "order": 15,
    "group": "registry",
    "roles": ADMINISTER,
}
REVOKE_NAME = "tokens-revoke-name"
REVOKE = "tokens-revoke"
CONFIRM = "tokens-revoke-confirm"
REVOKE_MESSAGE = "tokens-revoke-message"


def token_rows(session: Session, _access: Access) -> list[dict[str, Any]]:
    def when(moment: datetime | None) -> str:
        return vn_text(moment) if moment else ""

    return [
        {
            "name": t.name,
            "scope": t.scope,
            "unit_id": t.unit_id or "Mọi đơn vị · All units",
            "created": f"{when(t.created_at)} ({t.created_by})",
            "last_used": when(t.last_used_at) or "Chưa dùng · Never",
            "state": f"Đã thu hồi {when(t.revoked_at)} · Revoked"
            if t.revoked_at
            else "Đang dùng · Active",
        }
        for t in tokens.list_tokens(session)
    ]


def active_options(session: Session) -> list[dict[str, str]]:
    return [
        {"label": f"{t.name} ({t.unit_id or 'mọi đơn vị · all units'})", "value": t.name}
        for t in tokens.list_tokens(session)
        if t.revoked_at is None
    ]


def scope_options(_session: Session, _access: Access) -> list[dict[str, str]]:
    return [
        {"label": f"{scope}: {', '.join(f'{m} {p}' for m, p in routes)}", "value": scope}
        for scope, routes in tokens.SCOPE_ROUTES.items()
    ]


def made_message(name: str, plain: str) -> str:
    return (
        f"Đã tạo mã truy cập {name}. Hãy sao chép ngay, mã chỉ hiện một lần: {plain} · "
        f"Token {name} made; copy it now, it is shown only once"
    )


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    registry_view.required(values, "name", "scope")
    row, plain = tokens.add_token(
        session,
        values["name"],
        values["scope"],
        values.get("unit_id"),
        created_by=access.username,
        role=access.role,
        client=client,
        now=datetime.now(UTC),
    )
    return made_message(row.name, plain)


def revoke(session: Session, access: Access, client: str | None, name: str) -> str:
    tokens.revoke_token(
        session,
        name,
        revoked_by=access.username,
        role=access.role,
        client=client,
        now=datetime.now(UTC),
    )
    return f"Đã thu hồi mã truy cập {name} · Token {name} revoked"


SCREEN = Screen(
    key="tokens",
    title=("Mã truy cập cho hệ thống khác", "API tokens for other systems"),
    list_title=("Danh sách mã truy cập", "Tokens"),
    columns=registry_screen.columns(
        ("name", "Tên", "Name"),
        ("scope", "Phạm vi", "Scope"),
        ("unit_id", "Đơn vị", "Unit"),
        ("created", "Ngày tạo (người tạo)", "Created (by)"),
        ("last_used", "Dùng lần cuối", "Last used"),
        ("state", "Trạng thái", "State"),
    ),
    rows=token_rows,
    form_title=("Tạo mã truy cập", "Make a token"),
    boxes=(
        Box("name", "Tên (ví dụ: queue-dh)", "Name (e.g. queue-dh)"),
        Box("scope", "Phạm vi", "Scope", "select", scope_options),
        Box(
            "unit_id",
            "Chỉ cho đơn vị (bỏ trống: mọi đơn vị)",
            "Only this unit (empty: all)",
            "select",
            registry_view.unit_options,
        ),
    ),
    save=_save,
    empty=("Chưa có mã truy cập nào", "No tokens yet"),
    editable=False,
    roles=ADMINISTER,
)


def revoke_card() -> html.Section:
    with sources.current().session_factory() as session:
        options = active_options(session)
    return card(
        "Thu hồi mã truy cập",
        "Revoke a token",
        html.Div(
            field("Mã truy cập", "Token", dcc.Dropdown(id=REVOKE_NAME, options=options)),
            className="registry-form",
        ),
        html.Div(
            [save_button(REVOKE, "Thu hồi", "Revoke", "danger"), message(REVOKE_MESSAGE)],
            className="form-actions",
        ),
        dcc.ConfirmDialog(id=CONFIRM),
    )


def layout(**_query: str) -> html.Div:
    access = sources.access()
    access.require(ADMINISTER)
    return registry_screen.layout(SCREEN, revoke_card())


def register_callbacks(app: Dash) -> None:
    registry_screen.register(app, SCREEN)

    @app.callback(
        Output(CONFIRM, "displayed"),
        Output(CONFIRM, "message"),
        Input(REVOKE, "n_clicks"),
        State(REVOKE_NAME, "value"),
        prevent_initial_call=True,
    )
    def ask(_n: int, name: str | None) -> tuple[bool, Any]:
        if not name:
            return False, no_update
        return True, (
            f"Thu hồi mã truy cập {name}? Hệ thống dùng mã này sẽ bị từ chối ngay. · "
            f"Revoke the token {name}? The system using it is refused at once."
        )

    @app.callback(
        Output(REVOKE_MESSAGE, "children"),
        Output(REVOKE_MESSAGE, "className"),
        Output(SCREEN.id("saved"), "data", allow_duplicate=True),
        Output(REVOKE_NAME, "options"),
        Input(CONFIRM, "submit_n_clicks"),
        State(REVOKE_NAME, "value"),
        State(SCREEN.id("saved"), "data"),
        prevent_initial_call=True,
    )
    def confirmed(_n: int, name: str | None, saved: int | None) -> tuple[Any, ...]:
        access = sources.access()
        client = sources.client()
        src = sources.current()
        if not name:
            return no_update, no_update, no_update, no_update
        outcome = registry_view.write(src, access, lambda s: revoke(s, access, client, name))
        with src.session_factory() as session:
            options = active_options(session)
        return *outcome_view(outcome), (saved or 0) + 1, options
