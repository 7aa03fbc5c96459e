"""The admin's card on the devices page: add a device to a counter (replacing the one there if
asked), download a bundle per device or per unit, revoke a device after a confirmation that
names it and its counter. The bodies are `device_writes`; this is the layout and the wiring.

Without the server's broker accounts (a dashboard run read-only) the buttons are disabled, the
card says why, and a write posted anyway is refused with the same words.
"""

from __future__ import annotations

import base64
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard import device_writes, registry_view, sources
from dashboard.components import bilingual, card, field
from dashboard.registry_screen import message, outcome_view, save_button

NEW_ID = "dev-new-id"
NEW_COUNTER = "dev-new-counter"
REPLACE = "dev-new-replace"
ADD = "dev-add"
ADD_MESSAGE = "dev-add-message"
BUNDLE_DEVICE = "dev-bundle-device"
BUNDLE = "dev-bundle"
BUNDLE_UNIT = "dev-bundle-unit"
UNIT_BUNDLE = "dev-unit-bundle"
BUNDLE_MESSAGE = "dev-bundle-message"
DOWNLOAD = "dev-download"
REVOKE_DEVICE = "dev-revoke-device"
REVOKE = "dev-revoke"
CONFIRM = "dev-revoke-confirm"
REVOKE_MESSAGE = "dev-revoke-message"
SAVED = "dev-saved"  # counts the writes, so the table and the lists follow them


def _row(title_vi: str, title_en: str, *children: Any) -> html.Div:
    return html.Div(
        [html.H3(bilingual(title_vi, title_en), className="form-subtitle"), *children],
        className="form-block",
    )


def saved_store() -> dcc.Store:
    """In every user's page: the table's refresh listens to it."""
    return dcc.Store(id=SAVED, data=0)


def cards() -> list[Any]:
    """The card for an admin, with the choices of the units they see."""
    src = sources.current()
    access = sources.access()
    with src.session_factory() as session:
        counters = registry_view.counter_options(session, access)
        units = registry_view.unit_options(session, access)
        devices = device_writes.active_device_options(session, access)
    off = src.accounts() is None
    note = [html.P(registry_view.NO_BROKER, className="form-message error")] if off else []
    replace = dcc.Checklist(
        id=REPLACE,
        options=[
            {
                "label": " Thay thiết bị hiện tại của quầy (thu hồi thiết bị cũ) · "
                "Replace the counter's current device (revokes it)",
                "value": "replace",
            }
        ],
        value=[],
        className="toggle",
    )
    return [
        card(
            "Quản lý thiết bị",
            "Manage devices",
            *note,
            html.Div(
                [
                    _row(
                        "Thêm thiết bị vào quầy",
                        "Add a device to a counter",
                        html.Div(
                            [
                                field(
                                    "Mã thiết bị", "Device id", dcc.Input(id=NEW_ID, type="text")
                                ),
                                field(
                                    "Quầy",
                                    "Counter",
                                    dcc.Dropdown(id=NEW_COUNTER, options=counters),
                                ),
                            ],
                            className="registry-form",
                        ),
                        replace,
                        html.Div(
                            [
                                save_button(ADD, "Thêm thiết bị", "Add device", disabled=off),
                                message(ADD_MESSAGE),
                            ],
                            className="form-actions",
                        ),
                    ),
                    _row(
                        "Gói cài đặt",
                        "Install bundles",
                        html.P(
                            bilingual(
                                "Mỗi lần tải đặt mật khẩu mới: gói cũ của thiết bị ngừng kết nối.",
                                "Each download sets a new password: the device's previous bundle "
                                "stops connecting.",
                            ),
                            className="form-hint",
                        ),
                        html.Div(
                            [
                                field(
                                    "Thiết bị",
                                    "Device",
                                    dcc.Dropdown(id=BUNDLE_DEVICE, options=devices),
                                ),
                                field(
                                    "Đơn vị", "Unit", dcc.Dropdown(id=BUNDLE_UNIT, options=units)
                                ),
                            ],
                            className="registry-form",
                        ),
                        html.Div(
                            [
                                save_button(
                                    BUNDLE,
                                    "Tải gói thiết bị",
                                    "Download device bundle",
                                    disabled=off,
                                ),
                                save_button(
                                    UNIT_BUNDLE,
                                    "Tải gói cả đơn vị",
                                    "Download unit zip",
                                    disabled=off,
                                ),
                                message(BUNDLE_MESSAGE),
                            ],
                            className="form-actions",
                        ),
                        dcc.Download(id=DOWNLOAD),
                    ),
                    _row(
                        "Thu hồi thiết bị",
                        "Revoke a device",
                        html.Div(
                            field(
                                "Thiết bị",
                                "Device",
                                dcc.Dropdown(id=REVOKE_DEVICE, options=devices),
                            ),
                            className="registry-form",
                        ),
                        html.Div(
                            [
                                save_button(REVOKE, "Thu hồi", "Revoke", "danger", disabled=off),
                                message(REVOKE_MESSAGE),
                            ],
                            className="form-actions",
                        ),
                        dcc.ConfirmDialog(id=CONFIRM),
                    ),
                ],
                className="form-blocks",
            ),
        ),
    ]


def _download(made: device_writes.Bundle) -> Any:
    if made.content is None:
        return no_update
    return {
        "content": base64.b64encode(made.content).decode("ascii"),
        "filename": made.filename,
        "base64": True,
        "type": "application/zip",
    }


def register(app: Dash) -> None:
    @app.callback(
        Output(ADD_MESSAGE, "children"),
        Output(ADD_MESSAGE, "className"),
        Output(SAVED, "data"),
        Input(ADD, "n_clicks"),
        State(NEW_ID, "value"),
        State(NEW_COUNTER, "value"),
        State(REPLACE, "value"),
        State(SAVED, "data"),
        prevent_initial_call=True,
    )
    def add(
        _n: int, device_id: str | None, counter_id: str | None, replace: list[str], saved: int
    ) -> tuple[str, str, Any]:
        outcome = device_writes.add(
            sources.current(),
            sources.access(),
            sources.client(),
            device_id,
            counter_id,
            "replace" in (replace or []),
        )
        text, class_name = outcome_view(outcome)
        return text, class_name, (saved or 0) + 1 if outcome.ok else no_update

    @app.callback(
        Output(DOWNLOAD, "data"),
        Output(BUNDLE_MESSAGE, "children"),
        Output(BUNDLE_MESSAGE, "className"),
        Input(BUNDLE, "n_clicks"),
        Input(UNIT_BUNDLE, "n_clicks"),
        State(BUNDLE_DEVICE, "value"),
        State(BUNDLE_UNIT, "value"),
        prevent_initial_call=True,
    )
    def download(
        _device: int, _unit: int, device_id: str | None, unit_id: str | None
    ) -> tuple[Any, str, str]:
        src, access, client = sources.current(), sources.access(), sources.client()
        if ctx.triggered_id == UNIT_BUNDLE:
            made = device_writes.unit_bundle(src, access, client, unit_id)
        else:
            made = device_writes.bundle(src, access, client, device_id)
        return (_download(made), *outcome_view(made.outcome))

    @app.callback(
        Output(CONFIRM, "displayed"),
        Output(CONFIRM, "message"),
        Input(REVOKE, "n_clicks"),
        State(REVOKE_DEVICE, "value"),
        prevent_initial_call=True,
    )
    def ask(_n: int, device_id: str | None) -> tuple[bool, str]:
        if not device_id:
            return False, ""
        with sources.current().session_factory() as session:
            return True, device_writes.revoke_question(session, device_id)

    @app.callback(
        Output(REVOKE_MESSAGE, "children"),
        Output(REVOKE_MESSAGE, "className"),
        Output(SAVED, "data", allow_duplicate=True),
        Input(CONFIRM, "submit_n_clicks"),
        State(REVOKE_DEVICE, "value"),
        State(SAVED, "data"),
        prevent_initial_call=True,
    )
    def revoke(_n: int, device_id: str | None, saved: int) -> tuple[str, str, Any]:
        outcome = device_writes.revoke(
            sources.current(), sources.access(), sources.client(), device_id
        )
        text, class_name = outcome_view(outcome)
        return text, class_name, (saved or 0) + 1 if outcome.ok else no_update

    @app.callback(
        Output(BUNDLE_DEVICE, "options"),
        Output(REVOKE_DEVICE, "options"),
        Input(SAVED, "data"),
        prevent_initial_call=True,
    )
    def devices(_saved: int) -> tuple[Any, Any]:
        with sources.current().session_factory() as session:
            options = device_writes.active_device_options(session, sources.access())
        return options, options
