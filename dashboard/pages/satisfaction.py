"""Mức độ hài lòng: satisfaction over time and per officer, for a period and one or all units.

The callback body is `view`, a plain function of the sources and the control values, so it is
tested against a real database without a browser.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

from dashboard import figures, queries, sources
from dashboard.components import card, data_table, empty_state, field, kpi, page_title
from server.reports import daily_report, officer_report, period_report

PAGE = {
    "path": "/",
    "name": "Mức độ hài lòng",
    "name_en": "Satisfaction",
    "title": "Mức độ hài lòng · Hài Lòng",
    "order": 0,
}
DEFAULT_DAYS = 30
ALL_UNITS = "*"  # not a valid unit id (protocol.ID_RE), so it cannot shadow a real unit

PERIOD = "sat-period"
UNIT = "sat-unit"
KPI_RATINGS = "sat-kpi-ratings"
KPI_SATISFIED = "sat-kpi-satisfied"
KPI_HAPPY = "sat-kpi-happy"
CHART = "sat-chart"
TABLE = "sat-officers"
TABLE_BOX = "sat-officers-box"
EMPTY = "sat-officers-empty"


def default_period(today: date) -> tuple[date, date]:
    """The last DEFAULT_DAYS Vietnam days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def parse_period(today: date, start: str | None, end: str | None) -> tuple[date, date]:
    """The picker's ISO dates, in order; a cleared or unreadable date falls back to the default."""
    first, last = default_period(today)
    try:
        first = date.fromisoformat(start[:10]) if start else first
        last = date.fromisoformat(end[:10]) if end else last
    except ValueError:
        first, last = default_period(today)
    return (first, last) if first <= last else (last, first)


def layout(**_query: str) -> html.Div:
    """Dash passes the URL's query parameters; the page has none of its own."""
    src = sources.current()
    start, end = default_period(src.today())
    with src.session_factory() as session:
        units = queries.unit_names(session)
    unit_options = [{"label": "Tất cả đơn vị (all units)", "value": ALL_UNITS}] + [
        {"label": name, "value": unit_id} for unit_id, name in units.items()
    ]
    return html.Div(
        [
            page_title("Mức độ hài lòng", "Citizen satisfaction"),
            html.Div(
                [
                    field(
                        "Khoảng thời gian",
                        "Period",
                        dcc.DatePickerRange(
                            id=PERIOD,
                            start_date=start.isoformat(),
                            end_date=end.isoformat(),
                            display_format="DD/MM/YYYY",
                            month_format="MM/YYYY",
                            first_day_of_week=1,
                            minimum_nights=0,
                            updatemode="bothdates",
                        ),
                    ),
                    field(
                        "Đơn vị",
                        "Unit",
                        dcc.Dropdown(
                            id=UNIT,
                            options=unit_options,
                            value=ALL_UNITS,
                            clearable=False,
                            className="unit-select",
                        ),
                    ),
                ],
                className="controls",
            ),
            html.Div(
                [
                    kpi(KPI_RATINGS, "Số đánh giá", "Ratings", figures.COUNT_COLOR),
                    kpi(KPI_SATISFIED, "Tỷ lệ hài lòng", "Satisfied %", figures.SATISFIED_COLOR),
                    kpi(KPI_HAPPY, "Chỉ số hài lòng (0–100)", "Happy index", figures.HAPPY_COLOR),
                ],
                className="kpis",
            ),
            card(
                "Diễn biến theo ngày",
                "Daily trend",
                dcc.Graph(
                    id=CHART,
                    figure=figures.empty_figure(),
                    config={"displaylogo": False, "responsive": True},
                ),
            ),
            card(
                "Kết quả theo cán bộ",
                "By officer",
                html.Div(
                    data_table(
                        TABLE,
                        figures.officer_columns(figures.level_scale([])),
                        sort_by=[{"column_id": "satisfied_pct", "direction": "desc"}],
                        sort_as_null=[None, ""],
                    ),
                    id=TABLE_BOX,
                ),
                empty_state(EMPTY),
            ),
        ]
    )


class View(NamedTuple):
    """The callback's outputs, in the order of its Output list."""

    ratings: str
    satisfied_pct: str
    happy_index: str
    chart: go.Figure
    records: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    table_hidden: bool
    empty_hidden: bool


def view(src: sources.Sources, start: str | None, end: str | None, unit: str | None) -> View:
    first, last = parse_period(src.today(), start, end)
    unit_id = None if unit in (None, ALL_UNITS) else unit
    with src.session_factory() as session:
        days = daily_report(session, first, last, unit_id)
        officers = officer_report(session, first, last, unit_id)
        period = period_report(session, first, last, unit_id)
        units = queries.unit_names(session)
    headline = figures.summary(period)
    shown = figures.has_ratings(officers)
    return View(
        ratings=headline.ratings,
        satisfied_pct=headline.satisfied_pct,
        happy_index=headline.happy_index,
        chart=figures.satisfaction_figure(days, first, last),
        records=figures.officer_records(officers, units),
        columns=figures.officer_columns(figures.level_scale(officers)),
        table_hidden=not shown,
        empty_hidden=shown,
    )


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output(KPI_RATINGS, "children"),
        Output(KPI_SATISFIED, "children"),
        Output(KPI_HAPPY, "children"),
        Output(CHART, "figure"),
        Output(TABLE, "data"),
        Output(TABLE, "columns"),
        Output(TABLE_BOX, "hidden"),
        Output(EMPTY, "hidden"),
        Input(PERIOD, "start_date"),
        Input(PERIOD, "end_date"),
        Input(UNIT, "value"),
    )
    def refresh(start: str | None, end: str | None, unit: str | None) -> View:
        return view(sources.current(), start, end, unit)
