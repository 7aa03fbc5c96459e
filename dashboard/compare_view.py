"""Units side by side (dashboard/pages/compare.py): two to four units' figures in one table, their
satisfied % over the period as one line each, and their bars beside one another.

Each unit is read as its own page reads it (server/reporting/drilldown.py `compared_units`), so
its row is the review's and each is audited as a view of that unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash
from dash import html

from dashboard import drilldown_figures as charts
from dashboard import drilldown_view, review_period, sources
from dashboard.components import bilingual, card, column, grid
from dashboard.review_grid import certain_text
from dashboard.tables import format_count, format_decimal, format_pct
from hailong.errors import UnknownId
from server.access.roles import Forbidden
from server.reporting import drilldown
from server.reporting.drilldown import Drilldown, Side
from server.reporting.periods import FORMS

TABLE = "cmp-table"
TREND = "cmp-trend"
BARS = "cmp-bars"


def rows(pages: Sequence[Drilldown], period_text: str) -> list[dict[str, Any]]:
    """One grid row per unit; its name links to the unit's page for the same period."""
    return [
        {
            "unit": f"[{p.name}]({dash.get_relative_path(f'/unit/{p.id}')}?period={period_text})",
            "ratings": format_count(p.figures.ratings),
            "satisfied_pct": format_pct(p.figures.satisfied_pct),
            "interval": certain_text(p.figures.wilson_low, p.figures.wilson_high),
            "unsatisfied": format_count(p.figures.unsatisfied),
            "happy_index": format_decimal(p.figures.happy_index),
            "flagged": format_count(p.figures.flagged),
        }
        for p in pages
    ]


COLUMNS = [
    drilldown_view.link_column("unit", "Đơn vị", "Unit"),
    *drilldown_view.RATINGS_COLUMNS,
    column("interval", "Chắc chắn trong khoảng", "Likely range"),
    column("flagged", "Cần xem lại", "Flagged"),
]


def content(unit_ids: Sequence[str] | None, period_text: str | None) -> list[Any]:
    """The comparison for the chosen units and period, or a sentence saying what is missing."""
    src = sources.current()
    chosen = list(unit_ids or [])
    if len(chosen) < drilldown.COMPARE_MIN:
        return [_note("Chọn từ 2 đến 4 đơn vị để so sánh.", "Choose 2 to 4 units to compare.")]
    try:
        period = review_period.read_period(period_text, src.today())
    except ValueError as exc:
        return [_note(f"Không đọc được khoảng thời gian; hãy viết {FORMS}.", str(exc))]
    try:
        with src.session_factory() as session:
            pages = drilldown.compared_units(
                session,
                sources.access(),
                chosen,
                period,
                src.policy,
                client=sources.client(),
            )
            session.commit()  # the views' audit events
    except (Forbidden, UnknownId, ValueError) as exc:
        return [_note("Không so sánh được các đơn vị đã chọn.", str(exc))]
    table = grid(TABLE, COLUMNS, row_id=None)
    table.rowData = rows(pages, period.text)
    sides = [Side(p.name, p.id, p.figures) for p in pages]
    return [
        html.P(bilingual(period.label_vi, period.label_en), className="caption"),
        card("Kết quả", "Figures", table),
        html.Div(
            [
                card(
                    "Tỷ lệ hài lòng theo thời gian",
                    "Satisfied over time",
                    drilldown_view.graph(TREND, charts.units_trend_figure(pages)),
                ),
                card(
                    "Tỷ lệ và chỉ số hài lòng",
                    "Satisfied and happy index",
                    drilldown_view.graph(BARS, charts.comparison_figure(sides)),
                ),
            ],
            className="dd-charts",
        ),
    ]


def _note(vi: str, en: str) -> html.Div:
    return html.Div(bilingual(vi, en), className="empty-state dd-refused")
