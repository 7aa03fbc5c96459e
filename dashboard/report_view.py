"""What the review page's callbacks compute: the API's links for the report on screen, the URL
that reopens it, and the report and alerts views, as plain functions of the sources, the user
and the control values, so they are tested against a real database without a browser. The
period's choice and words are dashboard/review_period.py's; the grid's, dashboard/review_grid.py's.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import plotly.graph_objects as go
from dash import no_update

from dashboard import captions, figures, queries, review_grid, review_period, sources, tables
from dashboard.components import bilingual
from dashboard.explain import confidence_bar
from server.access.roles import Access
from server.reporting import access_reports
from server.reporting.access_reports import PATHS
from server.reporting.periods import Period, period_of
from server.reporting.report_json import Scope

ALL_UNITS = "*"  # not a valid unit id (protocol.ID_RE), so it cannot shadow a real unit
API = "/api/v1"  # the server's API, beside the mount: its exports take the same login cookie


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


# --- views ---------------------------------------------------------------------------------


class View(NamedTuple):
    """The report callback's outputs, in the order of its Output list."""

    period_error: str
    notice: Any
    notice_hidden: bool
    caption: Any
    ratings: str
    satisfied_pct: str
    confidence: Any
    happy_index: str
    dissatisfied: str
    flagged: str
    chart: go.Figure
    reasons: go.Figure
    records: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    table_hidden: bool
    empty_hidden: bool
    rules_hidden: bool
    csv_href: str
    xlsx_href: str
    monthly_href: str
    monthly_label: Any
    monthly_hidden: bool
    pdf_href: str


def _unit_id(unit: str | None) -> str | None:
    return None if unit in (None, ALL_UNITS) else unit


def view(
    src: sources.Sources,
    access: Access,
    period: Period,
    scope: Scope,
    unit: str | None,
    include_flagged: bool = False,
    client: str | None = None,
    link_prefix: str = "/dashboard",
) -> View:
    """The report for the controls' values, held to what `access` may see and audited as the
    API audits a report run (one event per view, however often the page redraws it). A period
    not over is shown with a notice and without ranks or suggested classes."""
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
            today=today,
        )
        days = queries.days(
            session, access, period, unit_id, include_flagged=include_flagged, policy=src.policy
        )
        units = queries.unit_names(session)
        session.commit()  # the view's audit event
    rows = review_grid.rank_order(tables.report_rows(content))
    total = content["total"]
    headline = captions.summary(total)
    words = captions.caption(content)
    shown = tables.has_ratings(rows)
    settled = period.complete(today)
    notice = review_period.partial_notice(period, today)
    month = monthly_month(period, today)
    monthly = access_reports.may_print_monthly(access, unit_id)
    printable = monthly_href(unit_id, month, include_flagged) if unit_id else ""
    previous = content["previous"]
    compared = (review_period.compared_with(previous["label_vi"]), f"vs {previous['label_en']}")

    # a viewer gets no officer's or unit's page (those pages refuse a viewer), so no links
    prefix = link_prefix if access.may_see_names else None
    return View(
        period_error="",
        notice=bilingual(*notice) if notice else "",
        notice_hidden=notice is None,
        caption=bilingual(words.vi, words.en),
        ratings=headline.ratings,
        satisfied_pct=headline.satisfied_pct,
        confidence=confidence_bar(
            total["wilson_low"], total["wilson_high"], total["satisfied_pct"]
        ),
        happy_index=headline.happy_index,
        dissatisfied=headline.dissatisfied,
        flagged=headline.flagged,
        chart=figures.satisfaction_figure(days, period.start, period.end),
        reasons=figures.reasons_figure(total),
        records=review_grid.records(rows, scope, units, period, settled=settled, prefix=prefix),
        columns=review_grid.columns(scope, compared),
        table_hidden=not shown,
        empty_hidden=shown,
        rules_hidden=scope != "officer" or not settled,
        csv_href=export_href(scope, period, unit_id, include_flagged, "csv"),
        xlsx_href=export_href(scope, period, unit_id, include_flagged, "xlsx"),
        monthly_href=printable,
        monthly_label=bilingual(f"Báo cáo {month.label_vi.lower()} để in", "Printable month"),
        monthly_hidden=not monthly,
        pdf_href=f"{printable}&format=pdf" if printable else "",
    )


def unreadable(exc: ValueError) -> View:
    """Leave the page as it was and say what to write."""
    message = (
        "Không đọc được khoảng thời gian; hãy viết 2026-10-05 (ngày), 2026-10 (tháng), "
        f"2026-Q4 (quý), 2026 (năm) hoặc 2026-10-05..2026-12-14 (khoảng ngày). {exc}"
    )
    return View._make([message, *[no_update] * (len(View._fields) - 1)])


def search(period: Period, scope: str, unit: str | None, include_flagged: bool) -> str:
    """The URL query that reopens this view (the page's `layout` reads it back)."""
    params = {"period": period.text, "scope": scope}
    if unit not in (None, ALL_UNITS):
        params["unit"] = str(unit)
    if include_flagged:
        params["flagged"] = "1"
    return f"?{urlencode(params)}"
