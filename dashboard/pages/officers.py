"""Cán bộ: the officers of the units the user may see. An admin adds and edits them, deactivates
one who leaves (their history stays, their shifts end from now), moves one to another unit
(refused while they have shifts at the old one; their history stays) and sets their sign-in PIN
and card (dashboard/officer_credentials.py)."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from sqlmodel import Session

from dashboard import officer_credentials, registry_screen, registry_view, sources
from dashboard.components import card, field
from dashboard.registry_screen import Box, Screen
from server.access.roles import REGISTRY_SCREENS, Access
from server.registry import officers as officer_writes
from server.registry import writes as registry
from server.storage.models import Officer, OfficerCreate, OfficerUpdate

PAGE = {
    "path": "/officers",
    "name": "Cán bộ",
    "name_en": "Officers",
    "title": "Cán bộ · Hài Lòng",
    "order": 13,
    "group": "registry",
    "roles": REGISTRY_SCREENS,
}
PICK = "officers-act-officer"
TO_UNIT = "officers-act-unit"
MOVE = "officers-move"
DEACTIVATE = "officers-deactivate"
CONFIRM = "officers-deactivate-confirm"
ACT_MESSAGE = "officers-act-message"


def change(
    session: Session, access: Access, client: str | None, officer_id: str, changes: dict[str, Any]
) -> Officer:
    """PATCH /api/v1/officers/{id}: the same service, the same event (with the shifts that
    deactivating ended)."""
    data = OfficerUpdate.model_validate(changes)
    detail = data.model_dump(mode="json", exclude_unset=True)

    def record(ended: list[str]) -> None:
        said = {**detail, "ended": ended} if ended else detail
        registry_view.record(session, access, client, "officer.update", officer_id, said)

    return officer_writes.update_officer(session, officer_id, data, record)


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    registry_view.required(values, "id", "name", "unit_id")
    data = OfficerCreate.model_validate(values)
    stored = session.get(Officer, data.id)
    if stored is None:
        registry_view.record(
            session, access, client, "officer.create", data.id, data.model_dump(mode="json")
        )
        registry.create_officer(session, data)
        return f"Đã thêm cán bộ {data.id} · Officer {data.id} added"
    changes: dict[str, Any] = {"name": data.name, "title": data.title}
    if data.unit_id != stored.unit_id:
        changes["unit_id"] = data.unit_id  # a move, as from the card below
    change(session, access, client, data.id, changes)
    return f"Đã cập nhật cán bộ {data.id} · Officer {data.id} updated"


SCREEN = Screen(
    key="officers",
    title=("Cán bộ", "Officers"),
    list_title=("Danh sách cán bộ", "Officers"),
    columns=registry_screen.columns(
        ("id", "Mã", "Id"),
        ("name", "Họ tên", "Name"),
        ("title", "Chức danh", "Title"),
        ("unit_id", "Đơn vị", "Unit"),
        ("active", "Tình trạng", "Status"),
    ),
    rows=registry_view.officer_rows,
    form_title=("Thêm hoặc sửa cán bộ", "Add or edit an officer"),
    boxes=(
        Box("id", "Mã", "Id"),
        Box("name", "Họ tên", "Name"),
        Box("title", "Chức danh", "Title"),
        Box("unit_id", "Đơn vị", "Unit", "select", registry_view.unit_options),
    ),
    save=_save,
    empty=("Chưa có cán bộ nào", "No officers yet"),
)


def _actions() -> html.Section:
    src = sources.current()
    access = sources.access()
    with src.session_factory() as session:
        officers = registry_view.officer_options(session, access)
        units = registry_view.unit_options(session, access)
    return card(
        "Cho nghỉ việc hoặc chuyển đơn vị",
        "Deactivate or move an officer",
        html.Div(
            [
                field("Cán bộ", "Officer", dcc.Dropdown(id=PICK, options=officers)),
                field("Chuyển đến đơn vị", "Move to unit", dcc.Dropdown(id=TO_UNIT, options=units)),
            ],
            className="registry-form",
        ),
        html.Div(
            [
                registry_screen.save_button(MOVE, "Chuyển đơn vị", "Move"),
                registry_screen.save_button(DEACTIVATE, "Cho nghỉ việc", "Deactivate", "danger"),
                registry_screen.message(ACT_MESSAGE),
            ],
            className="form-actions",
        ),
        dcc.ConfirmDialog(id=CONFIRM),
    )


def layout(**_query: str) -> html.Div:
    access = sources.access()
    access.require(SCREEN.roles)
    extra = [_actions(), officer_credentials.section()] if registry_screen.may_write(access) else []
    return registry_screen.layout(SCREEN, *extra)


def act(officer_id: str | None, to_unit: str | None, deactivate: bool) -> registry_view.Outcome:
    """Move `officer_id` to `to_unit`, or deactivate them; as the current user."""
    access = sources.access()
    client = sources.client()

    def apply(session: Session) -> str:
        key = registry_view.given(officer_id, "officer")
        if deactivate:
            change(session, access, client, key, {"active": False})
            return f"Cán bộ {key} đã nghỉ việc · Officer {key} deactivated"
        unit = registry_view.given(to_unit, "unit")
        change(session, access, client, key, {"unit_id": unit})
        return f"Đã chuyển {key} sang {unit} · {key} moved to {unit}"

    return registry_view.write(sources.current(), access, apply)


def register_callbacks(app: Dash) -> None:
    registry_screen.register(app, SCREEN)
    officer_credentials.register_callbacks(app)

    @app.callback(
        Output(PICK, "options"),
        Input(SCREEN.id("saved"), "data"),
        prevent_initial_call=True,
    )
    def pickable(_saved: int) -> registry_view.Options:
        """An officer just added can be moved or deactivated without reloading the page."""
        with sources.current().session_factory() as session:
            return registry_view.officer_options(session, sources.access())

    @app.callback(
        Output(CONFIRM, "displayed"),
        Output(CONFIRM, "message"),
        Input(DEACTIVATE, "n_clicks"),
        State(PICK, "value"),
        prevent_initial_call=True,
    )
    def ask(_n: int, officer_id: str | None) -> tuple[bool, str]:
        """Deactivating ends the officer's shifts: said before it is done."""
        if not officer_id:
            return False, ""
        return True, (
            f"Cho cán bộ {officer_id} nghỉ việc? Các ca trực của họ sẽ kết thúc.\n"
            f"Deactivate officer {officer_id}? Their shifts end."
        )

    @app.callback(
        Output(ACT_MESSAGE, "children"),
        Output(ACT_MESSAGE, "className"),
        Output(SCREEN.id("saved"), "data", allow_duplicate=True),
        Input(MOVE, "n_clicks"),
        Input(CONFIRM, "submit_n_clicks"),
        State(PICK, "value"),
        State(TO_UNIT, "value"),
        State(SCREEN.id("saved"), "data"),
        prevent_initial_call=True,
    )
    def move_or_deactivate(
        _move: int, _confirmed: int | None, officer_id: str | None, to_unit: str | None, saved: int
    ) -> tuple[str, str, Any]:
        outcome = act(officer_id, to_unit, deactivate=ctx.triggered_id == CONFIRM)
        text, class_name = registry_screen.outcome_view(outcome)
        return text, class_name, (saved or 0) + 1 if outcome.ok else no_update
