"""Đội thiết bị: how many units are online, silent, offline or never seen, and which ones.

The figures and rows are the fleet service's (server.ingest.fleet, as GET /api/v1/fleet
answers), so the screen and the API agree on what "silent" means. A count is a button: clicking
it filters the table to that status. The page refreshes every 30 seconds, as the devices page
does, so a unit that stops shows without reloading.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from dash import Dash, Input, Output, ctx, dcc, html, no_update

from dashboard import fleet_table, queries, sources
from dashboard.components import bilingual, card, field, grid, page_title, refused_page
from server.access.roles import SEE_FLEET, Access
from server.ingest.fleet import fleet_view
from server.registry.fleet_status import COUNTED, LABELS

PAGE = {
    "path": "/fleet",
    "name": "Đội thiết bị",
    "name_en": "Fleet",
    "title": "Đội thiết bị · Hài Lòng",
    "order": 2,
    "roles": SEE_FLEET,
}
REFRESH_MS = 30_000

UNIT = "fleet-unit"
STATUS = "fleet-status"
SEARCH = "fleet-search"
TABLE = "fleet-table"
TABLE_BOX = "fleet-table-box"
EMPTY = "fleet-empty"
REFRESH = "fleet-refresh"
ALL = "*"


def count_id(status: str) -> str:
    return f"fleet-count-{status}"


def count_value_id(status: str) -> str:
    return f"fleet-count-{status}-value"


def layout(**_query: str) -> html.Div:
    access = sources.access()
    if access.role not in SEE_FLEET:
        return refused_page("Đội thiết bị", "Fleet")
    with sources.current().session_factory() as session:
        units = queries.visible_units(session, access)
    own = access.unit_scope(None)
    unit_options = [{"label": n, "value": u} for u, n in units.items()]
    if own is None:
        unit_options.insert(0, {"label": "Tất cả đơn vị (all units)", "value": ALL})
    return html.Div(
        [
            page_title("Đội thiết bị", "Fleet"),
            html.Div(
                [
                    html.Button(
                        [
                            html.Div(bilingual(*LABELS[status]), className="kpi-label"),
                            html.Div(id=count_value_id(status), className="kpi-value"),
                        ],
                        id=count_id(status),
                        className="kpi kpi-button",
                        style={"borderTopColor": fleet_table.COLORS[status]},
                    )
                    for status in COUNTED
                ],
                className="kpis",
            ),
            html.Div(
                [
                    field(
                        "Đơn vị",
                        "Unit",
                        dcc.Dropdown(
                            id=UNIT,
                            options=unit_options,
                            value=own or ALL,
                            clearable=False,
                            disabled=own is not None,
                            className="unit-select",
                        ),
                    ),
                    field(
                        "Trạng thái",
                        "Status",
                        dcc.Dropdown(
                            id=STATUS,
                            options=fleet_table.status_options(),
                            value=ALL,
                            clearable=False,
                            className="status-select",
                        ),
                    ),
                    field(
                        "Tìm thiết bị, quầy, cán bộ",
                        "Search device, counter, officer",
                        dcc.Input(
                            id=SEARCH, type="search", debounce=True, className="period-input"
                        ),
                    ),
                ],
                className="controls",
            ),
            card(
                "Thiết bị",
                "Units",
                html.Div(
                    grid(TABLE, fleet_table.COLUMNS, row_id="device", page_size=50),
                    id=TABLE_BOX,
                    className="scroll-box",
                ),
                html.Div(
                    bilingual("Không có thiết bị nào ở đây", "No units here"),
                    id=EMPTY,
                    className="empty-state",
                    hidden=True,
                ),
            ),
            dcc.Interval(id=REFRESH, interval=REFRESH_MS),
        ]
    )


class View(NamedTuple):
    counts: list[str]
    records: list[dict[str, Any]]
    table_hidden: bool
    empty_hidden: bool


def view(
    src: sources.Sources,
    access: Access,
    unit: str | None,
    status: str | None,
    search: str | None,
    now: datetime | None = None,
) -> View:
    """The counts of the units `access` may see (of the chosen unit) and the rows that match."""
    access.require(SEE_FLEET)
    unit_id = access.unit_scope(None if unit in (None, ALL) else unit)
    with src.session_factory() as session:
        found = fleet_view(
            session,
            now or datetime.now(UTC),
            unit_id=unit_id,
            status=None if status in (None, ALL) else status,
            search=(search or "").strip() or None,
        )
    records = fleet_table.records(found.rows)
    counts = [fleet_table.count_text(found.counts.get(s, 0)) for s in COUNTED]
    return View(counts, records, table_hidden=not records, empty_hidden=bool(records))


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output(STATUS, "value"),
        *[Input(count_id(status), "n_clicks") for status in COUNTED],
        prevent_initial_call=True,
    )
    def pick(*_clicks: int | None) -> Any:
        clicked = str(ctx.triggered_id or "")
        for status in COUNTED:
            if clicked == count_id(status):
                return status
        return no_update

    @app.callback(
        *[Output(count_value_id(status), "children") for status in COUNTED],
        Output(TABLE, "rowData"),
        Output(TABLE_BOX, "hidden"),
        Output(EMPTY, "hidden"),
        Input(REFRESH, "n_intervals"),
        Input(UNIT, "value"),
        Input(STATUS, "value"),
        Input(SEARCH, "value"),
    )
    def refresh(
        _n: int | None, unit: str | None, status: str | None, search: str | None
    ) -> tuple[Any, ...]:
        shown = view(sources.current(), sources.access(), unit, status, search)
        return (*shown.counts, shown.records, shown.table_hidden, shown.empty_hidden)
