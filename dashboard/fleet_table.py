"""The fleet page's figures and table as plain values: the status labels and colours, the
columns, and one record per row of the fleet service (server.registry.fleet).

No Dash and no database here; the statuses and their words are the service's
(server/registry/fleet_status.py), so a label is looked up, never decided, on screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.components import coloured_by, column, count_column
from dashboard.figures import MUTED, SATISFIED_COLOR
from dashboard.tables import format_vn_time
from server.registry import fleet_status as status_of
from server.reporting.vietnamese import NO_VALUE
from server.reporting.vietnamese import count as format_count

# Each status's colour on screen; its words are the service's (status_of.LABELS).
COLORS = {
    status_of.ONLINE: SATISFIED_COLOR,
    status_of.SILENT: "#d97706",
    status_of.OFFLINE: "#b91c1c",
    status_of.NEVER_SEEN: MUTED,
    status_of.REVOKED: MUTED,
}


def status_label(status: str) -> str:
    vi, en = status_of.LABELS.get(status, (status, status))
    return f"{vi} ({en.lower()})"


def status_options() -> list[dict[str, str]]:
    return [{"label": "Mọi trạng thái (all)", "value": "*"}] + [
        {"label": status_label(status), "value": status} for status in status_of.STATUSES
    ]


def count_text(n: int | None) -> str:
    return format_count(n)


COLUMNS: list[dict[str, Any]] = [
    column("device", "Thiết bị", "Device"),
    column("counter", "Quầy", "Counter"),
    column("officer", "Cán bộ đang trực", "Officer on duty"),
    column("status", "Trạng thái", "Status", cellStyle=coloured_by("status_code", COLORS)),
    column("since", "Từ lúc (giờ VN)", "Since (Vietnam time)"),
    column("last_seen", "Kết nối lần cuối", "Last seen"),
    count_column("backlog", "Đánh giá chờ gửi", "Backlog"),
    count_column("missing", "Số thứ tự thiếu", "Missing seq"),
    column("firmware", "Phần mềm", "Firmware"),
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
