"""The words around a report: its headline numbers, its caption, the policy's rules and the
names of the roles, in Vietnamese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dashboard.review_grid import EXPLAIN, dissatisfied
from dashboard.review_period import lower_first
from dashboard.tables import format_count, format_decimal, format_pct
from server.policy import Policy

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "admin": ("Quản trị", "Administrator"),
    "hr": ("Phòng Nội vụ", "HR office"),
    "unit_head": ("Trưởng đơn vị", "Unit head"),
    "officer": ("Cán bộ", "Officer"),
    "viewer": ("Người xem", "Viewer"),
}


# --- headline numbers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A report's total as display text."""

    ratings: str
    satisfied_pct: str
    happy_index: str
    dissatisfied: str
    flagged: str


def summary(total: Mapping[str, Any]) -> Summary:
    return Summary(
        ratings=format_count(total["ratings"]),
        satisfied_pct=format_pct(total["satisfied_pct"]),
        happy_index=format_decimal(total["happy_index"]),
        dissatisfied=format_count(dissatisfied(total)),
        flagged=format_count(total["flagged"]),
    )


# The headline figures' one-sentence explanations, Vietnamese then English.
KPI_EXPLAIN: dict[str, tuple[str, str]] = {
    "ratings": EXPLAIN["ratings"],
    "satisfied": (
        "Phần trăm lượt đánh giá ở mức «Hài lòng» hoặc «Rất hài lòng»; thanh bên dưới cho biết "
        "tỷ lệ thực gần như chắc chắn nằm trong khoảng nào.",
        "The share of ratings at Satisfied or Very satisfied; the bar shows the range the true "
        "share is almost certainly in.",
    ),
    "happy": EXPLAIN["happy_index"],
    "dissatisfied": (
        "Số lượt chọn mức thấp nhất, «Không hài lòng»: những trường hợp nên xem lại trước tiên.",
        "How many ratings were Dissatisfied, the lowest level: the cases to look at first.",
    ),
    "flagged": EXPLAIN["flagged"],
}


@dataclass(frozen=True)
class Caption:
    """What a report is of and by which policy, in both languages."""

    vi: str
    en: str


def caption(content: Mapping[str, Any]) -> Caption:
    period, previous = content["period"], content["previous"]
    policy = content["policy_version"]
    if content["policy_name"]:
        policy = f"{policy} ({content['policy_name']})"
    days = "" if period["kind"] == "range" else f" ({_day(period['start'])}–{_day(period['end'])})"
    vi = (
        f"{period['label_vi']}{days} · so với {lower_first(previous['label_vi'])}"
        f" · chính sách {policy} · cần ít nhất {content['min_ratings']} lượt đánh giá để xếp hạng"
    )
    en = (
        f"{period['label_en']} · compared with {previous['label_en']} · policy {policy}"
        f" · ranked from {content['min_ratings']} ratings"
    )
    if content["include_flagged"]:
        vi += " · tính cả đánh giá có dấu hiệu bất thường"
        en += " · ratings with signs of misuse included"
    return Caption(vi, en)


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def policy_rules(policy: Policy) -> list[str]:
    """The classification rules in order, as the reviewer reads them: the first rule met
    applies, the last has no conditions."""
    return [f"{rule.label_vi}: {rule.text('vi')}" for rule in policy.classification]
