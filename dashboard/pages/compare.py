"""So sánh đơn vị: two to four units side by side for a period, for the HR office (the only role
that reads every unit with names and may set them beside one another).

The page's layout and one callback; the comparison is dashboard/compare_view.py.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashboard import compare_view, queries, review_period, sources
from dashboard.components import field, page_title, refused_page
from server.access.roles import COMPARE_UNITS
from server.reporting import drilldown

PAGE = {
    "path": "/compare",
    "name": "So sánh đơn vị",
    "name_en": "Compare units",
    "title": "So sánh đơn vị · Hài Lòng",
    "order": 1,
    "roles": COMPARE_UNITS,
}
UNITS = "cmp-units"
PERIOD = "cmp-period"
CONTENT = "cmp-content"


def layout(units: str | None = None, period: str | None = None, **_other: str) -> html.Div:
    """?units=DH,XA&period=2026-10 presets the choice; by default the first two units and the
    last complete month."""
    src = sources.current()
    access = sources.access()
    if access.role not in COMPARE_UNITS:
        return refused_page("So sánh đơn vị", "Compare units")
    with src.session_factory() as session:
        names = queries.unit_names(session)
    asked = [u for u in (units or "").split(",") if u in names]
    chosen = asked[: drilldown.COMPARE_MAX] or list(names)[:2]
    shown = review_period.last_complete_month(src.today()).text
    return html.Div(
        [
            page_title("So sánh đơn vị", "Compare units"),
            html.Div(
                [
                    field(
                        "Đơn vị (2 đến 4)",
                        "Units (2 to 4)",
                        dcc.Dropdown(
                            id=UNITS,
                            options=[{"label": n, "value": i} for i, n in names.items()],
                            value=chosen,
                            multi=True,
                            className="unit-select",
                        ),
                    ),
                    field(
                        "Khoảng thời gian",
                        "Period",
                        dcc.Input(
                            id=PERIOD,
                            type="text",
                            value=period or shown,
                            debounce=True,
                            placeholder="2026-10 · 2026-Q4 · 2026",
                            className="period-input",
                        ),
                    ),
                ],
                className="controls",
            ),
            html.Div(id=CONTENT),
        ],
        className="dd-page",
    )


def register_callbacks(app: Dash) -> None:
    @app.callback(Output(CONTENT, "children"), Input(UNITS, "value"), Input(PERIOD, "value"))
    def compare(unit_ids: list[str] | None, period: str | None) -> list[Any]:
        return compare_view.content(unit_ids, period)
