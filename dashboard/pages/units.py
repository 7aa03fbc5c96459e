"""Đơn vị: the units (communes, wards, the provincial centre), listed for an admin and, for a
unit head, their own; an admin adds and edits them, and chooses how officers sign in at their
counters (`Unit.signin`, which the units' Configs carry)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dashboard import registry_screen, registry_view
from dashboard.registry_screen import Box, Screen
from server.access.roles import REGISTRY_SCREENS, Access
from server.registry import edits, signin_methods
from server.registry import writes as registry
from server.registry.signin_methods import SIGNIN_LABELS, UnitUpdate
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


def _methods(_session: Session, _access: Access) -> list[dict[str, str]]:
    return [{"label": f"{vi} · {en}", "value": key} for key, (vi, en) in SIGNIN_LABELS.items()]


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    """The unit as the API's create or edit, then its sign-in method as PATCH
    /api/v1/units/{id} sets it (a method left empty stays as it is)."""
    registry_view.required(values, "id", "name", "kind")
    data = UnitCreate.model_validate(values)
    method = UnitUpdate.model_validate(values) if values.get("signin") else None
    done = registry_view.put(
        session, access, client, KIND, data, registry.create_unit, edits.update_unit
    )
    stored = session.get(Unit, data.id)
    if method is not None and stored is not None and stored.signin != method.signin:
        detail = method.model_dump(mode="json")
        registry_view.record(session, access, client, "unit.update", data.id, detail)
        signin_methods.set_signin(session, data.id, method.signin)
    return done


SCREEN = Screen(
    key="units",
    title=("Đơn vị", "Units"),
    list_title=("Danh sách đơn vị", "Units"),
    columns=registry_screen.columns(
        ("id", "Mã", "Id"),
        ("name", "Tên", "Name"),
        ("kind", "Loại", "Kind"),
        ("province", "Tỉnh", "Province"),
        ("signin", "Đăng nhập tại quầy", "Sign-in at the counter"),
    ),
    rows=registry_view.unit_rows,
    form_title=("Thêm hoặc sửa đơn vị", "Add or edit a unit"),
    boxes=(
        Box("id", "Mã", "Id"),
        Box("name", "Tên", "Name"),
        Box("kind", "Loại", "Kind", "select", _kinds),
        Box("province", "Tỉnh", "Province"),
        Box("signin", "Đăng nhập tại quầy", "Sign-in at the counter", "select", _methods),
    ),
    save=_save,
    empty=("Chưa có đơn vị nào", "No units yet"),
)


layout, register_callbacks = registry_screen.page_functions(SCREEN)
