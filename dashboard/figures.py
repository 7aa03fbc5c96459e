"""Pure functions from report rows to Plotly figures, table records and display text.

No database and no Dash here: the figures are computed by `server.reports`, and these functions
only lay them out, so each is tested by looking at the traces and records it returns.
Numbers are shown the Vietnamese way: decimal comma, dot between thousands, dates day first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.queries import DeviceRow
from hailong.protocol import DEFAULT_SCALE, SCALES, Scale
from server.reports import DayRow, Figures, OfficerRow
from server.timeutil import VN_TZ

EMPTY_VI = "Chưa có đánh giá trong khoảng thời gian này"
EMPTY_EN = "No ratings in this period"

FONT = '"Segoe UI", Roboto, "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, sans-serif'
MUTED = "#64748b"
SATISFIED_COLOR = "#15803d"
HAPPY_COLOR = "#1d4ed8"
COUNT_COLOR = "#cbd5e1"
NO_VALUE = "—"

_LOCALE = {"decimal": ",", "group": "."}


def _legend(vi: str, en: str) -> str:
    return f'{vi} <span style="font-size:11px;color:{MUTED}">{en}</span>'


def format_count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def format_decimal(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f}".replace(".", ",")


def format_pct(value: float | None) -> str:
    return NO_VALUE if value is None else f"{format_decimal(value)}%"


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
                hovertemplate=f"%{{y:.1f}}<extra>{vi}</extra>",
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


def empty_figure() -> go.Figure:
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
                "text": f"{EMPTY_VI}<br><span style='font-size:12px;color:{MUTED}'>"
                f"{EMPTY_EN}</span>",
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
        "height": 360,
    }


# --- headline numbers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The period's headline numbers as display text."""

    ratings: str
    satisfied_pct: str
    happy_index: str


def summary(period: Figures) -> Summary:
    return Summary(
        ratings=format_count(period.ratings),
        satisfied_pct=format_pct(period.satisfied_pct),
        happy_index=format_decimal(period.happy_index),
    )


# --- officers' table ----------------------------------------------------------------------


def has_ratings(rows: Sequence[OfficerRow]) -> bool:
    return any(row.figures.ratings for row in rows)


def level_scale(rows: Sequence[OfficerRow]) -> Scale:
    """The scale whose labels head the level columns: reports count levels by number only."""
    size = max((len(row.figures.counts) for row in rows), default=SCALES[DEFAULT_SCALE].size)
    return next((s for s in SCALES.values() if s.size == size), SCALES[DEFAULT_SCALE])


def _sort_key(record: Mapping[str, Any]) -> tuple[bool, float, bool, float, int, str]:
    pct, happy = record["satisfied_pct"], record["happy_index"]
    return (
        pct is None,
        -(pct or 0.0),
        happy is None,
        -(happy or 0.0),
        -record["ratings"],
        record["name"],
    )


def officer_records(rows: Sequence[OfficerRow], units: Mapping[str, str]) -> list[dict[str, Any]]:
    """One table record per officer, best satisfied % first; officers without ratings last."""
    records = []
    for row in rows:
        record: dict[str, Any] = {
            "officer_id": row.officer_id,
            "name": row.name,
            "unit": units.get(row.unit_id, row.unit_id),
            "ratings": row.figures.ratings,
            "satisfied_pct": row.figures.satisfied_pct,
            "happy_index": row.figures.happy_index,
        }
        for level, n in row.figures.counts.items():
            record[f"level_{level}"] = n
        records.append(record)
    return sorted(records, key=_sort_key)


def _number_format(specifier: str, suffix: str = "") -> dict[str, Any]:
    return {
        "locale": {**_LOCALE, "symbol": ["", suffix]},
        "specifier": ("$" if suffix else "") + specifier,
        "nully": NO_VALUE,
    }


def officer_columns(scale: Scale) -> list[dict[str, Any]]:
    """DataTable columns; each header is two rows, Vietnamese above English."""
    count = {"type": "numeric", "format": _number_format(",d")}
    columns: list[dict[str, Any]] = [
        {"id": "name", "name": ["Cán bộ", "Officer"], "type": "text"},
        {"id": "unit", "name": ["Đơn vị", "Unit"], "type": "text"},
        {"id": "ratings", "name": ["Số đánh giá", "Ratings"], **count},
    ]
    columns += [
        {"id": f"level_{level}", "name": [vi, en], **count}
        for level, (vi, en) in enumerate(zip(scale.labels_vi, scale.labels_en, strict=True), 1)
    ]
    columns += [
        {
            "id": "satisfied_pct",
            "name": ["Tỷ lệ hài lòng", "Satisfied %"],
            "type": "numeric",
            "format": _number_format(".1f", "%"),
        },
        {
            "id": "happy_index",
            "name": ["Chỉ số hài lòng", "Happy index"],
            "type": "numeric",
            "format": _number_format(".1f"),
        },
    ]
    return columns


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
            }
        )
    return records


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
]
