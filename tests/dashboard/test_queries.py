"""dashboard.queries against real migrated SQLite databases: what each role is given."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from dashboard import queries
from devtools.figures import level_figures as figures
from server.access.roles import Access, Forbidden
from server.policy import load_policy
from server.reporting import report_json, reports
from server.reporting.periods import parse_period
from server.storage.db import session_scope
from server.storage.models import RejectedDropped
from tests.dashboard import rows

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
OCTOBER = parse_period("2026-10")
POLICY = load_policy(None)

# The logins of tests/server/report_data.py.
HR = Access("hr", "hr")
HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")
OFFICER_A = Access("officer", "officer-a", unit_id="DH", officer_id="CB-A")
VIEWER = Access("viewer", "viewer")
OFFICER_NAMES = ("Nguyễn Thị An", "Trần Văn Bình", "Lê Thị Cúc")
NOT_OFFICERS: tuple[report_json.Scope, ...] = ("counter", "field", "unit")


def seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        rows.add_unit(session, "U-B", "Phường Bến Thành")
        rows.add_unit(session, "U-A", "Phường Sài Gòn")
        rows.add_officer(session, "CB-1", "Nguyễn Thị Hương", "U-A")
        rows.add_officer(session, "CB-2", "Trần Văn Minh", "U-B")
        rows.add_ratings(session, "CB-1", "U-A", D1, [4, 4, 3])
        rows.add_ratings(session, "CB-1", "U-A", D3, [1])
        rows.add_ratings(session, "CB-2", "U-B", D2, [2, 3], scale="vn3")
        session.commit()


def report(
    engine: Engine, access: Access, scope: report_json.Scope, unit_id: str | None = None
) -> dict[str, Any]:
    with session_scope(engine) as session:
        return queries.report(session, access, scope, OCTOBER, unit_id, POLICY)


def test_unit_names_in_name_order(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        assert list(queries.unit_names(session).items()) == [
            ("U-B", "Phường Bến Thành"),
            ("U-A", "Phường Sài Gòn"),
        ]


def test_period_report_count_both_ends_of_the_period_and_mix_scales(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        period = reports.period_report(session, D1, D3)
        expected = figures(
            {("vn4", 4): 2, ("vn4", 3): 1, ("vn4", 1): 1, ("vn3", 2): 1, ("vn3", 3): 1}
        )
        assert period == expected
        assert period.ratings == 6
        assert period.satisfied_pct == 83.33  # vn3 level 2 is "Hài lòng"


# --- who sees what ----------------------------------------------------------------------------


def test_units_to_choose_from_per_role(report_engine: Engine) -> None:
    both = {"DH": "Phường Diên Hồng", "XA": "Xã An"}
    with session_scope(report_engine) as session:
        assert queries.visible_units(session, HR) == both
        assert queries.visible_units(session, VIEWER) == both
        assert queries.visible_units(session, HEAD_DH) == {"DH": "Phường Diên Hồng"}
        assert queries.visible_units(session, OFFICER_A) == {"DH": "Phường Diên Hồng"}


def test_reports_to_choose_from_per_role() -> None:
    assert queries.scopes(HR) == ("officer", "counter", "field", "unit")
    assert queries.scopes(HEAD_DH) == ("officer", "counter", "field", "unit")
    assert queries.scopes(OFFICER_A) == ("officer",)
    assert queries.scopes(VIEWER) == ("counter", "field", "unit")


def test_a_unit_head_sees_only_their_own_unit(report_engine: Engine) -> None:
    officers = report(report_engine, HEAD_DH, "officer")
    assert officers["filters"]["unit_id"] == "DH"
    assert [r["officer_id"] for r in officers["officers"]] == ["CB-A", "CB-B"]
    counters = report(report_engine, HEAD_DH, "counter")["rows"]
    assert [(r["counter_id"], r["unit_id"]) for r in counters] == [
        ("DH-Q1", "DH"),
        ("DH-Q2", "DH"),
    ]
    assert [r["unit_id"] for r in report(report_engine, HEAD_DH, "unit")["rows"]] == ["DH"]
    fields = report(report_engine, HEAD_DH, "field")
    assert fields["total"]["ratings"] == 30 + 29  # DH's counters only, not XA's 40
    with pytest.raises(Forbidden, match="only their own unit"):
        report(report_engine, HEAD_DH, "officer", unit_id="XA")


def test_an_officer_sees_only_their_own_row_and_days(report_engine: Engine) -> None:
    (own,) = report(report_engine, OFFICER_A, "officer")["officers"]
    assert (own["officer_id"], own["name"], own["ratings"]) == ("CB-A", "Nguyễn Thị An", 30)
    for scope in NOT_OFFICERS:
        with pytest.raises(Forbidden):
            report(report_engine, OFFICER_A, scope)
    with session_scope(report_engine) as session:
        days = queries.days(session, OFFICER_A, OCTOBER, None)
    assert sum(d.figures.ratings for d in days) == 30  # not CB-B's 29 at the same unit


def test_a_viewer_sees_no_officer_anywhere(report_engine: Engine) -> None:
    with pytest.raises(Forbidden, match="does not see the officer report"):
        report(report_engine, VIEWER, "officer")
    for scope in NOT_OFFICERS:
        content = report(report_engine, VIEWER, scope)
        assert content["filters"]["officer_id"] is None
        text = json.dumps(content, ensure_ascii=False)
        assert "CB-" not in text
        assert not any(name in text for name in OFFICER_NAMES), scope
    units = report(report_engine, VIEWER, "unit")["rows"]
    assert [r["unit_id"] for r in units] == ["DH", "XA"]


def test_hr_sees_every_unit_with_names(report_engine: Engine) -> None:
    officers = report(report_engine, HR, "officer")["officers"]
    assert [r["name"] for r in officers] == list(OFFICER_NAMES)
    assert [r["unit_id"] for r in report(report_engine, HR, "officer", "XA")["officers"]] == ["XA"]


def test_device_rows_name_the_counter_and_unit_and_keep_to_the_users_unit(engine: Engine) -> None:
    seen = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        rows.add_unit(session, "U-A", "Phường Sài Gòn")
        rows.add_unit(session, "U-B", "Phường Bến Thành")
        rows.add_counter(session, "Q-2", "Quầy số 2", "U-A")
        rows.add_counter(session, "Q-1", "Quầy số 1", "U-A")
        rows.add_counter(session, "B-1", "Quầy Bến Thành", "U-B")
        rows.add_device(session, "HL-2", "Q-2", state="offline", outbox=5, last_seen_at=seen)
        rows.add_device(session, "HL-1", "Q-1", state="online", firmware="1.2.0")
        rows.add_device(session, "HL-B", "B-1")
        session.add(RejectedDropped(device_id="HL-2", over_quota=3, too_old=2))
        session.commit()

    with session_scope(engine) as session:
        first, second, other = queries.device_rows(session, HR)
        own = queries.device_rows(session, Access("unit_head", "h", unit_id="U-A"))

    assert (first.id, first.counter_name, first.unit_name) == (
        "HL-B",
        "Quầy Bến Thành",
        "Phường Bến Thành",
    )
    assert (second.id, second.counter_name, second.unit_name) == (
        "HL-1",
        "Quầy số 1",
        "Phường Sài Gòn",
    )
    assert (second.state, second.firmware, second.revoked_at) == ("online", "1.2.0", None)
    assert (other.id, other.state, other.outbox) == ("HL-2", "offline", 5)
    assert (other.rejected_dropped, second.rejected_dropped) == (5, 0), "deleted, counted"
    assert other.last_seen_at == seen
    assert [d.id for d in own] == ["HL-1", "HL-2"]
