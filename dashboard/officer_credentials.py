"""The officers screen's sign-in card (admin only): set or clear an officer's PIN and card number
through the same service and audit event as POST /api/v1/officers/{id}/credentials. The boxes
are password boxes emptied after each save, and the card says only which kinds are set and when,
never a value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from sqlmodel import Session

from dashboard import registry_screen, registry_view, sources
from dashboard.components import bilingual, card, field
from dashboard.registry_view import NOT_SAVED, FormError, Outcome
from server.access.roles import Access
from server.registry import credentials
from server.timeutil import vn_text

PICK = "officers-cred-officer"
PIN = "officers-cred-pin"
CARD = "officers-cred-card"
SAVE = "officers-cred-save"
CLEAR_PIN = "officers-cred-clear-pin"
CLEAR_CARD = "officers-cred-clear-card"
MESSAGE = "officers-cred-message"
STATE = "officers-cred-state"
KINDS = {"pin": ("Mã PIN", "PIN"), "card": ("Thẻ", "Card")}
NO_SECRET = (
    "máy chủ chưa cho khóa bí mật, không thể đặt mã đăng nhập ở đây · the server's secret key is "
    "not given here, so sign-in credentials cannot be set"
)


def save(
    src: sources.Sources,
    access: Access,
    client: str | None,
    officer_id: str | None,
    values: dict[str, str | None],
) -> Outcome:
    """Set (a text) or clear (None) each kind in `values` for the officer, as the current user;
    the service's reason when it refuses (a value of the wrong shape, a PIN in use)."""
    if not src.credential_secret:
        return Outcome(False, NOT_SAVED + NO_SECRET)

    def apply(session: Session) -> str:
        key = registry_view.given(officer_id, "officer")
        if not values:
            raise FormError("pin, card: cần điền mã PIN hoặc số thẻ · enter a PIN or a card")
        detail = credentials.change_detail(values)
        registry_view.record(session, access, client, "officer.credentials", key, detail)
        credentials.set_credentials(
            session, src.credential_secret, key, values, access.username, datetime.now(UTC)
        )
        vi = ", ".join(KINDS[k][0] for k in values)
        en = ", ".join(KINDS[k][1] for k in values)
        return f"Đã lưu {vi} của {key} · {en} of {key} saved"

    return registry_view.write(src, access, apply)


def state(session: Session, officer_id: str | None) -> str:
    """Which kinds the officer has and since when, in both languages."""
    if not officer_id:
        return ""
    held = {c.kind: c for c in credentials.credentials_of(session, officer_id).credentials}
    parts = []
    for kind, (vi, en) in KINDS.items():
        if kind in held:
            parts.append(f"{vi} · {en}: {vn_text(held[kind].set_at)} ({held[kind].set_by})")
        else:
            parts.append(f"{vi} · {en}: chưa có · none")
    return "; ".join(parts)


def _secret_box(element_id: str, mode: Literal["numeric", "verbatim"]) -> dcc.Input:
    """A password box the browser does not fill with the admin's own saved password."""
    return dcc.Input(
        id=element_id,
        type="password",
        inputMode=mode,
        autoComplete="new-password",
        className="registry-input",
    )


def section() -> html.Section:
    src = sources.current()
    with src.session_factory() as session:
        officers = registry_view.officer_options(session, sources.access())
    return card(
        "Đăng nhập tại quầy",
        "Sign-in at the counter",
        html.P(
            bilingual(
                "Mã PIN 4–8 chữ số hoặc số thẻ; chỉ lưu dạng băm, không hiển thị lại.",
                "A 4–8 digit PIN or a card number; stored only as a hash, never shown again.",
            ),
            className="form-hint",
        ),
        html.Div(
            [
                field("Cán bộ", "Officer", dcc.Dropdown(id=PICK, options=officers)),
                field("Mã PIN", "PIN", _secret_box(PIN, "numeric")),
                field("Số thẻ", "Card number", _secret_box(CARD, "verbatim")),
            ],
            className="registry-form",
        ),
        html.P(id=STATE, className="form-hint"),
        html.Div(
            [
                registry_screen.save_button(SAVE, "Lưu", "Save"),
                registry_screen.save_button(CLEAR_PIN, "Xoá mã PIN", "Clear PIN", "danger"),
                registry_screen.save_button(CLEAR_CARD, "Xoá thẻ", "Clear card", "danger"),
                registry_screen.message(MESSAGE),
            ],
            className="form-actions",
        ),
    )


def register_callbacks(app: Dash) -> None:
    @app.callback(Output(STATE, "children"), Input(PICK, "value"), prevent_initial_call=True)
    def show(officer_id: str | None) -> str:
        with sources.current().session_factory() as session:
            return state(session, officer_id)

    @app.callback(
        Output(MESSAGE, "children"),
        Output(MESSAGE, "className"),
        Output(PIN, "value"),
        Output(CARD, "value"),
        Output(STATE, "children", allow_duplicate=True),
        Input(SAVE, "n_clicks"),
        Input(CLEAR_PIN, "n_clicks"),
        Input(CLEAR_CARD, "n_clicks"),
        State(PICK, "value"),
        State(PIN, "value"),
        State(CARD, "value"),
        prevent_initial_call=True,
    )
    def write(
        _s: int, _p: int, _c: int, officer_id: str | None, pin: str | None, card_no: str | None
    ) -> tuple[Any, ...]:
        values: dict[str, str | None]
        if ctx.triggered_id == CLEAR_PIN:
            values = {"pin": None}
        elif ctx.triggered_id == CLEAR_CARD:
            values = {"card": None}
        else:
            typed = {"pin": (pin or "").strip(), "card": (card_no or "").strip()}
            values = {kind: value for kind, value in typed.items() if value}
        src = sources.current()
        outcome = save(src, sources.access(), sources.client(), officer_id, values)
        text, class_name = registry_screen.outcome_view(outcome)
        if not outcome.ok:
            return text, class_name, "", "", no_update
        with src.session_factory() as session:
            return text, class_name, "", "", state(session, officer_id)
