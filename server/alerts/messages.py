"""What people read of an alert: the Vietnamese message each rule writes, and alerts as rows of
the dashboard's table.

A message names the unit and counter or device, how many ratings and when, in Vietnam time; it
is cut to what the alert's `message` column holds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from server.alerts.rules import Burst
from server.reporting import vietnamese
from server.timeutil import VN_TZ

MESSAGE_CHARS = 500


def _vn(moment: datetime, fmt: str) -> str:
    return moment.astimezone(VN_TZ).strftime(fmt)


def _counter_label(name: str) -> str:
    return name if name.lower().startswith("quầy") else f"quầy {name}"


def counter_message(burst: Burst, window_minutes: int, counter_name: str, unit_name: str) -> str:
    return (
        f"{burst.ratings} đánh giá Không hài lòng tại {_counter_label(counter_name)} "
        f"({unit_name}) trong {window_minutes} phút, {_vn(burst.start, '%H:%M')}–"
        f"{_vn(burst.end, '%H:%M')} ngày {_vn(burst.start, '%d/%m/%Y')}"
    )[:MESSAGE_CHARS]


def unit_message(unit_name: str, day: date, pct: float, threshold_pct: float, n: int) -> str:
    return (
        f"Tỷ lệ hài lòng của {unit_name} ngày {day:%d/%m/%Y}: {vietnamese.short(pct)} % "
        f"(dưới {vietnamese.short(threshold_pct)} %), {n} đánh giá"
    )[:MESSAGE_CHARS]


def order_message(
    burst: Burst,
    device_id: str,
    counter_name: str,
    unit_name: str,
    pressed: tuple[datetime, datetime],
    per_flag: Mapping[str, int],
) -> str:
    """What the unit head reads: which unit, how many, when they came and which days they
    claim (the days whose figures they would have moved), and which order rule each broke."""
    first, last = (_vn(p, "%d/%m/%Y") for p in pressed)
    claimed = first if first == last else f"{first}–{last}"
    rules = ", ".join(f"{name} {n}" for name, n in per_flag.items())
    return (
        f"Đánh giá sai thứ tự trên thiết bị {device_id} ({_counter_label(counter_name)}, "
        f"{unit_name}): {burst.ratings} đánh giá nhận {_vn(burst.start, '%H:%M')}–"
        f"{_vn(burst.end, '%H:%M')} ngày {_vn(burst.start, '%d/%m/%Y')}, ghi bấm ngày {claimed} "
        f"({rules}). / Ratings out of order on unit {device_id}: {burst.ratings}."
    )[:MESSAGE_CHARS]


def silent_message(
    device_id: str, counter_name: str, unit_name: str, since: datetime, offline: bool
) -> str:
    """Since when a unit has said nothing, and whether the broker saw it go (offline) or it just
    stopped (silent: frozen, or its network cut)."""
    how = "mất kết nối" if offline else "không gửi tín hiệu"
    how_en = "offline" if offline else "silent"
    return (
        f"Thiết bị {device_id} tại {_counter_label(counter_name)} ({unit_name}) {how} từ "
        f"{_vn(since, '%H:%M')} ngày {_vn(since, '%d/%m/%Y')}. / Unit {device_id} at "
        f"{counter_name} ({unit_name}) {how_en} since {_vn(since, '%H:%M %d/%m/%Y')} (ICT)."
    )[:MESSAGE_CHARS]
