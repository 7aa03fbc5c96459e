"""The review's period, pure: the last complete month by default, the arrows, the month picker, the
notice of a period not over and the change column's heading."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import review_period
from dashboard.review_period import Navigation, navigate
from server.reporting.periods import parse_period

DEC_3 = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 12, 3), "2026-11"),
        (date(2026, 12, 1), "2026-11"),
        (date(2026, 11, 30), "2026-10"),
        (date(2027, 1, 1), "2026-12"),
    ],
)
def test_the_review_opens_on_the_last_complete_month(today: date, month: str) -> None:
    assert review_period.last_complete_month(today).text == month
    assert review_period.read_period(None, today).text == month
    assert review_period.read_period("  ", today).text == month


def test_a_typed_period_is_read_as_the_api_reads_it() -> None:
    assert review_period.read_period("2026-Q4", DEC_3) == parse_period("2026-Q4")
    with pytest.raises(ValueError, match="2026-10-05"):
        review_period.read_period("last month", DEC_3)


@pytest.mark.parametrize(
    ("text", "before", "after"),
    [
        ("2026-11", "2026-10", "2026-12"),
        ("2026-01", "2025-12", "2026-02"),
        ("2026-Q1", "2025-Q4", "2026-Q2"),
        ("2026", "2025", "2027"),
        ("2026-03-01", "2026-02-28", "2026-03-02"),
        # a range moves by its own length: 10 days
        ("2026-11-01..2026-11-10", "2026-10-22..2026-10-31", "2026-11-11..2026-11-20"),
    ],
)
def test_the_arrows_step_by_the_periods_kind(text: str, before: str, after: str) -> None:
    period = parse_period(text)
    assert review_period.step(period, -1) == parse_period(before)
    assert review_period.step(period, 1) == parse_period(after)


def test_next_stops_at_the_period_holding_today() -> None:
    assert review_period.may_step_forward(parse_period("2026-11"), DEC_3)
    assert not review_period.may_step_forward(parse_period("2026-12"), DEC_3)
    assert not review_period.may_step_forward(parse_period("2026-Q4"), DEC_3)
    assert review_period.may_step_forward(parse_period("2026-12-02"), DEC_3)
    assert not review_period.may_step_forward(parse_period("2026-12-03"), DEC_3)


def test_navigate() -> None:
    november = Navigation("2026-11", "month", "2026-11", False)
    december = Navigation("2026-12", "month", "2026-12", True)
    assert navigate("next", "2026-11", "month", "2026-11", DEC_3) == december
    assert navigate("next", "2026-12", "month", "2026-12", DEC_3) == december  # stays
    assert navigate("previous", "2026-12", "month", None, DEC_3) == november
    assert navigate("month", "2026-12", "month", "2026-11", DEC_3) == november
    # a kind holds the period's last day: November's quarter is the running Q4
    assert navigate("kind", "2026-11", "quarter", "2026-11", DEC_3) == Navigation(
        "2026-Q4", "quarter", None, True
    )
    assert navigate("typed", "2026-Q3", "month", "2026-11", DEC_3) == Navigation(
        "2026-Q3", "quarter", None, False
    )
    with pytest.raises(ValueError):
        navigate("typed", "not a period", "month", None, DEC_3)


def test_the_month_picker_offers_this_month_and_the_23_before() -> None:
    months = review_period.month_choices(DEC_3)
    assert len(months) == 24
    assert (months[0].text, months[1].text, months[-1].text) == ("2026-12", "2026-11", "2025-01")
    assert months[1].label_vi == "Tháng 11/2026"


def test_the_notice_of_a_period_not_over() -> None:
    assert review_period.partial_notice(parse_period("2026-11"), DEC_3) is None
    vi, en = review_period.partial_notice(parse_period("2026-12"), DEC_3) or ("", "")
    assert vi.startswith("Tháng 12/2026 chưa kết thúc: số liệu mới tính đến ngày 03/12/2026")
    assert "chưa xếp hạng" in vi and "chưa gợi ý xếp loại" in vi
    assert en.startswith("December 2026 is not over")
    not_begun = review_period.partial_notice(parse_period("2027-01"), DEC_3)
    assert (
        not_begun is not None and not_begun[0] == "Tháng 1/2027 chưa bắt đầu nên chưa có số liệu."
    )
    ranged = review_period.partial_notice(parse_period("2026-11-20..2026-12-10"), DEC_3)
    assert ranged is not None and ranged[0].startswith("Khoảng 20/11/2026 – 10/12/2026 chưa kết")


def test_the_change_column_names_what_it_compares_with() -> None:
    assert review_period.compared_with("Tháng 10/2026") == "So với tháng 10/2026"
    assert review_period.compared_with("Quý 3/2026") == "So với quý 3/2026"
    assert (
        review_period.compared_with("01/11/2026 – 03/11/2026") == "So với 01/11/2026 – 03/11/2026"
    )
