"""Đơn vị: the units (communes, wards, the provincial centre), listed for an admin and, for a
unit head, their own; an admin adds and edits them."""

from __future__ import annotations

from typing import Any

from dash import Dash, html
from sqlmodel import Session

from dashboard import registry_screen, registry_view
from dashboard.registry_screen import Box, Screen
from server.access.roles import REGISTRY_SCREENS, Access
from server.registry import edits
from server.registry import writes as registry
from server.storage.models import UNIT_KINDS, Unit, UnitCreate

PAGE = {
    "path": "/units",
    "name": "Đơn vị",
    "name_en": "Units",
    "title": "Đơn vị · Hài Lòng",
    "order": 10,
    "group": "registry",
    "roles": REGISTRY_SCREENS,
}
KIND = registry_view.Kind(Unit, "unit", "đơn vị", "unit")


def _kinds(_session: Session, _access: Access) -> list[dict[str, str]]:
    return [{"label": f"{label} ({kind})", "value": kind} for kind, label in UNIT_KINDS.items()]


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    registry_view.required(values, "id", "name", "kind")
    data = UnitCreate.model_validate(values)
    return registry_view.put(
        session, access, client, KIND, data, registry.create_unit, edits.update_unit
    )


SCREEN = Screen(
    key="units",
    title=("Đơn vị", "Units"),
    list_title=("Danh sách đơn vị", "Units"),
    columns=registry_screen.columns(
        ("id", "Mã", "Id"),
        ("name", "Tên", "Name"),
        ("kind", "Loại", "Kind"),
        ("province", "Tỉnh", "Province"),
    ),
    rows=registry_view.unit_rows,
    form_title=("Thêm hoặc sửa đơn vị", "Add or edit a unit"),
    boxes=(
        Box("id", "Mã", "Id"),
        Box("name", "Tên", "Name"),
        Box("kind", "Loại", "Kind", "select", _kinds),
        Box("province", "Tỉnh", "Province"),
    ),
    save=_save,
    empty=("Chưa có đơn vị nào", "No units yet"),
)


def layout(**_query: str) -> html.Div:
    return registry_screen.layout(SCREEN)


def register_callbacks(app: Dash) -> None:
    registry_screen.register(app, SCREEN)
