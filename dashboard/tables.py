"""Pure functions from report rows to the dashboard's table records, columns and tooltips: the
report's table, the alerts and the devices.

No database and no Dash here: the figures are computed by `server.reporting.reports` (the rows are
the API's JSON rows), and these functions only lay them out, so each is tested by looking at the
records it returns. Numbers are shown the Vietnamese way, with the 2 decimals the API gives:
decimal comma, dot between thousands, dates day first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dashboard.queries import DeviceRow
from server.reporting.report_json import ID_KEYS, Scope, rows_key
from server.reporting.scoring import NOT_ENOUGH_DATA_EN, NOT_ENOUGH_DATA_VI
from server.reporting.vietnamese import DECIMAL_MARK, NO_VALUE, THOUSANDS_MARK
from server.reporting.vietnamese import count as format_count
from server.reporting.vietnamese import decimal as format_decimal
from server.reporting.vietnamese import signed as format_change
from server.storage import flags
from server.timeutil import VN_TZ

_LOCALE = {"decimal": DECIMAL_MARK, "group": THOUSANDS_MARK}


def format_pct(value: float | None) -> str:
    return NO_VALUE if value is None else f"{format_decimal(value)} %"


def format_interval(low: float | None, high: float | None) -> str:
    """A 95 % Wilson interval, "74,38–96,54"."""
    if low is None or high is None:
        return NO_VALUE
    return f"{format_decimal(low)}–{format_decimal(high)}"


def format_pct_interval(pct: float | None, low: float | None, high: float | None) -> str:
    """ "90,00 % (74,38–96,54)": a share is never shown without how sure it is."""
    if pct is None:
        return NO_VALUE
    return f"{format_pct(pct)} ({format_interval(low, high)})"


def format_vn_time(moment: datetime | None) -> str:
    """A stored time (UTC; naive means UTC) as Vietnam wall-clock time, sortable as text."""
    if moment is None:
        return NO_VALUE
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")


# --- the report's table -------------------------------------------------------------------


def report_rows(content: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = content[rows_key(content["scope"])]
    return rows


def has_ratings(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(row["ratings"] or row.get("suppressed") for row in rows)  # hidden: not empty


def rank_text(row: Mapping[str, Any]) -> str:
    if row.get("suppressed"):  # a viewer's group of too few officers (reporting/privacy.py)
        return str(row["suppressed_vi"])
    return str(row["rank"]) if row["ranked"] else NOT_ENOUGH_DATA_VI


def _unit(row: Mapping[str, Any], units: Mapping[str, str]) -> str:
    unit_id = row.get("unit_id") or ""
    return units.get(unit_id, unit_id) or NO_VALUE


def report_records(
    rows: Sequence[Mapping[str, Any]], scope: Scope, units: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One table record of display text per report row, in the rows' order. `id` is not a
    column: it names the row (Dash's row id); a viewer's rows carry none."""
    records = []
    for row in rows:
        record: dict[str, Any] = {
            "name": row.get("name", NO_VALUE),
            "unit": _unit(row, units),
            "ratings": format_count(row["ratings"]),
            "satisfied": format_pct_interval(
                row["satisfied_pct"], row["wilson_low"], row["wilson_high"]
            ),
            "happy_index": format_decimal(row["happy_index"]),
            "change": format_change(row["change_satisfied_pct"]),
            "rank": rank_text(row),
            "flagged": format_count(row["flagged"]),
            "flags": flags_text(row["flags"]),
        }
        if ID_KEYS[scope] in row:
            record["id"] = row[ID_KEYS[scope]]
        if scope == "officer":
            found = row.get("classification")
            record["classification"] = found["label_vi"] if found else NO_VALUE
        records.append(record)
    return records


def _flag_labels(name: str) -> tuple[str, str]:
    known = flags.BY_NAME.get(name)
    return (known.label_vi, known.label_en) if known else (name, name)


def flags_text(counts: Mapping[str, int]) -> str:
    """A row's count per flag in Vietnamese, in the API's order: "Sai thứ tự 3 · Đã chỉnh giờ 1"."""
    if not counts:
        return NO_VALUE
    return " · ".join(f"{_flag_labels(name)[0]} {format_count(n)}" for name, n in counts.items())


def flags_tip(counts: Mapping[str, int], left_out: Collection[str]) -> str:
    """Each flag of a row in Vietnamese then English, with whether the policy left those ratings
    out of the scores or counted them."""
    lines = []
    for name, n in counts.items():
        vi, en = _flag_labels(name)
        how = "không tính điểm / left out" if name in left_out else "vẫn tính điểm / counted"
        lines.append(f"{vi} ({en}, {name}): {format_count(n)} — {how}")
    return "\n".join(lines)


def report_tooltips(
    rows: Sequence[Mapping[str, Any]], min_ratings: int, left_out: Collection[str]
) -> list[dict[str, dict[str, str]]]:
    """Per record: the rule behind a classification, the previous period's figure behind a
    change, why a row is not ranked, and what its flags mean (`left_out`: the policy's flags
    that leave a rating out of the scores)."""
    tips = []
    for row in rows:
        tip: dict[str, dict[str, str]] = {}
        if row["flags"]:
            tip["flags"] = _tip(flags_tip(row["flags"], left_out))
        found = row.get("classification")
        if found:
            tip["classification"] = _tip(f"{found['rule']}\n\n{found['rule_en']}")
        if row["previous_ratings"] is not None:
            tip["change"] = _tip(
                f"Kỳ trước: {format_pct(row['previous_satisfied_pct'])}, "
                f"{format_count(row['previous_ratings'])} đánh giá\n\n"
                f"Previous period: {format_pct(row['previous_satisfied_pct'])}, "
                f"{format_count(row['previous_ratings'])} ratings"
            )
        if row.get("suppressed"):
            tip["rank"] = _tip(
                f"{row['suppressed_vi']}: số liệu được ẩn để không nhận ra được từng người\n\n"
                f"{row['suppressed_en']}: figures hidden so that no one can be singled out"
            )
        elif not row["ranked"]:
            tip["rank"] = _tip(
                f"Dưới {min_ratings} đánh giá: {NOT_ENOUGH_DATA_VI}, không xếp hạng\n\n"
                f"Fewer than {min_ratings} ratings: {NOT_ENOUGH_DATA_EN}, not ranked"
            )
        tips.append(tip)
    return tips


def _tip(text: str) -> dict[str, str]:
    return {"value": text, "type": "text"}


def _none_last(
    rows: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any], descending: bool
) -> list[Mapping[str, Any]]:
    """Sorted by `key`, rows without a value (no ratings, not ranked) last either way; stable,
    so equal values keep the order they came in."""
    valued = [r for r in rows if key(r) is not None]
    return [
        *sorted(valued, key=key, reverse=descending),
        *(r for r in rows if key(r) is None),
    ]


def _casefold(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: None if row.get(name) is None else str(row[name]).casefold()


_SORT_KEYS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "name": _casefold("name"),
    "ratings": lambda r: r["ratings"],
    "satisfied": lambda r: (
        None if r["satisfied_pct"] is None else (r["satisfied_pct"], r["wilson_low"])
    ),
    "happy_index": lambda r: r["happy_index"],
    "change": lambda r: r["change_satisfied_pct"],
    "rank": lambda r: r["rank"],
    "flagged": lambda r: r["flagged"],
    "flags": lambda r: sum(r["flags"].values()),
    "classification": lambda r: (r.get("classification") or {}).get("label_vi"),
}


def sort_rows(
    rows: Sequence[Mapping[str, Any]],
    sort_by: Sequence[Mapping[str, str]] | None,
    units: Mapping[str, str],
) -> list[Mapping[str, Any]]:
    """The rows in the table's order: as the table's header asks (`sort_by`, Dash's), else by
    rank as the printed report lists them, the unranked after in the report's order (by unit,
    then name). Sorting by the text shown would put "100,00 %" before "90,00 %"."""
    if not sort_by:
        return _none_last(rows, _SORT_KEYS["rank"], descending=False)
    column, descending = sort_by[0]["column_id"], sort_by[0]["direction"] == "desc"
    keys = {**_SORT_KEYS, "unit": lambda row: _unit(row, units).casefold()}
    if column not in keys:
        return list(rows)
    return _none_last(rows, keys[column], descending)


_NAME_HEADERS: dict[str, list[str]] = {
    "officer": ["Cán bộ", "Officer"],
    "counter": ["Quầy", "Counter"],
    "field": ["Lĩnh vực", "Field"],
    "unit": ["Đơn vị", "Unit"],
}


def report_columns(scope: Scope) -> list[dict[str, Any]]:
    """DataTable columns for a report's records; each header is two rows, Vietnamese above
    English. A unit column where rows belong to a unit; the classification for officers.
    Figures are text made here, typed numeric only to sit right-aligned."""
    text = {"type": "text"}
    number = {"type": "numeric"}
    columns: list[dict[str, Any]] = [{"id": "name", "name": _NAME_HEADERS[scope], **text}]
    if scope in ("officer", "counter"):
        columns.append({"id": "unit", "name": ["Đơn vị", "Unit"], **text})
    columns += [
        {"id": "ratings", "name": ["Số đánh giá", "Ratings"], **number},
        {
            "id": "satisfied",
            "name": ["Tỷ lệ hài lòng (KTC Wilson 95 %)", "Satisfied % (95 % Wilson interval)"],
            **number,
        },
        {"id": "happy_index", "name": ["Chỉ số hài lòng", "Happy index"], **number},
        {"id": "change", "name": ["So với kỳ trước (điểm %)", "Change (pp)"], **number},
        {"id": "rank", "name": ["Xếp hạng", "Rank"], **number},
        {"id": "flagged", "name": ["Bị gắn cờ", "Flagged"], **number},
        {"id": "flags", "name": ["Cờ", "Flags"], **text},
    ]
    if scope == "officer":
        columns.append(
            {"id": "classification", "name": ["Xếp loại (gợi ý)", "Suggested class"], **text}
        )
    return columns


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
