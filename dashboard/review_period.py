"""The review's period: which one the page opens on, where the arrows step, which months the
picker offers and what the page says of a period that is not over.

Pure functions of a period and today (Vietnam days), so the review flow is tested without a
browser. The report the page shows compares a running period with the same days of the one
before (server/reporting/periods.py `comparable_previous`); this module only chooses and words.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from server.reporting.periods import KINDS, Period, parse_period, period_of

PICKER_MONTHS = 24  # the month picker offers this month and the 23 before it


def last_complete_month(today: date) -> Period:
    """The month before today's: the one an HR office reviews and classifies."""
    return period_of("month", today.replace(day=1) - timedelta(days=1))


def read_period(text: str | None, today: date) -> Period:
    """The period box's text in the forms of server/reporting/periods.py (as the API's `period`);
    empty is the last complete month. Anything else is a ValueError that lists the forms."""
    if text is None or not text.strip():
        return last_complete_month(today)
    return parse_period(text)


def period_for_kind(kind: str, current: Period, today: date) -> Period:
    """The period of `kind` the kind buttons switch to: the one holding the current period's
    last day (today at the latest); a range keeps the current days, ready to edit."""
    if kind == "range":
        return period_of("range", current.start, current.end)
    return period_of(kind, min(current.end, today))


def step(period: Period, direction: int) -> Period:
    """The period of the same kind just before (direction -1) or after (+1); a range moves by
    its own length."""
    if direction < 0:
        return period.previous()
    if period.kind == "range":
        start = period.end + timedelta(days=1)
        return period_of("range", start, start + timedelta(days=period.days - 1))
    return period_of(period.kind, period.end + timedelta(days=1))


def may_step_forward(period: Period, today: date) -> bool:
    """Whether the next period has begun: the arrow stops at the one holding today."""
    return step(period, 1).start <= today


def month_choices(today: date, count: int = PICKER_MONTHS) -> list[Period]:
    """The months the picker offers, this month first, then back `count` months in all."""
    months = [period_of("month", today)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months


class Navigation(NamedTuple):
    """The period controls after a move: the period's text and kind, the month picker's value
    (None unless a month is chosen) and whether the next arrow is disabled."""

    text: str
    kind: str
    month: str | None
    next_disabled: bool


def controls_for(period: Period, today: date) -> Navigation:
    month = period.text if period.kind == "month" else None
    return Navigation(period.text, period.kind, month, not may_step_forward(period, today))


def navigate(
    move: str | None, text: str | None, kind: str | None, month: str | None, today: date
) -> Navigation:
    """Where a move of the period controls leads: `move` is "previous", "next", "kind" (to
    `kind`), "month" (to `month`, "2026-11") or anything else for the typed `text` as it is.
    A ValueError if `text` (or `month`) is no period."""
    current = read_period(text, today)
    chosen = current
    if move == "previous":
        chosen = step(current, -1)
    elif move == "next" and may_step_forward(current, today):
        chosen = step(current, 1)
    elif move == "kind" and kind in KINDS:
        chosen = period_for_kind(kind, current, today)
    elif move == "month" and month:
        chosen = parse_period(month)
    return controls_for(chosen, today)


def partial_notice(period: Period, today: date) -> tuple[str, str] | None:
    """What the banner says of a period that is not over (None once it is): its figures stop at
    today and are no basis for ranks or a classification. The page then shows neither, rather
    than marking them provisional: a class read off three days is still read as the month's
    (a rank 1 beside "Không hoàn thành nhiệm vụ" on 3 December)."""
    if period.complete(today):
        return None
    name_vi, name_en = _label_vi(period), period.label_en
    if today < period.start:
        return (
            f"{name_vi} chưa bắt đầu nên chưa có số liệu.",
            f"{name_en} has not begun: there are no figures yet.",
        )
    return (
        f"{name_vi} chưa kết thúc: số liệu mới tính đến ngày {today:%d/%m/%Y}, nên chưa xếp hạng "
        "và chưa gợi ý xếp loại. Mức thay đổi được so sánh với cùng số ngày đầu của kỳ trước.",
        f"{name_en} is not over: figures run to {today:%d/%m/%Y}, so nobody is ranked or "
        "classed yet. The change compares with as many days of the period before.",
    )


def _label_vi(period: Period) -> str:
    """ "Tháng 12/2026", or for a range "Khoảng 01/12/2026 – 14/12/2026"."""
    return f"Khoảng {period.label_vi}" if period.kind == "range" else period.label_vi


def compared_with(previous_label_vi: str) -> str:
    """The change column's heading, naming what it compares with: "So với tháng 10/2026",
    "So với 01/11/2026 – 03/11/2026"."""
    return f"So với {lower_first(previous_label_vi)}"


def lower_first(text: str) -> str:
    """ "Tháng 10/2026" inside a sentence: "tháng 10/2026"; a range's digits stay as they are."""
    return text[:1].lower() + text[1:]
