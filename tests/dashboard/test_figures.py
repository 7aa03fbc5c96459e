"""The pure figure functions: the traces, records and texts they build from real report rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dashboard import figures
from dashboard.queries import DeviceRow
from hailong.protocol import SCALES
from server.reports import DayRow, OfficerRow
from server.reports import figures as report_figures

START, END = date(2026, 11, 1), date(2026, 11, 30)


def day(d: int, **levels: int) -> DayRow:
    """A day row whose figures come from server.reports; levels as vn4_<score>=n."""
    counts = {("vn4", int(k[-1])): n for k, n in levels.items()}
    return DayRow(date(2026, 11, d), report_figures(counts))


def officer(
    officer_id: str, name: str, unit_id: str, counts: dict[tuple[str, int], int]
) -> OfficerRow:
    return OfficerRow(officer_id, name, unit_id, None, report_figures(counts))


# --- satisfaction over time -----------------------------------------------------------------


def test_chart_has_counts_as_bars_on_the_second_axis_and_both_figures_as_lines() -> None:
    days = [day(3, vn4_1=1, vn4_4=3), day(5, vn4_2=2, vn4_3=2)]

    fig = figures.satisfaction_figure(days, START, END)

    bars, satisfied, happy = fig.data
    assert bars.type == "bar"
    assert list(bars.x) == [date(2026, 11, 3), date(2026, 11, 5)]
    assert list(bars.y) == [4, 4]
    assert bars.yaxis == "y2"
    assert satisfied.type == happy.type == "scatter"
    assert list(satisfied.y) == [75.0, 50.0]
    assert list(happy.y) == [75.0, pytest.approx(50.0)]
    assert satisfied.yaxis == happy.yaxis == "y"
    assert "Tỷ lệ hài lòng" in satisfied.name and "Satisfied %" in satisfied.name
    assert "Chỉ số hài lòng" in happy.name and "Happy index" in happy.name


def test_chart_shows_the_whole_period_day_first_with_a_decimal_comma() -> None:
    fig = figures.satisfaction_figure([day(10, vn4_4=1)], START, END)

    low, high = fig.layout.xaxis.range
    assert str(low).startswith("2026-10-31") and str(high).startswith("2026-11-30")
    assert fig.layout.xaxis.tickformat == "%d/%m"
    assert fig.layout.separators == ",."
    assert list(fig.layout.yaxis.range) == [0, 105]


def test_bars_stay_in_the_lower_third_with_round_ticks() -> None:
    fig = figures.satisfaction_figure([day(1, vn4_3=40), day(2, vn4_4=113)], START, END)

    assert list(fig.layout.yaxis2.range) == [0, 339]
    assert list(fig.layout.yaxis2.tickvals) == [0, 50, 100]


@pytest.mark.parametrize(
    ("highest", "step"), [(1, 1), (3, 1), (4, 2), (9, 5), (113, 50), (337, 100), (1001, 500)]
)
def test_count_tick_step(highest: int, step: int) -> None:
    assert figures.count_tick_step(highest) == step


def test_no_days_gives_the_empty_state_not_an_empty_chart() -> None:
    fig = figures.satisfaction_figure([], START, END)

    assert fig.data == ()
    (note,) = fig.layout.annotations
    assert "Chưa có đánh giá trong khoảng thời gian này" in note.text
    assert "No ratings in this period" in note.text
    assert fig.layout.xaxis.visible is False


# --- headline numbers -----------------------------------------------------------------------


def test_summary_formats_the_vietnamese_way() -> None:
    period = report_figures({("vn4", 4): 1000, ("vn4", 3): 167, ("vn4", 1): 67})

    headline = figures.summary(period)

    assert headline.ratings == "1.234"
    assert headline.satisfied_pct == "94,6%"  # 1167 / 1234 = 94.57 %
    assert headline.happy_index == "90,1"  # (1000·100 + 167·66.7) / 1234


def test_summary_of_an_empty_period_shows_dashes() -> None:
    headline = figures.summary(report_figures({}))

    assert (headline.ratings, headline.satisfied_pct, headline.happy_index) == ("0", "—", "—")


# --- officers' table ------------------------------------------------------------------------


def test_officer_records_best_satisfied_first_and_officers_without_ratings_last() -> None:
    rows = [
        officer("CB-1", "Trần Văn Minh", "U1", {("vn4", 1): 1, ("vn4", 4): 1}),
        officer("CB-2", "Nguyễn Thị Hương", "U2", {("vn4", 3): 3, ("vn4", 4): 1}),
        officer("CB-3", "Lê Thị Thu Hà", "U1", {}),
    ]

    records = figures.officer_records(rows, {"U1": "UBND Quận 1", "U2": "Phường Bến Nghé"})

    assert [r["name"] for r in records] == ["Nguyễn Thị Hương", "Trần Văn Minh", "Lê Thị Thu Hà"]
    best = records[0]
    assert best["unit"] == "Phường Bến Nghé"
    assert best["ratings"] == 4
    assert [best[f"level_{i}"] for i in range(1, 5)] == [0, 0, 3, 1]
    assert best["satisfied_pct"] == 100.0
    assert best["happy_index"] == pytest.approx(75.0)
    assert records[2]["satisfied_pct"] is None and records[2]["ratings"] == 0


def test_equal_satisfied_pct_is_broken_by_happy_index() -> None:
    rows = [
        officer("CB-1", "A", "U1", {("vn4", 3): 2}),
        officer("CB-2", "B", "U1", {("vn4", 4): 2}),
    ]

    assert [r["name"] for r in figures.officer_records(rows, {})] == ["B", "A"]


def test_unknown_unit_shows_its_id() -> None:
    (record,) = figures.officer_records([officer("CB-1", "A", "U9", {})], {})
    assert record["unit"] == "U9"


def test_officer_columns_have_vietnamese_over_english_headers_and_one_column_per_level() -> None:
    columns = figures.officer_columns(SCALES["vn4"])

    by_id = {c["id"]: c for c in columns}
    assert list(by_id) == [
        "name", "unit", "ratings", "level_1", "level_2", "level_3", "level_4",
        "satisfied_pct", "happy_index",
    ]  # fmt: skip
    assert by_id["name"]["name"] == ["Cán bộ", "Officer"]
    assert by_id["level_4"]["name"] == ["Rất hài lòng", "Very satisfied"]
    assert by_id["satisfied_pct"]["format"]["locale"]["decimal"] == ","
    assert by_id["satisfied_pct"]["format"]["locale"]["symbol"] == ["", "%"]
    assert by_id["happy_index"]["format"]["nully"] == "—"


def test_level_headers_follow_the_scale_of_the_rows() -> None:
    vn3_only = [officer("CB-1", "A", "U1", {("vn3", 2): 1})]

    assert figures.level_scale(vn3_only).code == "vn3"
    assert figures.level_scale([]).code == "vn4"
    level_ids = [c["id"] for c in figures.officer_columns(SCALES["vn3"]) if "level" in c["id"]]
    assert level_ids == ["level_1", "level_2", "level_3"]


def test_has_ratings() -> None:
    assert not figures.has_ratings([])
    assert not figures.has_ratings([officer("CB-1", "A", "U1", {})])
    assert figures.has_ratings([officer("CB-1", "A", "U1", {("vn4", 1): 1})])


# --- devices --------------------------------------------------------------------------------


def device(**overrides: object) -> DeviceRow:
    fields: dict[str, object] = {
        "id": "HL-01",
        "counter_id": "Q-01",
        "counter_name": "Quầy số 1",
        "unit_name": "UBND Quận 1",
        "state": "online",
        "last_seen_at": datetime(2026, 11, 20, 1, 5, tzinfo=UTC),
        "outbox": 0,
        "firmware": "1.2.0",
        "revoked_at": None,
    }
    return DeviceRow(**{**fields, **overrides})  # type: ignore[arg-type]


def test_device_records_show_vietnam_time_and_bilingual_states() -> None:
    online, offline, never, revoked = figures.device_records(
        [
            device(),
            device(id="HL-02", state="offline", outbox=37),
            device(id="HL-03", state=None, last_seen_at=None, firmware=None, outbox=None),
            device(id="HL-99", revoked_at=datetime(2026, 8, 27, 20, 0, tzinfo=UTC)),
        ]
    )

    assert online["counter"] == "Quầy số 1 · UBND Quận 1"
    assert online["state"] == "Trực tuyến (online)"
    assert online["last_seen"] == "2026-11-20 08:05"  # 01:05 UTC is 08:05 in Vietnam
    assert online["revoked"] == "—"
    assert offline["state"] == "Mất kết nối (offline)" and offline["outbox"] == 37
    assert never["state"] == "Chưa kết nối (never seen)" and never["state_code"] == "unknown"
    assert (never["last_seen"], never["firmware"], never["outbox"]) == ("—", "—", None)
    assert revoked["state"] == "Đã thu hồi (revoked)" and revoked["state_code"] == "revoked"
    assert revoked["revoked"] == "2026-08-28 03:00"


def test_naive_times_are_read_as_utc() -> None:
    assert figures.format_vn_time(datetime(2026, 11, 20, 17, 30)) == "2026-11-21 00:30"
