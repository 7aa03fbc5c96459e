"""Mức độ hài lòng: a report of officers, counters, fields or units for a period, as the API
gives it to the logged-in user, with satisfaction over time, the reasons given and, for those who
act on them, the latest alerts.

This module is the page's layout and the wiring of its callbacks; their bodies are
`report_view.view` and `report_view.alerts_view` (dashboard/report_view.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Dash, Input, Output, ctx, dcc, html, no_update

from dashboard import alerts_panel, captions, figures, queries, report_view, sources, tables
from dashboard.components import (
    bilingual,
    card,
    data_table,
    empty_state,
    field,
    kpi,
    page_title,
)
from server.access.roles import Access
from server.reporting.periods import Period
from server.reporting.report_json import Scope

PAGE = {
    "path": "/",
    "name": "Mức độ hài lòng",
    "name_en": "Satisfaction",
    "title": "Mức độ hài lòng · Hài Lòng",
    "order": 0,
}

PERIOD = "sat-period"
PERIOD_KIND = "sat-period-kind"
PERIOD_ERROR = "sat-period-error"
SCOPE = "sat-scope"
UNIT = "sat-unit"
FLAGGED = "sat-flagged"
CAPTION = "sat-caption"
KPI_RATINGS = "sat-kpi-ratings"
KPI_SATISFIED = "sat-kpi-satisfied"
KPI_INTERVAL = "sat-kpi-interval"
KPI_HAPPY = "sat-kpi-happy"
KPI_FLAGGED = "sat-kpi-flagged"
CHART = "sat-chart"
REASONS = "sat-reasons"
TABLE = "sat-table"
TABLE_BOX = "sat-table-box"
EMPTY = "sat-table-empty"
RULES = "sat-rules"
EXPORT_CSV = "sat-export-csv"
EXPORT_XLSX = "sat-export-xlsx"
MONTHLY = "sat-monthly"
INCLUDE_FLAGGED = "flagged"

KINDS = {
    "day": "Ngày · Day",
    "month": "Tháng · Month",
    "quarter": "Quý · Quarter",
    "year": "Năm · Year",
    "range": "Khoảng ngày · Range",
}
SCOPE_LABELS = {
    "officer": "Cán bộ · Officers",
    "counter": "Quầy · Counters",
    "field": "Lĩnh vực · Fields",
    "unit": "Đơn vị · Units",
}


# --- layout ---------------------------------------------------------------------------------


def _choice(value: str | None, allowed: Sequence[str], default: str) -> str:
    return value if value is not None and value in allowed else default


def layout(
    period: str | None = None, scope: str | None = None, unit: str | None = None, **_other: str
) -> html.Div:
    """The page for the logged-in user. The URL may preset the controls, e.g.
    ?period=2026-10&scope=counter&unit=DH; what the user may not see is ignored."""
    src = sources.current()
    access = sources.access()
    today = src.today()
    try:
        chosen = report_view.read_period(period, today)
    except ValueError:
        chosen = report_view.default_period(today)
    with src.session_factory() as session:
        units = queries.visible_units(session, access)
    shown_scopes = queries.scopes(access)
    unit_options = [{"label": name, "value": unit_id} for unit_id, name in units.items()]
    if access.unit_scope(None) is None:
        every = {"label": "Tất cả đơn vị (all units)", "value": report_view.ALL_UNITS}
        unit_options.insert(0, every)
    values = [str(option["value"]) for option in unit_options]
    alerts = queries.may_see_alerts(access)
    return html.Div(
        [
            page_title("Mức độ hài lòng", "Citizen satisfaction"),
            _controls(access, chosen, shown_scopes, scope, unit_options, unit, values),
            html.Div(id=CAPTION, className="caption"),
            html.Div(
                [
                    kpi(KPI_RATINGS, "Số đánh giá", "Ratings", figures.COUNT_COLOR),
                    kpi(
                        KPI_SATISFIED,
                        "Tỷ lệ hài lòng",
                        "Satisfied %",
                        figures.SATISFIED_COLOR,
                        note_id=KPI_INTERVAL,
                    ),
                    kpi(KPI_HAPPY, "Chỉ số hài lòng (0–100)", "Happy index", figures.HAPPY_COLOR),
                    kpi(KPI_FLAGGED, "Bị gắn cờ", "Flagged ratings", figures.FLAGGED_COLOR),
                ],
                className="kpis",
            ),
            *([alerts_panel.panel()] if alerts else []),
            card(
                "Kết quả và xếp hạng",
                "Results and ranking",
                html.Div(
                    [
                        data_table(
                            TABLE,
                            tables.report_columns(shown_scopes[0]),
                            sort_action="custom",
                            sort_mode="single",
                            sort_by=[],
                            tooltip_delay=0,
                            tooltip_duration=None,
                        ),
                        html.Div(
                            [
                                html.P(
                                    bilingual(
                                        "Xếp loại chỉ là gợi ý cho người xem xét, theo chính "
                                        f"sách {src.policy.version}; rê chuột lên ô xếp loại để "
                                        "xem quy tắc đã áp dụng.",
                                        "The class is a suggestion to the reviewer; hover over "
                                        "it for the rule that gave it.",
                                    ),
                                    className="note",
                                ),
                                html.Ol([html.Li(r) for r in captions.policy_rules(src.policy)]),
                            ],
                            id=RULES,
                            className="rules",
                            hidden=True,
                        ),
                    ],
                    id=TABLE_BOX,
                ),
                empty_state(EMPTY),
                _links(),
            ),
            html.Div(
                [
                    card("Diễn biến theo ngày", "Daily trend", _graph(CHART)),
                    card("Lý do chưa hài lòng", "Reasons given", _graph(REASONS)),
                ],
                className="charts",
            ),
        ]
    )


def _controls(
    access: Access,
    period: Period,
    shown_scopes: Sequence[Scope],
    scope: str | None,
    unit_options: list[dict[str, str]],
    unit: str | None,
    unit_values: list[str],
) -> html.Div:
    return html.Div(
        [
            field(
                "Khoảng thời gian",
                "Period",
                html.Div(
                    [
                        dcc.RadioItems(
                            id=PERIOD_KIND,
                            options=[{"label": v, "value": k} for k, v in KINDS.items()],
                            value=period.kind,
                            inline=True,
                            className="segmented",
                        ),
                        dcc.Input(
                            id=PERIOD,
                            type="text",
                            value=period.text,
                            debounce=True,
                            placeholder="2026-10 · 2026-Q4 · 2026 · 2026-10-05..2026-12-14",
                            className="period-input",
                        ),
                        html.Div(id=PERIOD_ERROR, className="field-error"),
                    ],
                    className="period",
                ),
            ),
            field(
                "Xem theo",
                "Report of",
                dcc.RadioItems(
                    id=SCOPE,
                    options=[{"label": SCOPE_LABELS[s], "value": s} for s in shown_scopes],
                    value=_choice(scope, shown_scopes, shown_scopes[0]),
                    inline=True,
                    className="segmented",
                ),
            ),
            field(
                "Đơn vị",
                "Unit",
                dcc.Dropdown(
                    id=UNIT,
                    options=unit_options,
                    value=_choice(unit, unit_values, unit_values[0]) if unit_values else None,
                    clearable=False,
                    disabled=access.unit_scope(None) is not None,
                    className="unit-select",
                ),
            ),
            field(
                "Đánh giá bị gắn cờ",
                "Flagged ratings",
                dcc.Checklist(
                    id=FLAGGED,
                    options=[{"label": "Tính cả · Include", "value": INCLUDE_FLAGGED}],
                    value=[],
                    className="toggle",
                ),
            ),
        ],
        className="controls",
    )


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(
        id=graph_id,
        figure=figures.empty_figure(),
        config={"displaylogo": False, "responsive": True},
        style={"height": f"{figures.CHART_HEIGHT}px"},  # "responsive" fills the parent's height
    )


def _links() -> html.Div:
    return html.Div(
        [
            html.A(bilingual("Tải CSV", "CSV export"), id=EXPORT_CSV, className="button"),
            html.A(bilingual("Tải XLSX", "XLSX export"), id=EXPORT_XLSX, className="button"),
            html.A(id=MONTHLY, className="button", target="_blank", hidden=True),
        ],
        className="links",
    )


# --- callbacks ------------------------------------------------------------------------------


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output(PERIOD, "value"),
        Output(PERIOD_KIND, "value"),
        Input(PERIOD, "value"),
        Input(PERIOD_KIND, "value"),
        prevent_initial_call=True,
    )
    def sync_period(text: str | None, kind: str | None) -> tuple[Any, Any]:
        """The kind buttons rewrite the box; a period typed in the box sets the kind."""
        today = sources.current().today()
        try:
            current = report_view.read_period(text, today)
        except ValueError:
            return no_update, no_update  # the report callback says what is wrong
        if ctx.triggered_id == PERIOD_KIND and kind in KINDS:
            return report_view.period_for_kind(kind, current, today).text, no_update
        return no_update, current.kind

    @app.callback(
        *(
            Output(component, prop)
            for component, prop in (
                (PERIOD_ERROR, "children"),
                (CAPTION, "children"),
                (KPI_RATINGS, "children"),
                (KPI_SATISFIED, "children"),
                (KPI_INTERVAL, "children"),
                (KPI_HAPPY, "children"),
                (KPI_FLAGGED, "children"),
                (CHART, "figure"),
                (REASONS, "figure"),
                (TABLE, "data"),
                (TABLE, "columns"),
                (TABLE, "tooltip_data"),
                (TABLE_BOX, "hidden"),
                (EMPTY, "hidden"),
                (RULES, "hidden"),
                (EXPORT_CSV, "href"),
                (EXPORT_XLSX, "href"),
                (MONTHLY, "href"),
                (MONTHLY, "children"),
                (MONTHLY, "hidden"),
            )
        ),
        Input(PERIOD, "value"),
        Input(SCOPE, "value"),
        Input(UNIT, "value"),
        Input(FLAGGED, "value"),
        Input(TABLE, "sort_by"),
    )
    def refresh(
        text: str | None,
        scope: Scope,
        unit: str | None,
        flagged: list[str] | None,
        sort_by: list[dict[str, str]] | None,
    ) -> report_view.View:
        src = sources.current()
        try:
            period = report_view.read_period(text, src.today())
        except ValueError as exc:
            return report_view.unreadable(exc)
        include = INCLUDE_FLAGGED in (flagged or [])
        return report_view.view(
            src, sources.access(), period, scope, unit, include, sort_by, sources.client()
        )

    alerts_panel.register_callbacks(app, UNIT)
