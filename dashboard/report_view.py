"""What the satisfaction page's callbacks compute: the period the controls name, the API's links
for the report on screen, and the report and alerts views, as plain functions of the sources,
the user and the control values, so they are tested against a real database without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import plotly.graph_objects as go
from dash import no_update

from dashboard import captions, figures, queries, sources, tables
from dashboard.components import bilingual
from server.access.roles import Access
from server.reporting import access_reports
from server.reporting.access_reports import PATHS
from server.reporting.periods import Period, parse_period, period_of
from server.reporting.report_json import Scope

DEFAULT_DAYS = 30
ALL_UNITS = "*"  # not a valid unit id (protocol.ID_RE), so it cannot shadow a real unit
API = "/api/v1"  # the server's API, beside the mount: its exports take the same login cookie


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


# --- views ---------------------------------------------------------------------------------


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
        days = queries.days(
            session, access, period, unit_id, include_flagged=include_flagged, policy=src.policy
        )
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


def unreadable(exc: ValueError) -> View:
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
