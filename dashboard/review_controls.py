"""The review page's pieces of layout: the period controls (kinds, previous and next arrows, the
month picker, the typed period), the other filters, the headline figures with their explanations,
the grid's column explanations and the links to exports and the printable month.

Layout only, no callbacks: dashboard/pages/satisfaction.py places these and wires them. The
component ids live here so the page, its callbacks and the tests name them once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from dash import dcc, html

from dashboard import captions, figures, review_grid, review_period
from dashboard.components import bilingual, field
from dashboard.explain import explained
from server.reporting.periods import Period
from server.reporting.report_json import Scope

URL = "sat-url"
PERIOD = "sat-period"
PERIOD_KIND = "sat-period-kind"
PERIOD_ERROR = "sat-period-error"
PREVIOUS = "sat-previous"
NEXT = "sat-next"
MONTH = "sat-month"
NOTICE = "sat-notice"
SCOPE = "sat-scope"
UNIT = "sat-unit"
FLAGGED = "sat-flagged"
CAPTION = "sat-caption"
KPI_RATINGS = "sat-kpi-ratings"
KPI_SATISFIED = "sat-kpi-satisfied"
KPI_CONFIDENCE = "sat-kpi-confidence"
KPI_HAPPY = "sat-kpi-happy"
KPI_DISSATISFIED = "sat-kpi-dissatisfied"
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
PDF = "sat-pdf"
INCLUDE_FLAGGED = "flagged"

KINDS = {
    "month": "Tháng · Month",
    "quarter": "Quý · Quarter",
    "year": "Năm · Year",
    "day": "Ngày · Day",
    "range": "Khoảng ngày · Range",
}
SCOPE_LABELS = {
    "officer": "Cán bộ · Officers",
    "counter": "Quầy · Counters",
    "field": "Lĩnh vực · Fields",
    "unit": "Đơn vị · Units",
}


def period_controls(period: Period, today: date) -> html.Div:
    """The kind, then ‹ the period › with the month picker beside it; the next arrow stops at
    the period holding today."""
    months = review_period.month_choices(today)
    now = review_period.controls_for(period, today)
    return field(
        "Kỳ xem xét",
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
                html.Div(
                    [
                        html.Button(
                            "‹",
                            id=PREVIOUS,
                            n_clicks=0,
                            title="Kỳ trước · Previous period",
                            className="button step",
                        ),
                        dcc.Input(
                            id=PERIOD,
                            type="text",
                            value=period.text,
                            debounce=True,
                            placeholder="2026-10 · 2026-Q4 · 2026 · 2026-10-05..2026-12-14",
                            className="period-input",
                        ),
                        html.Button(
                            "›",
                            id=NEXT,
                            n_clicks=0,
                            disabled=now.next_disabled,
                            title="Kỳ sau · Next period",
                            className="button step",
                        ),
                        dcc.Dropdown(
                            id=MONTH,
                            options=[{"label": m.label_vi, "value": m.text} for m in months],
                            value=now.month,
                            placeholder="Chọn tháng · Pick a month",
                            clearable=False,
                            searchable=False,
                            className="month-select",
                        ),
                    ],
                    className="period-step",
                ),
                html.Div(id=PERIOD_ERROR, className="field-error"),
            ],
            className="period",
        ),
    )


def _choice(value: str | None, allowed: Sequence[str], default: str) -> str:
    return value if value is not None and value in allowed else default


def filters(
    shown_scopes: Sequence[Scope],
    scope: str | None,
    unit_options: list[dict[str, str]],
    unit: str | None,
    unit_fixed: bool,
    include_flagged: bool,
) -> list[html.Div]:
    """What the report is of, which unit, and whether ratings with signs of misuse count."""
    values = [option["value"] for option in unit_options]
    return [
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
                value=_choice(unit, values, values[0]) if values else None,
                clearable=False,
                disabled=unit_fixed,
                className="unit-select",
            ),
        ),
        field(
            "Đánh giá có dấu hiệu bất thường",
            "Ratings with signs of misuse",
            dcc.Checklist(
                id=FLAGGED,
                options=[{"label": "Tính cả · Include", "value": INCLUDE_FLAGGED}],
                value=[INCLUDE_FLAGGED] if include_flagged else [],
                className="toggle",
            ),
        ),
    ]


def _kpi(value_id: str, key: str, vi: str, en: str, accent: str, *note: Any) -> html.Div:
    """A headline figure whose label unfolds its one-sentence explanation on a tap."""
    words_vi, words_en = captions.KPI_EXPLAIN[key]
    return html.Div(
        [
            html.Div(explained(bilingual(vi, en), words_vi, words_en), className="kpi-label"),
            html.Div(id=value_id, className="kpi-value"),
            *note,
        ],
        className="kpi",
        style={"borderTopColor": accent},
    )


def kpis() -> html.Div:
    return html.Div(
        [
            _kpi(KPI_RATINGS, "ratings", "Số đánh giá", "Ratings", figures.COUNT_COLOR),
            _kpi(
                KPI_SATISFIED,
                "satisfied",
                "Tỷ lệ hài lòng",
                "Satisfied",
                figures.SATISFIED_COLOR,
                html.Div(id=KPI_CONFIDENCE, className="kpi-note"),
            ),
            _kpi(KPI_HAPPY, "happy", "Chỉ số hài lòng (0–100)", "Happy index", figures.HAPPY_COLOR),
            _kpi(
                KPI_DISSATISFIED,
                "dissatisfied",
                "Không hài lòng",
                "Dissatisfied",
                figures.REASON_COLOR,
            ),
            _kpi(
                KPI_FLAGGED, "flagged", "Đánh giá không tính", "Not counted", figures.FLAGGED_COLOR
            ),
        ],
        className="kpis",
    )


COLUMN_HELP = "sat-column-help"


def column_help(scope: Scope) -> list[Any]:
    """Each column's heading with its sentence, under the grid: the grid's own header tooltips
    need a mouse."""
    return [
        html.Div(bilingual("Giải thích các cột", "What the columns mean"), className="note"),
        html.Div(
            [explained(h, vi, en) for h, vi, en in review_grid.explained_columns(scope)],
            className="column-help-items",
        ),
    ]


def links() -> html.Div:
    return html.Div(
        [
            html.A(bilingual("Tải CSV", "CSV export"), id=EXPORT_CSV, className="button"),
            html.A(bilingual("Tải XLSX", "XLSX export"), id=EXPORT_XLSX, className="button"),
            html.A(id=MONTHLY, className="button", target="_blank", hidden=True),
            html.A(
                bilingual("Tải PDF", "PDF"),
                id=PDF,
                className="button",
                target="_blank",
                hidden=True,
            ),
        ],
        className="links",
    )
