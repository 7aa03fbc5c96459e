"""The drill-down pages: their figures (pure, from hand-made values) and their views for each
role, against tests/server/report_data.py in a real SQLite database (CB-A's October: 30 counted
ratings on Monday 5/10 from 08:00, one flagged press left out)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from dash import Dash
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dashboard import compare_view, drilldown_figures, drilldown_view, review_period
from dashboard.app import create_dash
from dashboard.pages import compare, officer, unit
from server.access.roles import ACCESS_KEY, Access
from server.reporting.drilldown import Side
from server.reporting.heatmap import grid
from server.reporting.periods import parse_period
from server.reporting.scoring import LevelTally, figures
from server.reporting.series import Point
from server.storage.models import AuditEvent
from tests.dashboard.rows import TODAY, callback_body, factory

HR = Access("hr", "hr")
HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")
OFFICER_A = Access("officer", "officer-a", unit_id="DH", officer_id="CB-A")
VIEWER = Access("viewer", "viewer")


# --- figures ----------------------------------------------------------------------------


def test_vn3_levels_stack_with_the_vn4_levels_of_their_name() -> None:
    counts = {"vn4": {"1": 2, "2": 1, "3": 4, "4": 5}, "vn3": {"1": 1, "2": 3, "3": 2}}
    # Không hài lòng 2 + 1, Bình thường 1, Hài lòng 4 + 3, Rất hài lòng 5 + 2
    assert drilldown_figures.level_counts(counts) == [3, 1, 7, 7]


def _point(day: int, **levels: int) -> Point:
    tallies = {("vn4", int(score)): LevelTally(n) for score, n in levels.items()}
    return Point(date(2026, 10, day), date(2026, 10, day), "day", figures(tallies))


def test_the_levels_are_stacked_per_point_and_the_trend_has_gaps_not_zeros() -> None:
    points = [_point(5, **{"4": 3, "1": 1}), _point(6)]
    stacked = drilldown_figures.levels_figure(points)
    assert stacked.layout.barmode == "stack"
    assert [trace.y for trace in stacked.data] == [(1, 0), (0, 0), (0, 0), (3, 0)]
    trend = drilldown_figures.trend_figure(points)
    satisfied = trend.data[1]
    assert satisfied.type == "scatter" and satisfied.y == (75.0, None)
    assert list(trend.data[0].x) == ["05/10", "06/10"]
    assert {t.type for t in trend.data} <= {"bar", "scatter"}


def test_the_heatmap_shows_weekdays_by_the_hours_in_use() -> None:
    hours = grid(
        [(date(2026, 10, 5), 1, 5, 0), (date(2026, 10, 8), 3, 2, 0)], include_flagged=False
    )
    fig = drilldown_figures.heatmap_figure(hours)
    (trace,) = fig.data
    assert trace.type == "heatmap"
    assert list(trace.x) == [8, 9, 10]  # 01:00 and 03:00 UTC are 08:00 and 10:00
    assert trace.y[0] == "Thứ Hai" and len(trace.z) == 7
    assert list(trace.z[0]) == [5, 0, 0] and list(trace.z[3]) == [
        0,
        0,
        2,
    ]  # Monday 08:00, Thursday 10:00
    empty = drilldown_figures.heatmap_figure(grid([], include_flagged=False))
    assert not empty.data


def test_flags_say_which_ones_the_policy_leaves_out() -> None:
    fig = drilldown_figures.flags_figure({"cooldown": 2, "clock_corrected": 1}, ("cooldown",))
    assert list(fig.data[0].y) == ["Bấm lại quá nhanh (không tính điểm)", "Đã chỉnh giờ"]
    assert list(fig.data[0].x) == [2, 1]


def test_the_comparison_wraps_long_names() -> None:
    f = figures({("vn4", 4): LevelTally(3), ("vn4", 1): LevelTally(1)})
    fig = drilldown_figures.comparison_figure([Side("Bộ phận Một cửa UBND Quận 1", "Unit", f)])
    assert fig.data[0].x == ("Bộ phận Một cửa<br>UBND Quận 1",)
    assert fig.data[0].y == (75.0,) and fig.data[1].y == (75.0,)  # satisfied %, happy index


# --- periods ----------------------------------------------------------------------------


def test_pages_open_on_the_last_complete_month() -> None:
    assert review_period.read_period(None, date(2026, 12, 3)) == parse_period("2026-11")
    assert review_period.read_period(" ", date(2027, 1, 1)) == parse_period("2026-12")
    assert review_period.read_period("2026-Q4", date(2026, 12, 3)) == parse_period("2026-Q4")
    with pytest.raises(ValueError, match="2026-10"):
        review_period.read_period("tháng 10", date(2026, 12, 3))


def test_a_running_period_says_so() -> None:
    today = date(2026, 11, 20)
    assert drilldown_view.partial_banner(parse_period("2026-10"), today) is None
    banner = str(drilldown_view.partial_banner(parse_period("2026-11"), today))
    assert "Tháng 11/2026 chưa kết thúc: số liệu tính đến hết ngày 20/11/2026." in banner


def test_the_following_period() -> None:
    assert review_period.step(parse_period("2026-12"), 1) == parse_period("2027-01")
    assert review_period.step(parse_period("2026-Q3"), 1) == parse_period("2026-Q4")
    range_ = parse_period("2026-10-01..2026-10-10")
    assert review_period.step(range_, 1) == parse_period("2026-10-11..2026-10-20")


# --- views ------------------------------------------------------------------------------


@pytest.fixture
def app(report_engine: Engine) -> Dash:
    return create_dash(factory(report_engine), today=lambda: TODAY)


def _as(app: Dash, access: Access, page: Any, **query: str) -> str:
    with app.server.test_request_context("/", environ_base={"asgi.scope": {ACCESS_KEY: access}}):
        return str(page.layout(**query))


def test_hr_sees_an_officers_month(app: Dash) -> None:
    text = _as(app, HR, officer, officer_id="CB-A", period="2026-10")
    assert "Nguyễn Thị An · Phường Diên Hồng" in text
    assert drilldown_view.HEATMAP in text and "'type': 'heatmap'" in text
    assert "90,00 %" in text  # 27 of 30, as the review's row
    assert "1 đánh giá cần xem lại không được tính" in text
    assert "chắc chắn trong khoảng 74,38 – 96,54 %" in text
    assert "Cùng kỳ, so với Phường Diên Hồng và Gia Lai." in text  # its unit, its province
    assert "/dashboard/officer/CB-A?period=2026-09" in text  # the month before
    assert "/dashboard/officer/CB-A?period=2026-10&flagged=1" in text  # the switch


def test_counting_the_flagged_press_changes_the_figures(app: Dash) -> None:
    text = _as(app, HR, officer, officer_id="CB-A", period="2026-10", flagged="1")
    assert "87,10 %" in text  # 27 of 31
    assert "cần xem lại không được tính" not in text


@pytest.mark.parametrize(
    ("access", "page", "query"),
    [
        (OFFICER_A, officer, {"officer_id": "CB-B"}),
        (HEAD_DH, officer, {"officer_id": "CB-C"}),
        (VIEWER, officer, {"officer_id": "CB-A"}),
        (OFFICER_A, unit, {"unit_id": "DH"}),
        (HEAD_DH, unit, {"unit_id": "XA"}),
        (VIEWER, unit, {"unit_id": "DH"}),
    ],
)
def test_a_page_outside_the_users_limits_is_refused(
    app: Dash, access: Access, page: Any, query: dict[str, str]
) -> None:
    text = _as(app, access, page, period="2026-10", **query)
    assert "Bạn không có quyền xem trang này." in text
    assert "heatmap" not in text and "Nguyễn" not in text


def test_an_officer_sees_their_own_page_without_the_units_figures(app: Dash) -> None:
    text = _as(app, OFFICER_A, officer, officer_id="CB-A", period="2026-10")
    assert "Nguyễn Thị An" in text and "'type': 'heatmap'" in text
    assert "Cán bộ chỉ xem được kết quả của chính mình." in text
    assert "Gia Lai" not in text


def test_a_unit_head_sees_their_unit(app: Dash, report_engine: Engine) -> None:
    text = _as(app, HEAD_DH, unit, unit_id="DH", period="2026-10")
    assert "Phường Diên Hồng" in text and "'type': 'heatmap'" in text
    assert "94,92 %" in text  # 56 of 59
    assert "Trưởng đơn vị chỉ xem được kết quả của đơn vị mình." in text  # no province
    assert "[Nguyễn Thị An](/dashboard/officer/CB-A?period=2026-10)" in text  # its officers
    assert "[Lê Thị Cúc]" not in text
    with Session(report_engine) as session:
        events = session.exec(select(AuditEvent).where(col(AuditEvent.actor) == "head-dh")).all()
    assert any(e.action == "report.unit" and e.target == "unit:2026-10" for e in events)


def test_unknown_ids_and_unreadable_periods_are_said(app: Dash) -> None:
    assert "Không tìm thấy." in _as(app, HR, officer, officer_id="CB-Z")
    assert "Không đọc được khoảng thời gian" in _as(app, HR, unit, unit_id="DH", period="10/2026")


def test_the_router_reads_the_path_and_the_period(app: Dash) -> None:
    client = app.server.test_client()
    client.environ_base["asgi.scope"] = {ACCESS_KEY: HR}
    client.get("/")
    body = callback_body(
        client.get("/_dash-dependencies").get_json(),
        "_pages_content",
        {
            ("_pages_location", "pathname"): "/dashboard/officer/CB-A",
            ("_pages_location", "search"): "?period=2026-10",
        },
    )
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    text = str(response.get_json())
    assert "Nguyễn Thị An" in text and "Tháng 10/2026" in text


def test_units_side_by_side(app: Dash) -> None:
    with app.server.test_request_context("/", environ_base={"asgi.scope": {ACCESS_KEY: HR}}):
        shown = compare_view.content(["DH", "XA"], "2026-10")
        one = compare_view.content(["DH"], "2026-10")
    table = shown[1].children[1]
    assert [r["ratings"] for r in table.rowData] == ["59", "40"]
    assert table.rowData[0]["unit"] == "[Phường Diên Hồng](/dashboard/unit/DH?period=2026-10)"
    assert "Chọn từ 2 đến 4 đơn vị" in str(one)
    assert "không xem được" in _as(app, HEAD_DH, compare)
