"""A report run for a logged-in user: the one way the API and the dashboard read reports.

The run holds the query to the unit and officer the user may see (server/access/roles.py),
leaves officers' names out for a role without them, takes the SHA-256 of what it gives and
writes the audit event whose id is the run's `run_id`. GET /api/v1/reports/{scope}, its exports,
the printable month and the dashboard's report all come through here, so a figure on screen is
the figure the API gives the same user, and every report run is in the audit log.

The limits:

- admin, hr: every unit, with names.
- unit_head: their own unit only; asking for another is refused.
- officer: their own row of the officers' report, and the days of their own ratings.
- viewer: every unit, without names: officers' rows without officer_id or name; asking for an
  officer is refused. The dashboard offers a viewer no officers' report at all (`on_screen`).
  No group drawn from fewer than the policy's `viewer_min_officers` shows a viewer its
  figures, nor does a day of the daily trend (server/reporting/privacy.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from server.access import audit
from server.access.roles import PRINT_MONTHLY, Access, Forbidden
from server.policy import Policy
from server.reporting import monthly as monthly_report
from server.reporting import privacy, report_json, reports
from server.reporting.periods import Period
from server.storage.models import AuditEvent

SCOPE_OF: dict[str, report_json.Scope] = {  # the API's path of each report: /api/v1/reports/{path}
    "officers": "officer",
    "counters": "counter",
    "fields": "field",
    "units": "unit",
}
PATHS = {scope: path for path, scope in SCOPE_OF.items()}
SAME_VIEW = timedelta(minutes=10)  # a screen showing the same figures again within this is one view


def held_to(
    access: Access, unit_id: str | None, officer_id: str | None = None
) -> tuple[str | None, str | None]:
    """The unit and officer a read of this user's is held to (None: all)."""
    return access.unit_scope(unit_id), access.officer_scope(officer_id)


def limits(
    access: Access, scope: report_json.Scope, unit_id: str | None, officer_id: str | None
) -> tuple[str | None, str | None]:
    """The unit and officer this user's report of `scope` is held to; Forbidden if none."""
    if access.role == "officer" and scope != "officer":
        raise Forbidden("an officer sees only their own figures: GET /api/v1/reports/officers")
    if officer_id is not None and not access.may_see_names:
        raise Forbidden(f"officer_id: the role {access.role!r} sees figures without officers")
    return held_to(access, unit_id, officer_id)


def on_screen(access: Access) -> tuple[report_json.Scope, ...]:
    """The reports a screen offers this user. Officers' rows need names to mean anything on
    screen, so a viewer gets the other scopes; an officer only the officers' report."""
    if access.role == "officer":
        return ("officer",)
    if not access.may_see_names:
        return tuple(s for s in report_json.SCOPES if s != "officer")
    return report_json.SCOPES


@dataclass(frozen=True)
class Run:
    """One report run: the content as this user may see it, its digest and its audit event."""

    content: dict[str, Any]
    sha256: str
    event: AuditEvent
    generated_by: str

    def body(self) -> dict[str, Any]:
        """The content with the run's own fields, as the API answers and exports it."""
        return {
            **self.content,
            "run_id": self.event.id,
            "generated_at": self.event.at.isoformat(),
            "generated_by": self.generated_by,
            "sha256": self.sha256,
        }


def run(
    session: Session,
    access: Access,
    query: reports.Query,
    policy: Policy,
    *,
    export: str | None = None,
    client: str | None = None,
    same_view: timedelta | None = None,
) -> Run:
    """Make `query`'s report for this user and audit it; the caller commits the event.

    `query`'s unit and officer are what the user asked for; the run holds them to `limits`.
    `export` is the file format ("csv", "xlsx") when the report leaves as a file. With
    `same_view`, the same user seeing the same figures again within it is not a new event (a
    screen redrawn, re-sorted or reopened), so the log keeps one event per view."""
    unit, officer = limits(access, query.scope, query.unit_id, query.officer_id)
    if export is not None and not access.may_export:
        raise Forbidden(f"the role {access.role!r} may not export reports")
    held = replace(query, unit_id=unit, officer_id=officer)
    content = reports.report(session, held, policy).as_dict()
    key = report_json.rows_key(held.scope)
    if not access.may_see_names:  # before the officers' ids go: they are what is counted
        content = privacy.suppress(session, content, policy.viewer_min_officers)
    if held.scope == "officer":
        content[key] = access.redact(content[key])
    sha256 = report_json.digest(content)
    detail = {
        "query": {
            "period": held.period.text,
            "unit_id": unit,
            "officer_id": officer,
            "field_id": held.field_id,
            "include_flagged": held.include_flagged,
        },
        "policy_version": policy.version,
        "rows": len(content[key]),
        "sha256": sha256,
    }
    name = f"report.{held.scope}" if export is None else f"export.{held.scope}.{export}"
    target = f"{held.scope}:{held.period.text}"
    if same_view is None:
        event = audit.record_access(
            session, access, name, target=target, client=client, detail=detail
        )
    else:
        event = audit.record_access_once(
            session, access, name, within=same_view, target=target, client=client, detail=detail
        )
    session.flush()  # its id is the run id the body carries
    return Run(content, sha256, event, access.username)


def days(
    session: Session,
    access: Access,
    period: Period,
    unit_id: str | None,
    *,
    include_flagged: bool = False,
    policy: Policy | None = None,
) -> list[reports.DayRow]:
    """Satisfaction per day, of the unit asked for or an officer's own ratings: the daily trend
    beside a report, as part of its run. A role without names gets only the days drawn from
    enough officers (`policy`'s viewer_min_officers, the shipped policy's without one), and
    none of a unit too small for that (privacy.shown_days)."""
    unit, officer = held_to(access, unit_id)
    found = reports.daily_report(
        session,
        period.start,
        period.end,
        unit,
        officer_id=officer,
        include_flagged=include_flagged,
    )
    if access.may_see_names:
        return found
    n = (policy or reports.default_policy()).viewer_min_officers
    shown = privacy.shown_days(
        session, period.start, period.end, n, unit_id=unit, include_flagged=include_flagged
    )
    return found if shown is None else [row for row in found if row.day in shown]


def may_print_monthly(access: Access, unit_id: str | None) -> bool:
    """Whether the printable month of `unit_id` (one already within `held_to`) is this user's."""
    return access.role in PRINT_MONTHLY and unit_id is not None


def check_monthly(access: Access, unit_id: str) -> None:
    """Forbidden unless this user may print `unit_id`'s month."""
    access.require(PRINT_MONTHLY)
    access.unit_scope(unit_id)


def monthly(
    session: Session,
    access: Access,
    unit_id: str,
    month: Period,
    policy: Policy,
    *,
    client: str | None = None,
    include_flagged: bool = False,
    fmt: str = "html",
) -> str:
    """A unit's printable month for this user, audited as leaving in `fmt` (html, pdf); the
    caller commits the event."""
    check_monthly(access, unit_id)
    return monthly_report.export(
        session,
        unit_id,
        month,
        policy,
        actor=access.username,
        role=access.role,
        client=client,
        include_flagged=include_flagged,
        fmt=fmt,
    )
