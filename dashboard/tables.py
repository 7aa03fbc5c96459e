"""Pure functions from report rows to Plotly figures, table records and display text.

No database and no Dash here: the figures are computed by `server.reporting.reports` (the rows are
the API's JSON rows), and these functions only lay them out, so each is tested by looking at the
traces and records it returns. Numbers are shown the Vietnamese way, with the 2 decimals the API
gives: decimal comma, dot between thousands, dates day first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.queries import DeviceRow
from server.policy import Policy
from server.reporting.reports import ID_KEYS, DayRow, Scope, rows_key
from server.reporting.scoring import NOT_ENOUGH_DATA_EN, NOT_ENOUGH_DATA_VI
from server.storage import flags
from server.storage.reasons import REASONS
from server.timeutil import VN_TZ

EMPTY_VI = "Chưa có đánh giá trong khoảng thời gian này"
EMPTY_EN = "No ratings in this period"
NO_REASONS_VI = "Chưa có lý do nào được chọn trong khoảng thời gian này"
NO_REASONS_EN = "No reasons given in this period"

FONT = '"Segoe UI", Roboto, "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, sans-serif'
MUTED = "#64748b"
SATISFIED_COLOR = "#15803d"
HAPPY_COLOR = "#1d4ed8"
COUNT_COLOR = "#cbd5e1"
FLAGGED_COLOR = "#b45309"
REASON_COLOR = "#b91c1c"
NO_VALUE = "—"
CHART_HEIGHT = 360  # px; the page gives each graph this height too, so its card holds it

_LOCALE = {"decimal": ",", "group": "."}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "admin": ("Quản trị", "Administrator"),
    "hr": ("Phòng Nội vụ", "HR office"),
    "unit_head": ("Trưởng đơn vị", "Unit head"),
    "officer": ("Cán bộ", "Officer"),
    "viewer": ("Người xem", "Viewer"),
}


def _legend(vi: str, en: str) -> str:
    return f'{vi} <span style="font-size:11px;color:{MUTED}">{en}</span>'


def format_count(n: int | None) -> str:
    """1234 → "1.234"."""
    return NO_VALUE if n is None else f"{n:,}".replace(",", ".")


def format_decimal(value: float | None) -> str:
    """84.444 → "84,44": the 2 decimals of every report figure."""
    if value is None:
        return NO_VALUE
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


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


def format_change(value: float | None) -> str:
    """A change in percentage points with its sign, "+10,00"; "—" without a previous figure."""
    if value is None:
        return NO_VALUE
    return ("+" if value > 0 else "") + format_decimal(value)


def format_vn_time(moment: datetime | None) -> str:
    """A stored time (UTC; naive means UTC) as Vietnam wall-clock time, sortable as text."""
    if moment is None:
        return NO_VALUE
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")


# --- satisfaction over time ---------------------------------------------------------------


def satisfaction_figure(days: Sequence[DayRow], start: date, end: date) -> go.Figure:
    """Satisfied % and happy index per day on 0..100, ratings per day as bars on a second axis.

    The bars' axis is three times their highest value, so they stay in the lower third and do
    not hide the lines drawn above them.
    """
    if not days:
        return empty_figure()
    x = [row.day for row in days]
    counts = [row.figures.ratings for row in days]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=x,
            y=counts,
            name=_legend("Số đánh giá", "Ratings"),
            marker={"color": COUNT_COLOR},
            hovertemplate="%{y:,d}<extra>Số đánh giá</extra>",
        ),
        secondary_y=True,
    )
    for values, vi, en, color in (
        (
            [r.figures.satisfied_pct for r in days],
            "Tỷ lệ hài lòng (%)",
            "Satisfied %",
            SATISFIED_COLOR,
        ),
        ([r.figures.happy_index for r in days], "Chỉ số hài lòng", "Happy index", HAPPY_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                name=_legend(vi, en),
                mode="lines+markers",
                line={"color": color, "width": 2.5},
                marker={"size": 5},
                connectgaps=True,
                hovertemplate=f"%{{y:.2f}}<extra>{vi}</extra>",
            ),
            secondary_y=False,
        )
    half_day = timedelta(hours=12)
    fig.update_layout(_base_layout())
    fig.update_layout(
        hovermode="x unified",
        bargap=0.35,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"l": 56, "r": 56, "t": 40, "b": 40},
    )
    fig.update_xaxes(
        range=[
            datetime.combine(start, datetime.min.time()) - half_day,
            datetime.combine(end, datetime.min.time()) + half_day,
        ],
        tickformat="%d/%m",
        hoverformat="%d/%m/%Y",
        showgrid=False,
        linecolor="#e2e8f0",
    )
    fig.update_yaxes(
        range=[0, 105],
        tickvals=[0, 25, 50, 75, 100],
        gridcolor="#eef2f7",
        title={"text": "Tỷ lệ / chỉ số (0–100)", "font": {"size": 12, "color": MUTED}},
        secondary_y=False,
    )
    step = count_tick_step(max(counts))
    fig.update_yaxes(
        range=[0, max(counts) * 3],
        tickmode="array",
        tickvals=list(range(0, max(counts) + 1, step)),
        showgrid=False,
        tickformat=",d",
        tickfont={"color": MUTED},
        secondary_y=True,
    )
    return fig


def count_tick_step(highest: int) -> int:
    """A round step (1, 2, 5, 10, 20, 50…) giving at most three ticks above 0 up to `highest`."""
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            if highest // (base * magnitude) <= 3:
                return base * magnitude
        magnitude *= 10


def empty_figure(vi: str = EMPTY_VI, en: str = EMPTY_EN) -> go.Figure:
    """No axes, only the empty-state message, so an empty period never looks like a 0 % day."""
    fig = go.Figure()
    fig.update_layout(_base_layout())
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=220,
        margin={"l": 20, "r": 20, "t": 20, "b": 20},
        annotations=[
            {
                "text": f"{vi}<br><span style='font-size:12px;color:{MUTED}'>{en}</span>",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 15, "color": "#334155"},
            }
        ],
    )
    return fig


def _base_layout() -> dict[str, Any]:
    return {
        "template": "plotly_white",
        "font": {"family": FONT, "size": 13, "color": "#1e293b"},
        "separators": ",.",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT}},
        "height": CHART_HEIGHT,
    }


# --- reasons ------------------------------------------------------------------------------

_REASON_LABELS = {r.code: (r.label_vi, r.label_en) for r in REASONS}


def reasons_figure(total: Mapping[str, Any]) -> go.Figure:
    """Each reason's share of the reasons given (a report row's `reasons`), most given on top;
    a rating may give several reasons, so the shares are of mentions, not of ratings."""
    shares: Mapping[str, float] = total["reasons"]
    if not shares:
        return empty_figure(NO_REASONS_VI, NO_REASONS_EN)
    counts: Mapping[str, int] = total["reason_counts"]
    labels = [_REASON_LABELS.get(code, (code, code)) for code in shares]
    fig = go.Figure(
        go.Bar(
            orientation="h",
            x=list(shares.values()),
            y=[vi for vi, _ in labels],
            text=[
                f"{format_pct(share)} ({format_count(counts.get(code, 0))})"
                for code, share in shares.items()
            ],
            textposition="outside",
            cliponaxis=False,
            customdata=[en for _, en in labels],
            marker={"color": REASON_COLOR},
            hovertemplate="%{customdata}: %{x:.2f} %<extra></extra>",
        )
    )
    fig.update_layout(_base_layout())
    fig.update_layout(
        margin={"l": 20, "r": 40, "t": 10, "b": 30},
        bargap=0.45,
        showlegend=False,
    )
    # room on the right for the labels outside the bars
    fig.update_xaxes(range=[0, min(100, max(shares.values())) * 1.45 + 1], ticksuffix=" %")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


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
    return [
        f"{rule.label_vi}: {' và '.join(rule.conditions('vi')) or 'các trường hợp còn lại'}"
        for rule in policy.classification
    ]


# --- the report's table -------------------------------------------------------------------


def report_rows(content: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = content[rows_key(content["scope"])]
    return rows


def has_ratings(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(row["ratings"] for row in rows)


def rank_text(row: Mapping[str, Any]) -> str:
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
        if not row["ranked"]:
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


def _number_format(specifier: str) -> dict[str, Any]:
    return {"locale": _LOCALE, "specifier": specifier, "nully": NO_VALUE}


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
        "format": _number_format(",d"),
    },
    {"id": "firmware", "name": ["Phiên bản phần mềm", "Firmware"], "type": "text"},
    {"id": "revoked", "name": ["Thu hồi", "Revoked"], "type": "text"},
    {
        "id": "missing",
        "name": ["Đánh giá bị thiếu", "Missing ratings"],
        "type": "numeric",
        "format": _number_format(",d"),
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
        "format": _number_format(",d"),
    },
]
