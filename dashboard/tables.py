"""Pure functions from report rows to the dashboard's table records and columns: the numbers'
Vietnamese forms, the report's rows, the alerts and the devices.

No database and no Dash here: the figures are computed by `server.reporting.reports` (the rows are
the API's JSON rows), and these functions only lay them out, so each is tested by looking at the
records it returns. Numbers are shown the Vietnamese way, with the 2 decimals the API gives:
decimal comma, dot between thousands, dates day first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dashboard.queries import DeviceRow
from server.reporting.report_json import rows_key
from server.reporting.vietnamese import DECIMAL_MARK, NO_VALUE, THOUSANDS_MARK
from server.reporting.vietnamese import count as format_count
from server.reporting.vietnamese import decimal as format_decimal
from server.storage import flags
from server.timeutil import VN_TZ

_LOCALE = {"decimal": DECIMAL_MARK, "group": THOUSANDS_MARK}


def format_pct(value: float | None) -> str:
    return NO_VALUE if value is None else f"{format_decimal(value)} %"


def format_vn_time(moment: datetime | None) -> str:
    """A stored time (UTC; naive means UTC) as Vietnam wall-clock time, sortable as text."""
    if moment is None:
        return NO_VALUE
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")


# --- the report's rows (laid out as a grid by dashboard/review_grid.py) ----------------------


def report_rows(content: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = content[rows_key(content["scope"])]
    return rows


def has_ratings(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(row["ratings"] or row.get("suppressed") for row in rows)  # hidden: not empty


def format_unit(row: Mapping[str, Any], units: Mapping[str, str]) -> str:
    """The name of a row's unit (its id if the unit is gone)."""
    unit_id = row.get("unit_id") or ""
    return units.get(unit_id, unit_id) or NO_VALUE


def _flag_labels(name: str) -> tuple[str, str]:
    known = flags.BY_NAME.get(name)
    return (known.label_vi, known.label_en) if known else (name, name)


def flags_text(counts: Mapping[str, int]) -> str:
    """A row's count per flag in Vietnamese, in the API's order: "Sai thứ tự 3 · Đã chỉnh giờ 1"."""
    if not counts:
        return NO_VALUE
    return " · ".join(f"{_flag_labels(name)[0]} {format_count(n)}" for name, n in counts.items())


# --- alerts -------------------------------------------------------------------------------


def alert_records(
    rows: Sequence[Mapping[str, Any]], units: Mapping[str, str]
) -> list[dict[str, Any]]:
    """`server.alerts.rules.alert_rows` with the unit's name."""
    return [{**row, "unit": units.get(row["unit_id"], row["unit_id"])} for row in rows]


ALERT_COLUMNS: list[dict[str, Any]] = [
    {"id": "time", "name": ["Thời điểm (giờ VN)", "Raised (Vietnam time)"], "type": "text"},
    {"id": "unit", "name": ["Đơn vị", "Unit"], "type": "text"},
    {"id": "counter_id", "name": ["Quầy", "Counter"], "type": "text"},
    {"id": "message", "name": ["Nội dung", "Message"], "type": "text"},
    {"id": "delivered", "name": ["Webhook", "Webhook"], "type": "text"},
]


def number_format(specifier: str) -> dict[str, Any]:
    return {"locale": _LOCALE, "specifier": specifier, "nully": NO_VALUE}


def count_column(column_id: str, vi: str, en: str) -> dict[str, Any]:
    """A column of whole numbers, "1.234"."""
    return {"id": column_id, "name": [vi, en], "type": "numeric", "format": number_format(",d")}


# --- devices ------------------------------------------------------------------------------

DEVICE_STATES = {
    "online": "Trực tuyến (online)",
    "offline": "Mất kết nối (offline)",
    "unknown": "Chưa kết nối (never seen)",
    "revoked": "Đã thu hồi (revoked)",
}


def device_state(row: DeviceRow) -> str:
    """A revoked device's last reported state no longer matters: it may not send again."""
    if row.revoked_at is not None:
        return "revoked"
    return row.state or "unknown"


def device_records(rows: Sequence[DeviceRow]) -> list[dict[str, Any]]:
    records = []
    for row in rows:
        state = device_state(row)
        records.append(
            {
                "id": row.id,
                "counter": f"{row.counter_name} · {row.unit_name}",
                "state": DEVICE_STATES.get(state, state),
                "state_code": state,
                "last_seen": format_vn_time(row.last_seen_at),
                "outbox": row.outbox,
                "firmware": row.firmware or NO_VALUE,
                "revoked": NO_VALUE if row.revoked_at is None else format_vn_time(row.revoked_at),
                "missing": row.missing_seqs,
                "missing_ranges": seq_ranges_text(row.missing_seq_ranges, row.missing_seqs),
                "rejected_dropped": row.rejected_dropped,
            }
        )
    return records


SEQ_RANGES_SHOWN = 10


def seq_ranges_text(ranges: Sequence[tuple[int, int]], count: int) -> str:
    """ "3–4, 6, 8": the seqs a unit never delivered, the first few ranges of them, "…" after."""
    shown = [str(a) if a == b else f"{a}–{b}" for a, b in ranges[:SEQ_RANGES_SHOWN]]
    listed = sum(b - a + 1 for a, b in ranges[:SEQ_RANGES_SHOWN])
    return ", ".join(shown) + (", …" if listed < count else "") if shown else NO_VALUE


DEVICE_COLUMNS: list[dict[str, Any]] = [
    {"id": "id", "name": ["Mã thiết bị", "Device id"], "type": "text"},
    {"id": "counter", "name": ["Quầy", "Counter"], "type": "text"},
    {"id": "state", "name": ["Trạng thái", "State"], "type": "text"},
    {
        "id": "last_seen",
        "name": ["Kết nối lần cuối (giờ VN)", "Last seen (Vietnam time)"],
        "type": "datetime",
    },
    {
        "id": "outbox",
        "name": ["Đánh giá chờ gửi", "Outbox backlog"],
        "type": "numeric",
        "format": number_format(",d"),
    },
    {"id": "firmware", "name": ["Phiên bản phần mềm", "Firmware"], "type": "text"},
    {"id": "revoked", "name": ["Thu hồi", "Revoked"], "type": "text"},
    {
        "id": "missing",
        "name": ["Đánh giá bị thiếu", "Missing ratings"],
        "type": "numeric",
        "format": number_format(",d"),
    },
    {
        "id": "missing_ranges",
        "name": ["Số thứ tự bị thiếu", "Missing seq numbers"],
        "type": "text",
    },
    {
        "id": "rejected_dropped",
        "name": ["Tin bị từ chối đã xoá", "Rejected messages deleted"],
        "type": "numeric",
        "format": number_format(",d"),
    },
]
