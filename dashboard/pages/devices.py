"""Thiết bị: every rating unit of the units the user may see, where it stands and what it last
reported on its status topic.

The list refreshes every 30 seconds, so a unit going offline shows without reloading the page.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import Dash, Input, Output, dcc, html

from dashboard import device_admin, figures, queries, sources, tables
from dashboard.components import card, data_table, empty_state, page_title
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
                    data_table(
                        TABLE,
                        tables.DEVICE_COLUMNS,
                        sort_by=[{"column_id": "id", "direction": "asc"}],
                        style_data_conditional=[
                            {
                                "if": {
                                    "filter_query": f'{{state_code}} = "{code}"',
                                    "column_id": "state",
                                },
                                "color": color,
                                "fontWeight": "600",
                            }
                            for code, color in _STATE_COLORS.items()
                        ],
                    ),
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
        Output(TABLE, "data"),
        Output(TABLE_BOX, "hidden"),
        Output(EMPTY, "hidden"),
        Input(REFRESH, "n_intervals"),
        Input(device_admin.SAVED, "data"),
    )
    def refresh(_n: int | None, _saved: int | None) -> View:
        return view(sources.current(), sources.access())

    device_admin.register(app)
