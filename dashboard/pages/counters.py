"""Quầy: the counters of the units the user may see, with the fields each serves; an admin adds
them and edits their names and fields; an admin or unit head prints their QR rating cards."""

from __future__ import annotations

from typing import Any

from dash import html
from sqlmodel import Session

from dashboard import qr_cards, registry_screen, registry_view, sources
from dashboard.registry_screen import Box, Screen
from server.access.roles import REGISTRY_SCREENS, Access
from server.registry import edits
from server.registry import writes as registry
from server.storage.models import Counter, CounterCreate

PAGE = {
    "path": "/counters",
    "name": "Quầy",
    "name_en": "Counters",
    "title": "Quầy · Hài Lòng",
    "order": 12,
    "group": "registry",
    "roles": REGISTRY_SCREENS,
}
KIND = registry_view.Kind(Counter, "counter", "quầy", "counter")


def _save(session: Session, access: Access, client: str | None, values: dict[str, Any]) -> str:
    registry_view.required(values, "id", "name", "unit_id")
    data = CounterCreate.model_validate({**values, "field_ids": values.get("field_ids") or []})
    return registry_view.put(
        session, access, client, KIND, data, registry.create_counter, edits.update_counter
    )


SCREEN = Screen(
    key="counters",
    title=("Quầy", "Counters"),
    list_title=("Danh sách quầy", "Counters"),
    columns=registry_screen.columns(
        ("id", "Mã", "Id"),
        ("name", "Tên", "Name"),
        ("unit_id", "Đơn vị", "Unit"),
        ("field_ids", "Lĩnh vực", "Fields"),
    ),
    rows=registry_view.counter_rows,
    form_title=("Thêm hoặc sửa quầy", "Add or edit a counter"),
    boxes=(
        Box("id", "Mã", "Id"),
        Box("name", "Tên", "Name"),
        Box("unit_id", "Đơn vị", "Unit", "select", registry_view.unit_options),
        Box("field_ids", "Lĩnh vực", "Fields", "multi", registry_view.field_options),
    ),
    save=_save,
    empty=("Chưa có quầy nào", "No counters yet"),
)


_, register_callbacks = registry_screen.page_functions(SCREEN)


def layout(**_query: str) -> html.Div:
    """The screen, then the printing of the counters' QR cards."""
    page = registry_screen.layout(SCREEN)
    page.children = [*page.children, *qr_cards.cards_card(sources.access())]
    return page
