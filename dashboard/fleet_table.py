"""The fleet page's figures and table as plain values: the status labels and colours, the
columns, and one record per row of the fleet service (server.registry.fleet).

No Dash and no database here; the statuses are the service's, so a label is looked up, never
decided, on screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.figures import MUTED, SATISFIED_COLOR
from dashboard.tables import count_column, format_vn_time
from server.reporting.vietnamese import NO_VALUE
from server.reporting.vietnamese import count as format_count

OFFLINE_COLOR = "#b91c1c"
SILENT_COLOR = "#d97706"

# The statuses counted as big figures at the top, each a filter: label, English, colour.
COUNTED: dict[str, tuple[str, str, str]] = {
    "online": ("Trực tuyến", "Online", SATISFIED_COLOR),
    "silent": ("Im lặng", "Silent", SILENT_COLOR),
    "offline": ("Mất kết nối", "Offline", OFFLINE_COLOR),
    "never_seen": ("Chưa kết nối", "Never seen", MUTED),
}
STATUSES: dict[str, tuple[str, str, str]] = {
    **COUNTED,
    "revoked": ("Đã thu hồi", "Revoked", MUTED),
}


def status_label(status: str) -> str:
    vi, en, _ = STATUSES.get(status, (status, status, MUTED))
    return f"{vi} ({en.lower()})"


def status_options() -> list[dict[str, str]]:
    return [{"label": "Mọi trạng thái (all)", "value": "*"}] + [
        {"label": status_label(status), "value": status} for status in STATUSES
    ]


def status_styles() -> list[dict[str, Any]]:
    return [
        {
            "if": {"filter_query": f'{{status_code}} = "{status}"', "column_id": "status"},
            "color": color,
            "fontWeight": "600",
        }
        for status, (_, _, color) in STATUSES.items()
    ]


def count_text(n: int | None) -> str:
    return format_count(n)


COLUMNS: list[dict[str, Any]] = [
    {"id": "device", "name": ["Thiết bị", "Device"], "type": "text"},
    {"id": "counter", "name": ["Quầy", "Counter"], "type": "text"},
    {"id": "officer", "name": ["Cán bộ đang trực", "Officer on duty"], "type": "text"},
    {"id": "status", "name": ["Trạng thái", "Status"], "type": "text"},
    {"id": "since", "name": ["Từ lúc (giờ VN)", "Since (Vietnam time)"], "type": "text"},
    {"id": "last_seen", "name": ["Kết nối lần cuối", "Last seen"], "type": "text"},
    count_column("backlog", "Đánh giá chờ gửi", "Backlog"),
    count_column("missing", "Số thứ tự thiếu", "Missing seq"),
    {"id": "firmware", "name": ["Phần mềm", "Firmware"], "type": "text"},
]


def records(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """One table record per fleet row, in the service's order."""
    return [
        {
            "device": row.device_id,
            "counter": f"{row.counter_name} · {row.unit_name}",
            "officer": row.officer_name or NO_VALUE,
            "status": status_label(row.status),
            "status_code": row.status,
            "since": format_vn_time(row.since),
            "last_seen": format_vn_time(row.last_seen_at),
            "backlog": row.outbox,
            "missing": row.missing_seqs,
            "firmware": row.firmware or NO_VALUE,
        }
        for row in rows
    ]
