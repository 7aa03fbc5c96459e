"""Every flag a stored rating can carry: its name, what it means, and who sets it.

A flag never drops a rating: the rating is stored, acknowledged and shown with its flags, and the
evaluation policy (server/policy/, `[misuse] count`) says which flags leave it out of officers'
scores. Reports count ratings per flag, so a reviewer sees why ratings were left out. The names
are stored in `rating.flags` and appear in the policy file, so they never change once used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    name: str
    label_vi: str
    label_en: str
    set_by: str  # which rule of the server sets it, for the docs and the reviewer
    excluded_by_default: bool  # left out of officers' scores by the shipped policy


FLAGS: tuple[Flag, ...] = (
    Flag(
        "cooldown",
        "Bấm lại quá nhanh",
        "Pressed again too soon",
        "misuse rule: a press within cooldown_s of the device's previous one",
        True,
    ),
    Flag(
        "burst",
        "Bấm dồn dập",
        "Burst of presses",
        "misuse rule: burst_count presses of one device within burst_window_s",
        True,
    ),
    Flag(
        "outside_service",
        "Ngoài giao dịch",
        "Outside a transaction",
        "misuse rule: require_service is on and the rating carries no ticket",
        True,
    ),
    Flag(
        "no_officer",
        "Không có cán bộ",
        "No officer on duty",
        "attribution: nobody was assigned to the counter at the press",
        True,
    ),
    Flag(
        "officer_mismatch",
        "Sai cán bộ",
        "Officer differs",
        "attribution: the unit showed another officer than the one assigned at the press",
        True,
    ),
    Flag(
        "counter_mismatch",
        "Sai quầy",
        "Counter differs",
        "attribution: the unit said another counter than the one it is registered at",
        True,
    ),
    Flag(
        "clock_corrected",
        "Đã chỉnh giờ",
        "Clock corrected",
        "time rule: pressed_at was more than 2 minutes off the server's estimate from the "
        "unit's live Status; the estimate is used",
        False,
    ),
    Flag(
        "time_unknown",
        "Không rõ giờ",
        "Time unknown",
        "time rule: no estimate and an unsynchronised, future or too old pressed_at; dated by "
        "its receipt",
        False,
    ),
    Flag(
        "seq_reused",
        "Số thứ tự dùng lại",
        "Sequence number reused",
        "order rule: the device's seq is already stored under another rating id",
        True,
    ),
    Flag(
        "out_of_order",
        "Sai thứ tự",
        "Out of order",
        "order rule: pressed earlier than a stored rating with a lower seq (or later than one "
        "with a higher seq), by more than 2 minutes",
        True,
    ),
    Flag(
        "late_while_online",
        "Đến muộn khi đang trực tuyến",
        "Late while online",
        "order rule: arrived more than 10 minutes after its press while the unit and the "
        "server were both connected all along",
        True,
    ),
    Flag(
        "web_unverified",
        "Qua mã QR tại quầy (chưa xác minh)",
        "Counter QR card (unverified)",
        "web channel: rated from a counter's printed card, with no served ticket behind it; "
        "the policy's [channels] officer_excluded leaves it out of officers' scores",
        False,
    ),
    # Set before issue 10 by the old time rule, which time_unknown replaced; kept so that old
    # ratings still read and count as they did.
    Flag(
        "clock_unsynced",
        "Đồng hồ chưa đồng bộ (cũ)",
        "Clock not synchronised (old)",
        "old time rule: clock_synced false, dated by receipt",
        False,
    ),
    Flag(
        "clock_implausible",
        "Giờ không hợp lý (cũ)",
        "Implausible time (old)",
        "old time rule: pressed_at older than the maximum age, dated by receipt",
        False,
    ),
)

BY_NAME: dict[str, Flag] = {flag.name: flag for flag in FLAGS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
EXCLUDED_BY_DEFAULT: tuple[str, ...] = tuple(f.name for f in FLAGS if f.excluded_by_default)
