"""The alerts panel of the review page: the latest alerts of the unit chosen there, for the roles
that act on them (`queries.may_see_alerts`).

The review page (dashboard/pages/satisfaction.py) places `panel()` and passes its unit selector
to `register_callbacks`; what the panel shows is `report_view.alerts_view`.
"""

from __future__ import annotations

from dash import Dash, Input, Output, dcc, html

from dashboard import report_view, sources, tables
from dashboard.components import card, data_table, empty_state

REFRESH_MS = 60_000

TABLE = "alerts-table"
BOX = "alerts-box"
EMPTY = "alerts-empty"
REFRESH = "alerts-refresh"


def panel() -> html.Section:
    return card(
        "Cảnh báo gần đây",
        "Recent alerts",
        html.Div(
            data_table(TABLE, tables.ALERT_COLUMNS, sort_action="none"),
            id=BOX,
            hidden=True,
        ),
        empty_state(EMPTY, "Không có cảnh báo nào", "No alerts"),
        dcc.Interval(id=REFRESH, interval=REFRESH_MS),
    )


def register_callbacks(app: Dash, unit_selector: str) -> None:
    """Redraw the panel when the page's unit selector (`unit_selector`, its component id)
    changes, and every REFRESH_MS."""

    @app.callback(
        Output(TABLE, "data"),
        Output(BOX, "hidden"),
        Output(EMPTY, "hidden"),
        Input(unit_selector, "value"),
        Input(REFRESH, "n_intervals"),
    )
    def refresh_alerts(unit: str | None, _n: int | None) -> report_view.AlertsView:
        return report_view.alerts_view(sources.current(), sources.access(), unit)
