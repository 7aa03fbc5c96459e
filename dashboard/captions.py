"""The words around a report: its headline numbers, its caption, the policy's rules and the
names of the roles, in Vietnamese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dashboard.tables import format_count, format_decimal, format_interval, format_pct
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
    interval: str
    happy_index: str
    flagged: str


def summary(total: Mapping[str, Any]) -> Summary:
    return Summary(
        ratings=format_count(total["ratings"]),
        satisfied_pct=format_pct(total["satisfied_pct"]),
        interval=f"KTC 95 %: {format_interval(total['wilson_low'], total['wilson_high'])}",
        happy_index=format_decimal(total["happy_index"]),
        flagged=format_count(total["flagged"]),
    )


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
        f"{period['label_vi']}{days} · so với {previous['label_vi']} · chính sách {policy}"
        f" · xếp hạng từ {content['min_ratings']} đánh giá"
    )
    en = (
        f"{period['label_en']} · compared with {previous['label_en']} · policy {policy}"
        f" · ranked from {content['min_ratings']} ratings"
    )
    if content["include_flagged"]:
        vi += " · tính cả đánh giá bị gắn cờ"
        en += " · flagged ratings included"
    return Caption(vi, en)


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def policy_rules(policy: Policy) -> list[str]:
    """The classification rules in order, as the reviewer reads them: the first rule met
    applies, the last has no conditions."""
    return [f"{rule.label_vi}: {rule.text('vi')}" for rule in policy.classification]
