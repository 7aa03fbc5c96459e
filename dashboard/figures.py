"""The dashboard's charts as Plotly figures, from the API's report rows, and the colours and
fonts the page shares with them.

No database and no Dash here: the figures are computed by `server.reporting.reports`, and
these functions only draw them, so each is tested by looking at the traces it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.tables import format_count, format_pct
from server.reporting.reason_reach import CHART_NOTE_EN, CHART_NOTE_VI
from server.reporting.reports import DayRow
from server.reporting.scoring import Figures
from server.storage.reasons import REASONS

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
CHART_HEIGHT = 360  # px; the page gives each graph this height too, so its card holds it


def _legend(vi: str, en: str) -> str:
    return f'{vi} <span style="font-size:11px;color:{MUTED}">{en}</span>'


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
    fig = ratings_and_shares(
        x, [row.figures for row in days], bar_color=COUNT_COLOR, marker={"size": 5}, join_gaps=True
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


def ratings_and_shares(
    x: Sequence[Any],
    rows: Sequence[Figures],
    *,
    bar_color: str,
    marker: Mapping[str, Any] | None = None,
    join_gaps: bool = False,
) -> go.Figure:
    """Ratings as bars on a second axis, satisfied % and happy index as lines on 0..100: the
    traces of every satisfaction-over-time chart (the review's days, a drill-down's weeks).
    `join_gaps` draws a line across a point without ratings; otherwise it is a gap."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=x,
            y=[r.ratings for r in rows],
            name=_legend("Số đánh giá", "Ratings"),
            marker={"color": bar_color},
            hovertemplate="%{y:,d}<extra>Số đánh giá</extra>",
        ),
        secondary_y=True,
    )
    for values, vi, en, color in (
        ([r.satisfied_pct for r in rows], "Tỷ lệ hài lòng (%)", "Satisfied %", SATISFIED_COLOR),
        ([r.happy_index for r in rows], "Chỉ số hài lòng", "Happy index", HAPPY_COLOR),
    ):
        line: dict[str, Any] = {"marker": dict(marker)} if marker is not None else {}
        if join_gaps:
            line["connectgaps"] = True
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                name=_legend(vi, en),
                mode="lines+markers",
                line={"color": color, "width": 2.5},
                hovertemplate=f"%{{y:.2f}}<extra>{vi}</extra>",
                **line,
            ),
            secondary_y=False,
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
    a rating may give several reasons, so the shares are of mentions, not of ratings. A line
    under the chart says what buttons reached before the unit update (a report's
    `reason_reach`), where the shares may lean."""
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
        margin={"l": 20, "r": 40, "t": 10, "b": 72},
        bargap=0.45,
        showlegend=False,
        # the note as a title placed in the figure's bottom-left corner: unlike an annotation
        # it is placed in the whole figure, so it is not pushed right by the reasons' labels
        title={
            "text": f"{CHART_NOTE_VI}<br><span style='color:{MUTED}'>{CHART_NOTE_EN}</span>",
            "xref": "container",
            "yref": "container",
            "x": 0.02,
            "y": 0.1,  # plotly anchors a title's first line: the second goes below it
            "xanchor": "left",
            "yanchor": "bottom",
            "font": {"size": 11, "color": "#334155"},
        },
    )
    # room on the right for the labels outside the bars
    fig.update_xaxes(range=[0, min(100, max(shares.values())) * 1.45 + 1], ticksuffix=" %")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig
