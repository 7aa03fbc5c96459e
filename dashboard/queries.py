"""What the dashboard reads, held to what the logged-in user may see (server/access/roles.py).

Reports are the API's report runs (server/reporting/access_reports.py): the same limits, the
same redaction and the same audit event as GET /api/v1/reports/{scope}, so a figure on screen is
the figure the API, its exports and the printed report give, and every view is in the audit log.
The screen offers a viewer no officers' report (`access_reports.on_screen`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from server.access.roles import SEE_ALERTS, Access, Forbidden
from server.ingest import ordering
from server.policy import Policy
from server.reporting import access_reports, report_json, reports
from server.reporting.periods import Period
from server.storage.models import Counter, Device, RejectedDropped, Unit

ALERT_LIMIT = 20  # the alerts panel shows the latest ones only


def unit_names(session: Session) -> dict[str, str]:
    """Unit id → name, in name order: the unit selector's options and the table's unit column."""
    rows = session.exec(select(Unit.id, Unit.name).order_by(col(Unit.name), col(Unit.id))).all()
    return {unit_id: name for unit_id, name in rows}


def visible_units(session: Session, access: Access) -> dict[str, str]:
    """The units this user may choose: their own for a unit_head or an officer, else all."""
    names = unit_names(session)
    own = access.unit_scope(None)
    return names if own is None else {own: names.get(own, own)}


def scopes(access: Access) -> tuple[report_json.Scope, ...]:
    """The reports this user may open here."""
    return access_reports.on_screen(access)


def report(
    session: Session,
    access: Access,
    scope: report_json.Scope,
    period: Period,
    unit_id: str | None,
    policy: Policy,
    *,
    include_flagged: bool = False,
    client: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The report as the API answers it to this user (less the run's own fields), audited as
    one view: the same figures shown again within `SAME_VIEW` are not a new event. `today`:
    a running period compares with as many days of the one before, as the API's does."""
    if scope not in scopes(access):
        raise Forbidden(f"the role {access.role!r} does not see the {scope} report here")
    query = reports.Query(scope, period, unit_id, include_flagged=include_flagged, today=today)
    same = access_reports.SAME_VIEW
    return access_reports.run(session, access, query, policy, client=client, same_view=same).content


days = access_reports.days


def may_see_alerts(access: Access) -> bool:
    """As GET /api/v1/alerts: a counter's alert points at whoever sat there, and viewers see
    aggregates only."""
    return access.role in SEE_ALERTS


@dataclass(frozen=True)
class DeviceRow:
    """A device with the names of where it stands, as last reported on its status topic."""

    id: str
    counter_id: str
    counter_name: str
    unit_name: str
    state: str | None
    last_seen_at: datetime | None
    outbox: int | None
    firmware: str | None
    revoked_at: datetime | None
    missing_seqs: int = (
        0  # ratings the unit numbered but never delivered (server/ingest/ordering.py)
    )
    missing_seq_ranges: tuple[tuple[int, int], ...] = ()
    rejected_dropped: int = 0  # its rejected messages deleted over the quota or for age


def device_rows(session: Session, access: Access) -> list[DeviceRow]:
    """Every device of the units this user may see."""
    q = (
        select(Device, Counter.name, Unit.name, RejectedDropped)
        .join(Counter, col(Counter.id) == col(Device.counter_id))
        .join(Unit, col(Unit.id) == col(Counter.unit_id))
        .outerjoin(RejectedDropped, col(RejectedDropped.device_id) == col(Device.id))
        .order_by(col(Unit.name), col(Counter.name), col(Device.id))
    )
    own = access.unit_scope(None)
    if own is not None:
        q = q.where(col(Counter.unit_id) == own)
    found = session.exec(q).all()
    missing = ordering.missing_seqs(session, [d.id for d, _, _, _ in found])
    return [
        DeviceRow(
            id=d.id,
            counter_id=d.counter_id,
            counter_name=counter_name,
            unit_name=unit_name,
            state=d.state,
            last_seen_at=d.last_seen_at,
            outbox=d.outbox,
            firmware=d.firmware,
            revoked_at=d.revoked_at,
            missing_seqs=missing[d.id].count,
            missing_seq_ranges=tuple(missing[d.id].ranges),
            rejected_dropped=0 if dropped is None else dropped.over_quota + dropped.too_old,
        )
        for d, counter_name, unit_name, dropped in found
    ]
