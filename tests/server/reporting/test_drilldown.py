"""The drill-down's series, heatmap and access, against hand-counted numbers: pure functions
first, then tests/server/report_data.py in a real SQLite database (CB-A's October: 30 counted
ratings on Monday 5/10 from 08:00 Vietnam time, five minutes apart, and a flagged one at 10:25)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hailong.errors import UnknownId
from server.access.roles import Access, Forbidden
from server.reporting import drilldown, reports
from server.reporting.counts import Counts
from server.reporting.heatmap import grid
from server.reporting.periods import parse_period
from server.reporting.scoring import LevelTally
from server.reporting.series import buckets, grain_for, group
from server.storage.db import make_engine, migrate
from server.storage.models import AuditEvent
from tests.server.report_data import seed

POLICY = reports.default_policy()
HR = Access("hr", "hr")
HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")
OFFICER_A = Access("officer", "officer-a", unit_id="DH", officer_id="CB-A")
VIEWER = Access("viewer", "viewer")
OCTOBER = parse_period("2026-10")


# --- pure -------------------------------------------------------------------------------


def test_the_grain_grows_with_the_range() -> None:
    assert grain_for(date(2026, 10, 1), date(2026, 10, 31)) == "day"  # 31 days
    assert grain_for(date(2026, 10, 1), date(2026, 11, 1)) == "week"  # 32 days
    assert grain_for(date(2026, 7, 1), date(2026, 12, 30)) == "week"  # 183 days
    assert grain_for(date(2026, 7, 1), date(2026, 12, 31)) == "month"  # 184 days


def test_weeks_run_monday_to_sunday_cut_at_the_ends() -> None:
    # 1/10/2026 is a Thursday; 5/10 a Monday
    assert buckets(date(2026, 10, 1), date(2026, 10, 20), "week") == [
        (date(2026, 10, 1), date(2026, 10, 4)),
        (date(2026, 10, 5), date(2026, 10, 11)),
        (date(2026, 10, 12), date(2026, 10, 18)),
        (date(2026, 10, 19), date(2026, 10, 20)),
    ]
    assert buckets(date(2026, 1, 15), date(2026, 3, 2), "month") == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 2)),
    ]


def _day(*levels: tuple[int, int, int]) -> Counts:
    """Counts of one day: (score on vn4, n, flagged)."""
    return Counts(levels={("vn4", s): LevelTally(n, f) for s, n, f in levels})


def test_group_sums_days_into_weeks_and_keeps_empty_ones() -> None:
    days = {
        date(2026, 10, 1): _day((4, 3, 0), (1, 1, 1)),  # Thursday: 3 counted, 1 flagged
        date(2026, 10, 6): _day((3, 2, 0), (2, 2, 0)),
        date(2026, 10, 9): _day((4, 4, 0)),
    }
    points = group(days, date(2026, 10, 1), date(2026, 10, 20), include_flagged=False, grain="week")
    assert [p.figures.ratings for p in points] == [3, 8, 0, 0]
    assert [p.figures.satisfied_pct for p in points] == [100.0, 75.0, None, None]  # 6 of 8
    assert points[1].figures.counts == {"vn4": {"1": 0, "2": 2, "3": 2, "4": 4}}
    assert [p.label_vi for p in points][:2] == ["01/10–04/10", "05/10–11/10"]
    flagged = group(days, date(2026, 10, 1), date(2026, 10, 4), include_flagged=True)
    assert flagged[0].figures.ratings == 4  # with the flagged one
    assert flagged[0].figures.satisfied_pct == 75.0
    assert days[date(2026, 10, 9)].levels[("vn4", 4)].n == 4  # the days are not changed


def test_the_grid_moves_hours_to_vietnam_time_and_leaves_flagged_out() -> None:
    rows = [
        (date(2026, 10, 5), 1, 5, 0),  # Monday, 01:00 UTC = 08:00
        (date(2026, 10, 5), 2, 4, 1),  # 09:00, one flagged
        (date(2026, 10, 11), 18, 2, 0),  # a Sunday at 01:00 (18:00 UTC the evening before)
    ]
    counted = grid(rows, include_flagged=False)
    assert counted.counts[0][8] == 5 and counted.counts[0][9] == 3 and counted.counts[6][1] == 2
    assert counted.total == 10
    assert counted.hours_used() == range(1, 10)
    assert grid(rows, include_flagged=True).counts[0][9] == 4
    assert grid([], include_flagged=False).hours_used() == range(24)


# --- against the database --------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("drilldown") / "reports.db"
    made = make_engine(f"sqlite:///{path}")
    migrate(made)
    seed(made)
    yield made
    made.dispose()


def test_an_officers_month_agrees_with_the_review_row(engine: Engine) -> None:
    with Session(engine) as session:
        page = drilldown.officer_drilldown(session, HR, "CB-A", OCTOBER, POLICY)
        review = reports.report(session, reports.Query("officer", OCTOBER), POLICY)
        in_unit = reports.report(session, reports.Query("officer", OCTOBER, "DH"), POLICY)
    (row,) = [r for r in review.rows if r.id == "CB-A"]
    assert page.figures == row.figures
    assert row.rank == 2  # among every officer; the page ranks among the unit's, as the API does
    row = next(r for r in in_unit.rows if r.id == "CB-A")
    assert page.row["ratings"] == 30 and page.row["rank"] == row.rank
    assert page.flags == {"cooldown": 1}
    assert len(page.series) == 31 and page.series[0].grain == "day"
    assert [(p.first.day, p.figures.ratings) for p in page.series if p.figures.ratings] == [(5, 30)]
    assert sum(p.figures.ratings for p in page.series) == row.figures.ratings
    # 08:00-08:55 and 09:00-09:55 twelve each, 10:00-10:25 six; the flagged 10:25:01 left out
    cells = {(w, h): n for w, day in enumerate(page.heatmap.counts) for h, n in enumerate(day) if n}
    assert cells == {(0, 8): 12, (0, 9): 12, (0, 10): 6}
    # DH: CB-A 27 of 30 and CB-B 29 of 29 satisfied; Gia Lai adds XA's 36 of 40
    assert [(s.label_vi, s.figures.ratings, s.figures.satisfied_pct) for s in page.comparison] == [
        ("Nguyễn Thị An", 30, 90.0),
        ("Phường Diên Hồng", 59, 94.92),  # 56 / 59
        ("Gia Lai", 99, 92.93),  # 92 / 99
    ]


def test_include_flagged_counts_the_flagged_press_everywhere(engine: Engine) -> None:
    with Session(engine) as session:
        page = drilldown.officer_drilldown(
            session, HR, "CB-A", OCTOBER, POLICY, include_flagged=True
        )
    assert page.figures.ratings == 31
    assert sum(p.figures.ratings for p in page.series) == 31
    assert page.heatmap.counts[0][10] == 7 and page.heatmap.total == 31


def test_a_units_year_is_drawn_month_by_month(engine: Engine) -> None:
    with Session(engine) as session:
        page = drilldown.unit_drilldown(session, HR, "DH", parse_period("2026"), POLICY)
    assert len(page.series) == 12 and page.series[0].grain == "month"
    # September: CB-A's 10 (the last at 23:59:59 on 30/9); October: CB-A 30 and CB-B 29
    found = {p.first.month: p.figures.ratings for p in page.series if p.figures.ratings}
    assert found == {9: 10, 10: 59}
    assert page.heatmap.total == page.figures.ratings == 69
    assert page.heatmap.counts[3][0] == 1  # CB-B's first: 00:00 on Thursday 1/10
    assert [(o["officer_id"], o["ratings"]) for o in page.officers] == [("CB-A", 40), ("CB-B", 29)]


def test_who_may_open_which_page(engine: Engine) -> None:
    with Session(engine) as session:
        own = drilldown.officer_drilldown(session, OFFICER_A, "CB-A", OCTOBER, POLICY)
        assert [s.label_en for s in own.comparison] == ["Officer"]  # not the unit's figures
        head = drilldown.officer_drilldown(session, HEAD_DH, "CB-B", OCTOBER, POLICY)
        assert [s.label_en for s in head.comparison] == ["Officer", "Unit"]
        refused = [
            (OFFICER_A, "officer", "CB-B"),
            (HEAD_DH, "officer", "CB-C"),
            (VIEWER, "officer", "CB-A"),
            (OFFICER_A, "unit", "DH"),
            (HEAD_DH, "unit", "XA"),
            (VIEWER, "unit", "DH"),
        ]
        for access, kind, subject in refused:
            with pytest.raises(Forbidden):
                if kind == "officer":
                    drilldown.officer_drilldown(session, access, subject, OCTOBER, POLICY)
                else:
                    drilldown.unit_drilldown(session, access, subject, OCTOBER, POLICY)
        with pytest.raises(UnknownId, match="không có cán bộ"):
            drilldown.officer_drilldown(session, HR, "CB-Z", OCTOBER, POLICY)
        with pytest.raises(Forbidden):
            drilldown.compared_units(session, HEAD_DH, ["DH", "XA"], OCTOBER, POLICY)
        with pytest.raises(ValueError, match="từ 2 đến 4"):
            drilldown.compared_units(session, HR, ["DH"], OCTOBER, POLICY)


def test_each_page_view_is_one_audited_report_run(engine: Engine) -> None:
    with Session(engine) as session:
        first = drilldown.officer_drilldown(session, HEAD_DH, "CB-A", OCTOBER, POLICY)
        again = drilldown.officer_drilldown(session, HEAD_DH, "CB-A", OCTOBER, POLICY)
        session.commit()
        events = session.exec(select(AuditEvent).where(col(AuditEvent.actor) == "head-dh")).all()
    assert first.run_id == again.run_id  # the same view redrawn is one event
    (event,) = [e for e in events if e.id == first.run_id]
    assert event.action == "report.officer" and event.target == "officer:2026-10"
    assert '"officer_id":"CB-A"' in (event.detail or "").replace(" ", "")


def test_units_side_by_side(engine: Engine) -> None:
    with Session(engine) as session:
        pages = drilldown.compared_units(session, HR, ["XA", "DH", "XA"], OCTOBER, POLICY)
    assert [(p.id, p.figures.ratings) for p in pages] == [("XA", 40), ("DH", 59)]
    assert pages[1].officers == []  # side by side, units only


def test_the_heatmap_and_trend_on_each_backend(database_url: str) -> None:
    """The hour comes from SQL (EXTRACT on PostgreSQL, strftime on SQLite): both read UTC."""
    made = make_engine(database_url)
    try:
        migrate(made)
        seed(made)
        with Session(made) as session:
            page = drilldown.officer_drilldown(session, HR, "CB-A", OCTOBER, POLICY)
            year = drilldown.unit_drilldown(session, HR, "DH", parse_period("2026"), POLICY)
    finally:
        made.dispose()
    cells = {(w, h): n for w, day in enumerate(page.heatmap.counts) for h, n in enumerate(day) if n}
    assert cells == {(0, 8): 12, (0, 9): 12, (0, 10): 6}
    # 23:59:59 on Wednesday 30/9 and 00:00 on Thursday 1/10, Vietnam time
    assert year.heatmap.counts[2][23] == 1 and year.heatmap.counts[3][0] == 1
    assert [p.figures.ratings for p in year.series if p.figures.ratings] == [10, 59]
