"""Mức độ hài lòng: a report of officers, counters, fields or units for a period, as the API
gives it to the logged-in user, with satisfaction over time, the reasons given and, for those who
act on them, the latest alerts.

The callback bodies are `view` and `alerts_view`, plain functions of the sources, the user and
the control values, so they are tested against a real database without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import plotly.graph_objects as go
from dash import Dash, Input, Output, ctx, dcc, html, no_update

from dashboard import captions, figures, queries, sources, tables
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
from server.reporting import access_reports
from server.reporting.access_reports import PATHS
from server.reporting.periods import Period, parse_period, period_of
from server.reporting.reports import Scope

PAGE = {
    "path": "/",
    "name": "Mức độ hài lòng",
    "name_en": "Satisfaction",
    "title": "Mức độ hài lòng · Hài Lòng",
    "order": 0,
}
DEFAULT_DAYS = 30
ALL_UNITS = "*"  # not a valid unit id (protocol.ID_RE), so it cannot shadow a real unit
API = "/api/v1"  # the server's API, beside the mount: its exports take the same login cookie
ALERTS_REFRESH_MS = 60_000

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
ALERTS = "sat-alerts"
ALERTS_BOX = "sat-alerts-box"
ALERTS_EMPTY = "sat-alerts-empty"
ALERTS_REFRESH = "sat-alerts-refresh"
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


# --- periods --------------------------------------------------------------------------------


def default_period(today: date) -> Period:
    """The last DEFAULT_DAYS Vietnam days, today included."""
    return period_of("range", today - timedelta(days=DEFAULT_DAYS - 1), today)


def read_period(text: str | None, today: date) -> Period:
    """The period box's text in the forms of server/reporting/periods.py (as the API's `period`);
    empty is the default. Anything else is a ValueError that lists the forms."""
    if text is None or not text.strip():
        return default_period(today)
    return parse_period(text)


def period_for_kind(kind: str, current: Period, today: date) -> Period:
    """The period of `kind` the kind buttons switch to: the one holding the current period's
    last day (today at the latest); a range keeps the current days, ready to edit."""
    if kind == "range":
        return period_of("range", current.start, current.end)
    return period_of(kind, min(current.end, today))


# --- links ----------------------------------------------------------------------------------


def export_href(
    scope: Scope, period: Period, unit_id: str | None, include_flagged: bool, fmt: str
) -> str:
    """The API's export of the report on screen: the same query, so the same numbers."""
    params = {"period": period.text}
    if unit_id is not None:
        params["unit_id"] = unit_id
    if include_flagged:
        params["include_flagged"] = "true"
    params["format"] = fmt
    return f"{API}/reports/{PATHS[scope]}?{urlencode(params)}"


def monthly_month(period: Period, today: date) -> Period:
    """The month the printable report link offers: that of the period's last day, or this month
    while the period runs on past today."""
    return period_of("month", min(period.end, today))


def monthly_href(unit_id: str, month: Period, include_flagged: bool) -> str:
    params = {"month": month.text}
    if include_flagged:
        params["include_flagged"] = "true"
    return f"{API}/reports/units/{quote(unit_id, safe='')}/monthly?{urlencode(params)}"


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
        chosen = read_period(period, today)
    except ValueError:
        chosen = default_period(today)
    with src.session_factory() as session:
        units = queries.visible_units(session, access)
    shown_scopes = queries.scopes(access)
    unit_options = [{"label": name, "value": unit_id} for unit_id, name in units.items()]
    if access.unit_scope(None) is None:
        unit_options.insert(0, {"label": "Tất cả đơn vị (all units)", "value": ALL_UNITS})
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
            *([_alerts_card()] if alerts else []),
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


def _alerts_card() -> html.Section:
    return card(
        "Cảnh báo gần đây",
        "Recent alerts",
        html.Div(
            data_table(ALERTS, tables.ALERT_COLUMNS, sort_action="none"),
            id=ALERTS_BOX,
            hidden=True,
        ),
        empty_state(ALERTS_EMPTY, "Không có cảnh báo nào", "No alerts"),
        dcc.Interval(id=ALERTS_REFRESH, interval=ALERTS_REFRESH_MS),
    )


# --- callbacks ------------------------------------------------------------------------------


class View(NamedTuple):
    """The report callback's outputs, in the order of its Output list."""

    period_error: str
    caption: Any
    ratings: str
    satisfied_pct: str
    interval: str
    happy_index: str
    flagged: str
    chart: go.Figure
    reasons: go.Figure
    records: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    tooltips: list[dict[str, dict[str, str]]]
    table_hidden: bool
    empty_hidden: bool
    rules_hidden: bool
    csv_href: str
    xlsx_href: str
    monthly_href: str
    monthly_label: Any
    monthly_hidden: bool


def _unit_id(unit: str | None) -> str | None:
    return None if unit in (None, ALL_UNITS) else unit


def view(
    src: sources.Sources,
    access: Access,
    period: Period,
    scope: Scope,
    unit: str | None,
    include_flagged: bool = False,
    sort_by: Sequence[Mapping[str, str]] | None = None,
    client: str | None = None,
) -> View:
    """The report for the controls' values, held to what `access` may see and audited as the
    API audits a report run (one event per view, however often the page redraws it)."""
    today = src.today()
    unit_id = access.unit_scope(_unit_id(unit))
    with src.session_factory() as session:
        content = queries.report(
            session,
            access,
            scope,
            period,
            unit_id,
            src.policy,
            include_flagged=include_flagged,
            client=client,
        )
        days = queries.days(session, access, period, unit_id, include_flagged=include_flagged)
        units = queries.unit_names(session)
        session.commit()  # the view's audit event
    rows = tables.sort_rows(tables.report_rows(content), sort_by, units)
    headline = captions.summary(content["total"])
    words = captions.caption(content)
    shown = tables.has_ratings(rows)
    month = monthly_month(period, today)
    monthly = access_reports.may_print_monthly(access, unit_id)
    return View(
        period_error="",
        caption=bilingual(words.vi, words.en),
        ratings=headline.ratings,
        satisfied_pct=headline.satisfied_pct,
        interval=headline.interval,
        happy_index=headline.happy_index,
        flagged=headline.flagged,
        chart=figures.satisfaction_figure(days, period.start, period.end),
        reasons=figures.reasons_figure(content["total"]),
        records=tables.report_records(rows, scope, units),
        columns=tables.report_columns(scope),
        tooltips=tables.report_tooltips(rows, content["min_ratings"], src.policy.misuse.count),
        table_hidden=not shown,
        empty_hidden=shown,
        rules_hidden=scope != "officer",
        csv_href=export_href(scope, period, unit_id, include_flagged, "csv"),
        xlsx_href=export_href(scope, period, unit_id, include_flagged, "xlsx"),
        monthly_href=monthly_href(unit_id, month, include_flagged) if unit_id else "",
        monthly_label=bilingual(f"Báo cáo {month.label_vi.lower()} để in", "Printable month"),
        monthly_hidden=not monthly,
    )


def _unreadable(exc: ValueError) -> View:
    """Leave the page as it was and say what to write."""
    message = (
        "Không đọc được khoảng thời gian; hãy viết 2026-10-05 (ngày), 2026-10 (tháng), "
        f"2026-Q4 (quý), 2026 (năm) hoặc 2026-10-05..2026-12-14 (khoảng ngày). {exc}"
    )
    return View._make([message, *[no_update] * (len(View._fields) - 1)])


class AlertsView(NamedTuple):
    records: list[dict[str, Any]]
    table_hidden: bool
    empty_hidden: bool


def alerts_view(src: sources.Sources, access: Access, unit: str | None) -> AlertsView:
    with src.session_factory() as session:
        rows = queries.recent_alerts(session, access, _unit_id(unit))
        units = queries.unit_names(session)
    return AlertsView(tables.alert_records(rows, units), not rows, bool(rows))


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
            current = read_period(text, today)
        except ValueError:
            return no_update, no_update  # the report callback says what is wrong
        if ctx.triggered_id == PERIOD_KIND and kind in KINDS:
            return period_for_kind(kind, current, today).text, no_update
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
    ) -> View:
        src = sources.current()
        try:
            period = read_period(text, src.today())
        except ValueError as exc:
            return _unreadable(exc)
        include = INCLUDE_FLAGGED in (flagged or [])
        return view(src, sources.access(), period, scope, unit, include, sort_by, sources.client())

    @app.callback(
        Output(ALERTS, "data"),
        Output(ALERTS_BOX, "hidden"),
        Output(ALERTS_EMPTY, "hidden"),
        Input(UNIT, "value"),
        Input(ALERTS_REFRESH, "n_intervals"),
    )
    def refresh_alerts(unit: str | None, _n: int | None) -> AlertsView:
        return alerts_view(sources.current(), sources.access(), unit)
