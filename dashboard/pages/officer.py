"""Trang cán bộ: one officer's period behind a review row (/dashboard/officer/<id>?period=2026-10),
with the trend, the four levels, reasons, hours, flags and how they stand beside their unit.

Not in the header: it is opened from a row of the review. The view and its rules are
dashboard/drilldown_view.py and server/reporting/drilldown.py.
"""

from __future__ import annotations

from dash import Dash, html

from dashboard import drilldown_view
from server.access.roles import OFFICER_PAGE
from server.reporting import drilldown

PAGE = {
    "path_template": "/officer/<officer_id>",
    "name": "Cán bộ",
    "name_en": "Officer",
    "title": "Kết quả của cán bộ · Hài Lòng",
    "order": 40,
    "nav": False,
    "roles": OFFICER_PAGE,
}
TITLE = ("Kết quả của cán bộ", "Officer")


def layout(
    officer_id: str | None = None,
    period: str | None = None,
    flagged: str | None = None,
    **_other: str,
) -> html.Div:
    path = f"/officer/{officer_id}"
    return drilldown_view.page(
        TITLE, path, drilldown.officer_drilldown, officer_id, period, flagged
    )


def register_callbacks(app: Dash) -> None:
    """Nothing to wire: the period and the switch are links, and the page is drawn from its URL."""
