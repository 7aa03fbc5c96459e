"""Lĩnh vực: the fields of procedures (Tư pháp, Đất đai...) that counters serve; one list for the
whole district, which an admin keeps."""

from __future__ import annotations

from typing import Any

from dash import Dash, html
from sqlmodel import Session

from dashboard import registry_screen, registry_view
from dashboard.registry_screen import Box, Screen
from server.access.roles import REGISTRY_SCREENS, Access
from server.registry import edits
from server.registry import writes as registry
from server.storage.models import ServiceField, ServiceFieldCreate

PAGE = {
    "path": "/fields",
    "name": "Lĩnh vực",
    "name_en": "Fields",
    "title": "Lĩnh vực · Hài Lòng",
    "order": 11,
    "group": "registry",
    "roles": REGISTRY_SCREENS,
}
KIND = registry_view.Kind(ServiceField, "field", "lĩnh vực", "field")


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    registry_view.required(values, "id", "name")
    data = ServiceFieldCreate.model_validate(values)
    return registry_view.put(
        session, access, client, KIND, data, registry.create_field, edits.update_field
    )


SCREEN = Screen(
    key="fields",
    title=("Lĩnh vực", "Fields"),
    list_title=("Danh sách lĩnh vực", "Fields"),
    columns=registry_screen.columns(("id", "Mã", "Code"), ("name", "Tên", "Name")),
    rows=registry_view.field_rows,
    form_title=("Thêm hoặc sửa lĩnh vực", "Add or edit a field"),
    boxes=(Box("id", "Mã", "Code"), Box("name", "Tên", "Name")),
    save=_save,
    empty=("Chưa có lĩnh vực nào", "No fields yet"),
)


def layout(**_query: str) -> html.Div:
    return registry_screen.layout(SCREEN)


def register_callbacks(app: Dash) -> None:
    registry_screen.register(app, SCREEN)
