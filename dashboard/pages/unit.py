"""Trang đơn vị: one unit's period (/dashboard/unit/<id>?period=2026-10), drawn as an officer's
page is, beside its province; for the unit's head and the HR office.

Not in the header: it is opened from a unit's row of the review. The view and its rules are
dashboard/drilldown_view.py and server/reporting/drilldown.py.
"""

from __future__ import annotations

from dash import Dash, html

from dashboard import drilldown_view
from server.access.roles import UNIT_PAGE
from server.reporting import drilldown

PAGE = {
    "path_template": "/unit/<unit_id>",
    "name": "Đơn vị",
    "name_en": "Unit",
    "title": "Kết quả của đơn vị · Hài Lòng",
    "order": 41,
    "nav": False,
    "roles": UNIT_PAGE,
}
TITLE = ("Kết quả của đơn vị", "Unit")


def layout(
    unit_id: str | None = None,
    period: str | None = None,
    flagged: str | None = None,
    **_other: str,
) -> html.Div:
    path = f"/unit/{unit_id}"
    return drilldown_view.page(TITLE, path, drilldown.unit_drilldown, unit_id, period, flagged)


def register_callbacks(app: Dash) -> None:
    """Nothing to wire: the period and the switch are links, and the page is drawn from its URL."""
