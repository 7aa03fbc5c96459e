"""Người dùng: the logins, with their role and the unit or officer a role is held to; an admin
adds them (as `POST /api/v1/users` does: a taken username is refused, not reset)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dashboard import registry_screen, registry_view
from dashboard.registry_screen import Box, Screen
from server.access.roles import ADMINISTER, Access
from server.registry import writes as registry
from server.storage.models import UserCreate

PAGE = {
    "path": "/users",
    "name": "Người dùng",
    "name_en": "Users",
    "title": "Người dùng · Hài Lòng",
    "order": 14,
    "group": "registry",
    "roles": ADMINISTER,
}


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    registry_view.required(values, "username", "password", "role")
    data = UserCreate.model_validate(values)
    detail = data.model_dump(mode="json", include={"role", "unit_id", "officer_id"})
    registry_view.record(session, access, client, "user.create", data.username, detail)
    registry.create_user(session, data)
    return f"Đã thêm người dùng {data.username} · User {data.username} added"


SCREEN = Screen(
    key="users",
    title=("Người dùng và vai trò", "Users and roles"),
    list_title=("Danh sách người dùng", "Users"),
    columns=registry_screen.columns(
        ("username", "Tên đăng nhập", "Username"),
        ("full_name", "Họ và tên", "Full name"),
        ("role", "Vai trò", "Role"),
        ("unit_id", "Đơn vị", "Unit"),
        ("officer_id", "Cán bộ", "Officer"),
        ("created", "Ngày tạo", "Created"),
    ),
    rows=registry_view.user_rows,
    form_title=("Thêm người dùng", "Add a user"),
    boxes=(
        Box("username", "Tên đăng nhập", "Username"),
        Box("full_name", "Họ và tên", "Full name"),
        Box(
            "password", "Mật khẩu (ít nhất 8 ký tự)", "Password (8 characters or more)", "password"
        ),
        Box("role", "Vai trò", "Role", "select", registry_view.role_options),
        Box("unit_id", "Đơn vị", "Unit", "select", registry_view.unit_options),
        Box("officer_id", "Cán bộ", "Officer", "select", registry_view.officer_options),
    ),
    save=_save,
    empty=("Chưa có người dùng nào", "No users yet"),
    editable=False,
    roles=ADMINISTER,
)


layout, register_callbacks = registry_screen.page_functions(SCREEN)
