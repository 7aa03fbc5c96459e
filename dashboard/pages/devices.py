"""Thiết bị: every rating unit of the units the user may see, where it stands and what it last
reported on its status topic.

The list refreshes every 30 seconds, so a unit going offline shows without reloading the page.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import Dash, Input, Output, dcc, html

from dashboard import device_admin, figures, queries, sources, tables
from dashboard.components import (
    card,
    coloured_by,
    column,
    count_column,
    empty_state,
    grid,
    page_title,
)
from dashboard.registry_screen import may_write
from server.access.roles import Access

PAGE = {
    "path": "/devices",
    "name": "Thiết bị",
    "name_en": "Devices",
    "title": "Thiết bị · Hài Lòng",
    "order": 1,
}
REFRESH_MS = 30_000

TABLE = "dev-table"
TABLE_BOX = "dev-table-box"
EMPTY = "dev-empty"
REFRESH = "dev-refresh"

_STATE_COLORS = {
    "online": figures.SATISFIED_COLOR,
    "offline": "#b91c1c",
    "unknown": figures.MUTED,
    "revoked": figures.MUTED,
}

# The device's id first, as the list is sorted by it (tables.device_records gives the rows).
COLUMNS: list[dict[str, Any]] = [
    column("id", "Mã thiết bị", "Device id", sort="asc"),
    column("counter", "Quầy", "Counter"),
    column("state", "Trạng thái", "State", cellStyle=coloured_by("state_code", _STATE_COLORS)),
    column("last_seen", "Kết nối lần cuối (giờ VN)", "Last seen (Vietnam time)"),
    count_column("outbox", "Đánh giá chờ gửi", "Outbox backlog"),
    column("firmware", "Phiên bản phần mềm", "Firmware"),
    column("revoked", "Thu hồi", "Revoked"),
    count_column("missing", "Đánh giá bị thiếu", "Missing ratings"),
    column("missing_ranges", "Số thứ tự bị thiếu", "Missing seq numbers"),
    count_column("rejected_dropped", "Tin bị từ chối đã xoá", "Rejected messages deleted"),
]


def layout(**_query: str) -> html.Div:
    admin = device_admin.cards() if may_write(sources.access()) else []
    return html.Div(
        [
            page_title("Thiết bị", "Devices"),
            *admin,
            card(
                "Thiết bị đánh giá",
                "Rating units",
                html.Div(
                    grid(TABLE, COLUMNS, row_id="id", page_size=50),
                    id=TABLE_BOX,
                ),
                empty_state(
                    EMPTY, "Chưa có thiết bị nào được đăng ký", "No devices registered yet"
                ),
            ),
            dcc.Interval(id=REFRESH, interval=REFRESH_MS),
            device_admin.saved_store(),
        ]
    )


class View(NamedTuple):
    records: list[dict[str, Any]]
    table_hidden: bool
    empty_hidden: bool


def view(src: sources.Sources, access: Access) -> View:
    """The devices of the units `access` may see."""
    with src.session_factory() as session:
        rows = queries.device_rows(session, access)
    return View(tables.device_records(rows), table_hidden=not rows, empty_hidden=bool(rows))


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output(TABLE, "rowData"),
        Output(TABLE_BOX, "hidden"),
        Output(EMPTY, "hidden"),
        Input(REFRESH, "n_intervals"),
        Input(device_admin.SAVED, "data"),
    )
    def refresh(_n: int | None, _saved: int | None) -> View:
        return view(sources.current(), sources.access())

    device_admin.register(app)
