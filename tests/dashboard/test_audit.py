"""The dashboard's report views are in the audit log as the API's report runs are: one event per
view, of the same kind, with the same query, policy version and digest."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from dashboard import report_view
from dashboard.sources import Sources
from server.access import audit
from server.access.roles import Access
from server.policy import load_policy
from server.reporting import access_reports, reports
from server.reporting.periods import parse_period
from server.storage.db import session_scope
from tests.dashboard.rows import HR, TODAY, factory

OCTOBER = parse_period("2026-10")


def test_a_view_is_one_report_event_however_often_it_is_redrawn(engine: Engine) -> None:
    src = Sources(factory(engine), today=lambda: TODAY)

    report_view.view(src, HR, OCTOBER, "officer", "*", client="10.0.0.7")
    report_view.view(src, HR, OCTOBER, "officer", "*", client="10.0.0.7")  # redrawn
    report_view.view(src, HR, OCTOBER, "unit", "*")
    report_view.view(src, HR, OCTOBER, "officer", None, True)  # another query: another view

    with session_scope(engine) as session:
        found = audit.events(session, action="report.")
    assert [e.action for e in found] == ["report.officer", "report.unit", "report.officer"]
    first = found[-1]
    assert (first.actor, first.role, first.target, first.client) == (
        "phongnoivu",
        "hr",
        "officer:2026-10",
        "10.0.0.7",
    )
    assert first.detail["query"] == {
        "period": "2026-10",
        "unit_id": None,
        "officer_id": None,
        "field_id": None,
        "include_flagged": False,
    }
    assert first.detail["policy_version"] == load_policy(None).version


def test_the_views_event_is_the_api_runs_event(engine: Engine) -> None:
    """The same run through the service: what the API records, with the same digest."""
    src = Sources(factory(engine), today=lambda: TODAY)
    head = Access("unit_head", "head", unit_id="DH")
    report_view.view(src, head, OCTOBER, "counter", "DH")

    with session_scope(engine) as session:
        (shown,) = audit.events(session, action="report.")
        query = reports.Query("counter", OCTOBER, "DH")
        run = access_reports.run(session, head, query, src.policy)
    assert shown.detail == {
        "query": {
            "period": "2026-10",
            "unit_id": "DH",
            "officer_id": None,
            "field_id": None,
            "include_flagged": False,
        },
        "policy_version": src.policy.version,
        "rows": 0,
        "sha256": run.sha256,
    }
    assert (shown.action, shown.target) == (run.event.action, run.event.target)
