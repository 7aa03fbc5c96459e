"""The drill-down behind a review row: one officer's or one unit's period, with its trend, its
hours, its flags and how it stands beside its unit and province; and units side by side.

Held and audited as a report is: each page is a report run (server/reporting/access_reports.py
`run`, one event per view within SAME_VIEW) of the officer's or the unit's row, so a viewer,
another unit's head or another officer is refused as the API refuses them, and the headline is
the review's row. The rest reads with the same limits (unit and officer) and the same policy
on flagged ratings, so every number adds up to that row:

- admin, hr: every officer and unit, and the province beside them.
- unit_head: their unit and its officers, beside the unit (not other units' figures).
- officer: their own page only, without their unit's or the province's figures.
- viewer: no drill-down (it names officers and shows their hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel import Session, col, select

from hailong.errors import UnknownId
from server.access.roles import ANY_UNIT, COMPARE_UNITS, OFFICER_PAGE, UNIT_PAGE, Access, Forbidden
from server.policy import Policy
from server.reporting import access_reports, reports
from server.reporting.counts import Filters, combine, read_counts
from server.reporting.heatmap import HourWeekday, hour_weekday
from server.reporting.periods import Period
from server.reporting.report_json import rows_key
from server.reporting.scoring import Figures
from server.reporting.series import Point, series
from server.reporting.spans import span_counts
from server.storage.models import Officer, Unit

ALL_UNITS_VI, ALL_UNITS_EN = "Tất cả đơn vị", "All units"
COMPARE_MIN, COMPARE_MAX = 2, 4


@dataclass(frozen=True)
class Side:
    """One line of the comparison: whose figures, and the figures."""

    label_vi: str
    label_en: str
    figures: Figures


@dataclass(frozen=True)
class Drilldown:
    """One officer's or unit's period as its page shows it."""

    kind: Literal["officer", "unit"]
    id: str
    name: str
    title: str | None
    unit_id: str
    unit_name: str
    period: Period
    include_flagged: bool
    figures: Figures
    flags: dict[str, int]
    row: dict[str, Any]  # the report run's row: rank, classification as the review shows them
    series: list[Point]
    heatmap: HourWeekday
    comparison: list[Side]
    run_id: int | None
    officers: list[dict[str, Any]] = field(default_factory=list)  # a unit's: the review's rows


def _run_rows(
    session: Session,
    access: Access,
    query: reports.Query,
    policy: Policy,
    client: str | None,
) -> tuple[list[dict[str, Any]], int | None]:
    """The report run's rows, audited as one view."""
    run = access_reports.run(
        session, access, query, policy, client=client, same_view=access_reports.SAME_VIEW
    )
    return run.content[rows_key(query.scope)], run.event.id


def _run_row(
    session: Session,
    access: Access,
    query: reports.Query,
    policy: Policy,
    client: str | None,
) -> tuple[dict[str, Any], int | None]:
    rows, run_id = _run_rows(session, access, query, policy, client)
    return (rows[0] if rows else {}), run_id


def _province(session: Session, unit: Unit, period: Period, include_flagged: bool) -> Side:
    """The units of `unit`'s province, or every unit when it names none."""
    q = select(col(Unit.id))
    if unit.province:
        q = q.where(Unit.province == unit.province)
    members = set(session.exec(q).all())
    found = read_counts(session, period.start, period.end, "unit_id", Filters(), levels_only=True)
    total = combine([c for unit_id, c in found.items() if unit_id in members])
    figures = total.rating_figures(include_flagged)
    if unit.province:
        return Side(unit.province, "Province", figures)
    return Side(ALL_UNITS_VI, ALL_UNITS_EN, figures)


def _over_time(
    session: Session,
    period: Period,
    policy: Policy,
    include_flagged: bool,
    unit_id: str | None,
    officer_id: str | None = None,
) -> tuple[list[Point], HourWeekday]:
    """The trend and the hour x weekday grid of an officer (at the unit's counters, if a unit
    is given) or a unit, counting flagged ratings as the policy does."""
    trend = series(
        session,
        period.start,
        period.end,
        unit_id=unit_id,
        officer_id=officer_id,
        include_flagged=include_flagged,
    )
    hours = hour_weekday(
        session,
        period.start,
        period.end,
        counted=policy.misuse.count,
        officer_excluded=policy.channels.officer_excluded,
        unit_id=unit_id,
        officer_id=officer_id,
        include_flagged=include_flagged,
    )
    return trend, hours


def _unit(session: Session, unit_id: str) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnknownId(f"không có đơn vị {unit_id!r} · no unit {unit_id!r}")
    return unit


def officer_drilldown(
    session: Session,
    access: Access,
    officer_id: str,
    period: Period,
    policy: Policy,
    *,
    include_flagged: bool = False,
    client: str | None = None,
) -> Drilldown:
    """An officer's page for this user, audited as a report run; the caller commits."""
    access.require(OFFICER_PAGE)
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise UnknownId(f"không có cán bộ {officer_id!r} · no officer {officer_id!r}")
    unit_id, _ = access_reports.held_to(access, None, officer_id)
    if unit_id is not None and officer.unit_id != unit_id:
        raise Forbidden(f"officer_id: {officer_id!r} is not an officer of your unit {unit_id!r}")
    query = reports.Query("officer", period, None, officer_id, include_flagged=include_flagged)
    row, run_id = _run_row(session, access, query, policy, client)
    unit = _unit(session, officer.unit_id)
    counts = span_counts(session, period.start, period.end, Filters(unit_id, officer_id))
    figures = counts.figures(include_flagged)
    comparison = [Side(officer.name, "Officer", figures)]
    if access.role != "officer":
        whole = span_counts(session, period.start, period.end, Filters(unit.id))
        comparison.append(Side(unit.name, "Unit", whole.rating_figures(include_flagged)))
    if access.role in ANY_UNIT:
        comparison.append(_province(session, unit, period, include_flagged))
    trend, hours = _over_time(session, period, policy, include_flagged, unit_id, officer_id)
    return Drilldown(
        kind="officer",
        id=officer.id,
        name=officer.name,
        title=officer.title,
        unit_id=unit.id,
        unit_name=unit.name,
        period=period,
        include_flagged=include_flagged,
        figures=figures,
        flags=counts.flag_counts(),
        row=row,
        series=trend,
        heatmap=hours,
        comparison=comparison,
        run_id=run_id,
    )


def unit_drilldown(
    session: Session,
    access: Access,
    unit_id: str,
    period: Period,
    policy: Policy,
    *,
    include_flagged: bool = False,
    client: str | None = None,
    with_officers: bool = True,
) -> Drilldown:
    """A unit's page for this user, audited as a report run (and its officers' rows as
    another, unless `with_officers` is False); the caller commits."""
    access.require(UNIT_PAGE)
    held = access.unit_scope(unit_id)
    unit = _unit(session, unit_id)
    query = reports.Query("unit", period, held, include_flagged=include_flagged)
    row, run_id = _run_row(session, access, query, policy, client)
    listed: list[dict[str, Any]] = []
    if with_officers:
        officers = reports.Query("officer", period, held, include_flagged=include_flagged)
        listed, _ = _run_rows(session, access, officers, policy, client)
    counts = span_counts(session, period.start, period.end, Filters(unit_id))
    figures = counts.figures(include_flagged)
    comparison = [Side(unit.name, "Unit", figures)]
    if access.role in ANY_UNIT:
        comparison.append(_province(session, unit, period, include_flagged))
    trend, hours = _over_time(session, period, policy, include_flagged, unit_id)
    return Drilldown(
        kind="unit",
        id=unit.id,
        name=unit.name,
        title=None,
        unit_id=unit.id,
        unit_name=unit.name,
        period=period,
        include_flagged=include_flagged,
        figures=figures,
        flags=counts.flag_counts(),
        row=row,
        series=trend,
        heatmap=hours,
        comparison=comparison,
        run_id=run_id,
        officers=listed,
    )


def compared_units(
    session: Session,
    access: Access,
    unit_ids: Sequence[str],
    period: Period,
    policy: Policy,
    *,
    include_flagged: bool = False,
    client: str | None = None,
) -> list[Drilldown]:
    """Two to four units' pages side by side, each audited as its own page is."""
    access.require(COMPARE_UNITS)
    chosen = list(dict.fromkeys(unit_ids))
    if not COMPARE_MIN <= len(chosen) <= COMPARE_MAX:
        raise ValueError(
            f"chọn từ {COMPARE_MIN} đến {COMPARE_MAX} đơn vị để so sánh; đã chọn {len(chosen)} · "
            f"choose {COMPARE_MIN} to {COMPARE_MAX} units to compare, not {len(chosen)}"
        )
    return [
        unit_drilldown(
            session,
            access,
            u,
            period,
            policy,
            include_flagged=include_flagged,
            client=client,
            with_officers=False,
        )
        for u in chosen
    ]
