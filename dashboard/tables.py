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
from server.reporting.vietnamese import NO_VALUE
from server.reporting.vietnamese import count as format_count
from server.reporting.vietnamese import decimal as format_decimal
from server.storage import flags
from server.timeutil import VN_TZ


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
