"""The pure figure functions: the traces, records and texts they build from real report rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from dashboard import captions, figures, review_grid, tables
from dashboard.queries import DeviceRow
from devtools.figures import level_figures as report_figures
from server.access.roles import Access
from server.policy import load_policy
from server.reporting import report_json, reports
from server.reporting.periods import parse_period
from server.reporting.reports import Counts, DayRow, Entity, Query
from server.reporting.scoring import LevelTally
from server.reporting.vietnamese import signed as format_change

START, END = date(2026, 11, 1), date(2026, 11, 30)
OCTOBER = parse_period("2026-10")
POLICY = load_policy(None)  # min_ratings 30; "completed" from a Wilson lower bound of 60 %


def day(d: int, **levels: int) -> DayRow:
    """A day row whose figures come from server.reporting.reports; levels as vn4_<score>=n."""
    counts = {("vn4", int(k[-1])): n for k, n in levels.items()}
    return DayRow(date(2026, 11, d), report_figures(counts))


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


# --- numbers --------------------------------------------------------------------------------


def test_numbers_have_a_decimal_comma_two_decimals_and_dots_between_thousands() -> None:
    assert tables.format_count(1234567) == "1.234.567"
    assert tables.format_decimal(1234.5) == "1.234,50"
    assert tables.format_decimal(84.444) == "84,44"
    assert tables.format_pct(90.0) == "90,00 %"
    assert review_grid.certain_text(74.38, 96.54) == "74,38 – 96,54 %"
    assert format_change(10.0) == "+10,00"
    assert format_change(-2.5) == "-2,50"
    assert format_change(0.0) == "0,00"
    nothing = (
        tables.format_count(None),
        tables.format_pct(None),
        review_grid.certain_text(None, None),
        format_change(None),
    )
    assert nothing == ("—", "—", "—", "—")


# --- a report, built from counts as server.reporting.reports builds it
# ------------------------------


def tally(**levels: int) -> Counts:
    """vn4 counts as level_<score>=n; flagged_<score>=n of them flagged as misuse."""
    made: dict[tuple[str, int], LevelTally] = {}
    for score in range(1, 5):
        n, flagged = levels.get(f"level_{score}", 0), levels.get(f"flagged_{score}", 0)
        if n:
            made[("vn4", score)] = LevelTally(n, flagged)
    return Counts(levels=made)


def officers_content(include_flagged: bool = False) -> dict[str, Any]:
    """CB-A 27 of 30 satisfied (and one flagged) after 8 of 10 in September; CB-B 29 of 29,
    below the minimum of 30; CB-C 36 of 40; CB-D nothing. Figures as
    tests/server/reporting/test_reports.py works them out by hand."""
    entities = [
        Entity("CB-A", "Nguyễn Thị An", "DH", None, ("CB-A",)),
        Entity("CB-B", "Trần Văn Bình", "DH", None, ("CB-B",)),
        Entity("CB-C", "Lê Thị Cúc", "XA", None, ("CB-C",)),
        Entity("CB-D", "Đỗ Văn Dũng", "XA", None, ("CB-D",)),
    ]
    current = {
        "CB-A": tally(level_4=20, level_3=7, level_2=2, level_1=2, flagged_1=1),
        "CB-B": tally(level_4=29),
        "CB-C": tally(level_4=36, level_1=4),
    }
    before = {"CB-A": tally(level_4=6, level_3=2, level_1=2)}
    query = Query("officer", OCTOBER, include_flagged=include_flagged)
    made = reports.build_report(query, OCTOBER.previous(), entities, current, before, POLICY)
    return made.as_dict()


UNITS = {"DH": "Phường Diên Hồng", "XA": "Xã An"}


def records(content: dict[str, Any], settled: bool = True) -> dict[str, dict[str, Any]]:
    rows = tables.report_rows(content)
    made = review_grid.records(rows, content["scope"], UNITS, OCTOBER, settled=settled)
    return {r["id"]: r for r in made}


def test_a_satisfied_share_is_shown_with_how_sure_it_is() -> None:
    a = records(officers_content())["CB-A"]

    assert (a["satisfied_pct"], a["satisfied_pct_text"]) == (90.0, "90,00 %")
    assert (a["certain"], a["certain_text"]) == (74.38, "74,38 – 96,54 %")
    assert (a["unit"], a["ratings"], a["ratings_text"], a["happy_index_text"]) == (
        "Phường Diên Hồng",
        30,
        "30",
        "84,44",
    )
    assert a["dissatisfied"] == 1  # the flagged level 1 is left out


def test_an_officers_name_links_to_their_page_for_the_same_period() -> None:
    a = records(officers_content())["CB-A"]
    assert a["name"] == "[Nguyễn Thị An](/dashboard/officer/CB-A?period=2026-10)"
    assert review_grid.page_href("unit", "DH", OCTOBER) == "/dashboard/unit/DH?period=2026-10"
    assert review_grid.page_href("counter", "DH-Q1", OCTOBER) is None
    counter = {"counter_id": "DH-Q1", "name": "Quầy 1 (tầng 2)", **officers_content()["total"]}
    (shown,) = review_grid.records(
        [counter | {"rank": None, "ranked": False}], "counter", UNITS, OCTOBER
    )
    assert shown["name"] == "Quầy 1 (tầng 2)"  # plain text, no markdown in this column
    assert review_grid.page_href("officer", "CB A/1", OCTOBER, "/p") == (
        "/p/officer/CB%20A%2F1?period=2026-10"
    )


def test_fewer_ratings_than_the_minimum_is_not_enough_data_and_not_classified() -> None:
    by_id = records(officers_content())

    assert by_id["CB-B"]["certain_text"] == "88,30 – 100,00 %"
    assert (by_id["CB-B"]["rank"], by_id["CB-B"]["rank_text"]) == (None, "chưa đủ dữ liệu")
    assert by_id["CB-B"]["classification"] == "chưa đủ dữ liệu"
    assert (by_id["CB-C"]["rank"], by_id["CB-A"]["rank"]) == (1, 2)  # 76,95 above 74,38
    assert by_id["CB-D"]["satisfied_pct_text"] == "—"
    assert by_id["CB-D"]["rank_text"] == "chưa đủ dữ liệu"
    assert by_id["CB-D"]["classification"] == "—"  # no ratings at all


def test_a_period_not_over_ranks_and_classes_nobody() -> None:
    a = records(officers_content(), settled=False)["CB-A"]
    assert (a["rank"], a["rank_text"]) == (None, "Chưa xếp hạng (kỳ chưa kết thúc)")
    assert (a["classification"], a["rule"]) == ("Chưa gợi ý (kỳ chưa kết thúc)", "—")
    assert a["satisfied_pct_text"] == "90,00 %"  # the figures themselves stay


def test_the_suggested_class_is_printed_with_the_rule_that_gave_it() -> None:
    a = records(officers_content())["CB-A"]

    assert a["classification"] == "Hoàn thành tốt nhiệm vụ"
    rule = "Tỷ lệ hài lòng từ 78 % trở lên và tỷ lệ “Không hài lòng” không quá 5 %"
    assert a["rule"] == rule  # the class and the policy are named apart
    assert a["suggestion"] == f"**Hoàn thành tốt nhiệm vụ**  \nCăn cứ: {rule}"
    assert captions.policy_rules(POLICY)[0] == (
        "Hoàn thành xuất sắc nhiệm vụ: tỷ lệ hài lòng từ 88 % trở lên, tỷ lệ “Không hài lòng” "
        "không quá 3 % và có ít nhất 100 đánh giá"
    )
    assert captions.policy_rules(POLICY)[2] == (
        "Không hoàn thành nhiệm vụ: ngay cả ước tính cao nhất của tỷ lệ hài lòng cũng không quá "
        "60 % và có ít nhất 100 đánh giá"
    )
    assert captions.policy_rules(POLICY)[-1] == "Hoàn thành nhiệm vụ: các trường hợp còn lại"


def test_flagged_ratings_are_counted_apart_and_only_scored_when_asked() -> None:
    left_out, included = records(officers_content()), records(officers_content(True))

    assert left_out["CB-A"]["flagged"] == included["CB-A"]["flagged"] == 1
    assert (left_out["CB-A"]["ratings"], included["CB-A"]["ratings"]) == (30, 31)
    assert included["CB-A"]["satisfied_pct_text"] == "87,10 %"  # 27 / 31


def test_the_response_rate_and_the_channels_are_shown_where_known() -> None:
    d = records(officers_content())["CB-D"]
    assert (d["response_rate_text"], d["channels"]) == ("—", "—")  # no service, no rating
    row = officers_content()["officers"][0]
    channels = {"button": 1200, "touch": 0, "keyboard": 0, "web": 8, "paper": 3}
    (shown,) = review_grid.records(
        [{**row, "response_rate": 83.33, "channels": channels}], "officer", UNITS, OCTOBER
    )
    assert (shown["response_rate"], shown["response_rate_text"]) == (83.33, "83,33 %")
    assert shown["channels"] == "Nút 1.200 · Web 8 · Giấy 3"
    hidden = {**row, "channels": {}, "response_rate": None}  # a viewer's hidden row
    (shown,) = review_grid.records([hidden], "officer", UNITS, OCTOBER)
    assert (shown["channels"], shown["response_rate_text"]) == ("—", "—")


def test_the_change_is_in_points_against_the_previous_period() -> None:
    by_id = records(officers_content())

    assert (by_id["CB-A"]["change"], by_id["CB-A"]["change_text"]) == (10.0, "+10,00")
    assert by_id["CB-C"]["change_text"] == "—"  # no ratings in September


def test_the_grid_opens_in_rank_order() -> None:
    rows = review_grid.rank_order(tables.report_rows(officers_content()))
    # the unranked as the report lists them
    assert [r["officer_id"] for r in rows] == ["CB-C", "CB-A", "CB-B", "CB-D"]


def test_columns_per_report() -> None:
    def fields(scope: report_json.Scope) -> list[str]:
        return [c["field"] for c in review_grid.columns(scope)]

    first = ["ratings", "dissatisfied", "satisfied_pct", "certain", "change", "rank"]
    then = ["happy_index", "response_rate", "channels", "flagged", "flags"]
    assert fields("officer") == ["name", "unit", *first, "suggestion", *then]
    assert fields("counter") == ["name", "unit", *first, *then]
    assert fields("field") == fields("unit") == ["name", *first, *then]
    (name, *_) = review_grid.columns("officer")
    assert (name["headerName"], name["cellRenderer"]) == ("Cán bộ · Officer", "markdown")
    assert "cellRenderer" not in review_grid.columns("counter")[0]
    change = review_grid.columns("officer", ("So với tháng 9/2026", "vs September 2026"))[6]
    assert change["headerName"] == "So với tháng 9/2026 (điểm %) · vs September 2026 (pp)"
    # a number is shown as the text made for it, so the grid sorts by the number
    assert change["valueFormatter"] == {"function": "params.data.change_text"}


def test_every_column_after_the_name_is_explained_in_one_sentence() -> None:
    for scope in report_json.SCOPES:
        explained = review_grid.explained_columns(scope)
        assert [h for h, _, _ in explained] == [
            review_grid.HEADINGS[f][0] for f in review_grid.fields(scope)
        ]
        assert all(vi.endswith(".") and vi.count(". ") == 0 for _, vi, _ in explained)


def test_rows_without_names_show_none() -> None:
    """A viewer's officer rows, as the API redacts them, carry no id, no name and no link."""
    content = officers_content()
    redacted = Access("viewer", "v").redact(content["officers"])

    shown = review_grid.records(redacted, "officer", UNITS, OCTOBER)

    assert all("id" not in r and r["name"] == "—" for r in shown)


# --- headline numbers and what the report is of -----------------------------------------------


def test_summary_is_the_reports_total() -> None:
    total = officers_content()["total"]

    headline = captions.summary(total)

    assert headline.ratings == "99"  # 30 + 29 + 40 + 0, the flagged one left out
    assert headline.satisfied_pct == "92,93 %"  # (27 + 29 + 36) / 99
    assert headline.dissatisfied == "5"  # CB-A's 1 (the flagged one left out), CB-C's 4
    # (2533,33 + 2900 + 3600) / 99: CB-A's as in test_reports.py, CB-B's 29 × 100, CB-C's 36 × 100
    assert headline.happy_index == "91,25"
    assert headline.flagged == "1"


def test_summary_of_an_empty_period_shows_dashes() -> None:
    empty = report_json.row_dict(reports.Row("", "", "", None, report_figures({})), None)

    headline = captions.summary(empty)

    assert (headline.ratings, headline.satisfied_pct, headline.happy_index) == ("0", "—", "—")
    assert headline.dissatisfied == "0"


def test_caption_names_the_period_the_comparison_and_the_policy() -> None:
    caption = captions.caption(officers_content(include_flagged=True))

    assert caption.vi == (
        "Tháng 10/2026 (01/10/2026–31/10/2026) · so với tháng 9/2026 · chính sách "
        "2026-12-vi-du-3 (Chính sách mẫu / Example policy) · cần ít nhất 30 lượt đánh giá để "
        "xếp hạng · tính cả đánh giá có dấu hiệu bất thường"
    )
    assert caption.en.startswith("October 2026 · compared with September 2026 · policy 2026-12")


# --- reasons ----------------------------------------------------------------------------------


def test_reasons_chart_shows_each_reasons_share_most_given_on_top() -> None:
    total = {
        "reasons": {"wait_time": 75.0, "attitude": 25.0},
        "reason_counts": {"wait_time": 3, "attitude": 1},
    }

    (bars,) = figures.reasons_figure(total).data

    assert bars.orientation == "h"
    assert list(bars.y) == ["Chờ đợi lâu", "Thái độ chưa tốt"]
    assert list(bars.x) == [75.0, 25.0]
    assert list(bars.text) == ["75,00 % (3)", "25,00 % (1)"]
    assert list(bars.customdata) == ["Long wait", "Poor attitude"]


def test_under_the_reasons_chart_a_line_says_what_buttons_reached_before_the_update() -> None:
    total = {"reasons": {"guidance": 100.0}, "reason_counts": {"guidance": 2}}

    note = figures.reasons_figure(total).layout.title

    assert note.text.startswith("Trước khi cập nhật thiết bị, nút bấm chỉ chọn được 3 lý do đầu.")
    assert "buttons reached only the first 3 reasons" in note.text
    assert (note.yref, note.yanchor) == ("container", "bottom")  # under the plot, not over it


def test_no_reasons_gives_its_own_empty_state() -> None:
    fig = figures.reasons_figure({"reasons": {}, "reason_counts": {}})

    assert fig.data == ()
    assert "Chưa có lý do nào được chọn" in fig.layout.annotations[0].text


# --- alerts -----------------------------------------------------------------------------------


# --- devices --------------------------------------------------------------------------------


def device(**overrides: object) -> DeviceRow:
    fields: dict[str, object] = {
        "id": "HL-01",
        "counter_id": "Q-01",
        "counter_name": "Quầy số 1",
        "unit_name": "Phường Sài Gòn",
        "state": "online",
        "last_seen_at": datetime(2026, 11, 20, 1, 5, tzinfo=UTC),
        "outbox": 0,
        "firmware": "1.2.0",
        "revoked_at": None,
    }
    return DeviceRow(**{**fields, **overrides})  # type: ignore[arg-type]


def test_device_records_show_vietnam_time_and_bilingual_states() -> None:
    online, offline, never, revoked = tables.device_records(
        [
            device(),
            device(id="HL-02", state="offline", outbox=37, rejected_dropped=1200),
            device(id="HL-03", state=None, last_seen_at=None, firmware=None, outbox=None),
            device(id="HL-99", revoked_at=datetime(2026, 8, 27, 20, 0, tzinfo=UTC)),
        ]
    )

    assert online["counter"] == "Quầy số 1 · Phường Sài Gòn"
    assert online["state"] == "Trực tuyến (online)"
    assert online["last_seen"] == "2026-11-20 08:05"  # 01:05 UTC is 08:05 in Vietnam
    assert online["revoked"] == "—"
    assert offline["state"] == "Mất kết nối (offline)" and offline["outbox"] == 37
    assert (offline["rejected_dropped"], online["rejected_dropped"]) == (1200, 0)
    assert never["state"] == "Chưa kết nối (never seen)" and never["state_code"] == "unknown"
    assert (never["last_seen"], never["firmware"], never["outbox"]) == ("—", "—", None)
    assert revoked["state"] == "Đã thu hồi (revoked)" and revoked["state_code"] == "revoked"
    assert revoked["revoked"] == "2026-08-28 03:00"


def test_naive_times_are_read_as_utc() -> None:
    assert tables.format_vn_time(datetime(2026, 11, 20, 17, 30)) == "2026-11-21 00:30"


def test_device_records_show_the_missing_seqs() -> None:
    many = tuple((10 * k, 10 * k + 1) for k in range(1, 13))
    gaps, none, scattered = tables.device_records(
        [
            device(missing_seqs=4, missing_seq_ranges=((3, 4), (6, 6), (8, 8))),
            device(id="HL-02"),
            device(id="HL-03", missing_seqs=24, missing_seq_ranges=many),
        ]
    )
    assert (gaps["missing"], gaps["missing_ranges"]) == (4, "3–4, 6, 8")
    assert (none["missing"], none["missing_ranges"]) == (0, "—")
    assert scattered["missing_ranges"].endswith("100–101, …")
