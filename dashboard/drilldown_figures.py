"""The drill-down pages' charts: an officer's or unit's trend, its four levels stacked, its hours
by weekday, its flags, and how it stands beside its unit and province; units side by side.

Pure functions of server/reporting/drilldown.py's values, drawn with bars, scatters and a heatmap
only (the dashboard ships a Plotly bundle of cartesian traces). Every chart fills its box's width
(the page's graphs are responsive), so nothing scrolls sideways on a phone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from dashboard.figures import (
    HAPPY_COLOR,
    MUTED,
    SATISFIED_COLOR,
    _base_layout,
    _legend,
    empty_figure,
    ratings_and_shares,
)
from dashboard.tables import format_count
from hailong.protocol import SCALES
from server.reporting.drilldown import Drilldown, Side
from server.reporting.heatmap import WEEKDAYS_VI, HourWeekday
from server.reporting.series import Point
from server.storage import flags as flag_names

# vn4's four levels, worst first; vn3's three share their names, so both stack in one bar.
LEVELS_VI = SCALES["vn4"].labels_vi
LEVELS_EN = SCALES["vn4"].labels_en
LEVEL_COLORS = ("#b91c1c", "#94a3b8", "#4ade80", "#15803d")
UNIT_COLORS = ("#1d4ed8", "#b45309", "#7c3aed", "#0f766e")
NO_FLAGS_VI, NO_FLAGS_EN = "Không có đánh giá nào cần xem lại", "No flagged ratings"
HEATMAP_SCALE = [[0.0, "#f8fafc"], [0.01, "#dbeafe"], [1.0, "#1e3a8a"]]


def _layout(fig: go.Figure, **more: Any) -> go.Figure:
    fig.update_layout(_base_layout())
    defaults: dict[str, Any] = {
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "margin": {"l": 44, "r": 16, "t": 36, "b": 40},
    }
    fig.update_layout(**(defaults | more))
    return fig


def level_counts(point_counts: Mapping[str, Mapping[str, int]]) -> list[int]:
    """Figures' `counts` ({scale: {level: n}}) → n per vn4 level name, worst first: a vn3
    "Hài lòng" counts as the vn4 one of that name."""
    out = [0] * len(LEVELS_VI)
    for scale, by_level in point_counts.items():
        names = SCALES[scale].labels_vi
        for level, n in by_level.items():
            out[LEVELS_VI.index(names[int(level) - 1])] += n
    return out


def trend_figure(points: Sequence[Point]) -> go.Figure:
    """Satisfied % and happy index per day, week or month, with ratings as pale bars on a
    second axis; a point without ratings is a gap, not a 0."""
    if not any(p.figures.ratings for p in points):
        return empty_figure()
    x = [p.label_vi for p in points]
    fig = ratings_and_shares(x, [p.figures for p in points], bar_color="#e2e8f0")
    _layout(fig, hovermode="x unified", bargap=0.3)
    fig.update_yaxes(range=[0, 105], tickvals=[0, 25, 50, 75, 100], secondary_y=False)
    top = max(p.figures.ratings for p in points)
    fig.update_yaxes(range=[0, top * 3], showgrid=False, showticklabels=False, secondary_y=True)
    fig.update_xaxes(type="category", showgrid=False)
    return fig


def levels_figure(points: Sequence[Point]) -> go.Figure:
    """The four levels' counts per day, week or month, stacked, worst at the bottom."""
    if not any(p.figures.ratings for p in points):
        return empty_figure()
    x = [p.label_vi for p in points]
    per_point = [level_counts(p.figures.counts) for p in points]
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=[counts[i] for counts in per_point],
                name=_legend(vi, en),
                marker={"color": color},
                hovertemplate=f"%{{y:,d}}<extra>{vi}</extra>",
            )
            for i, (vi, en, color) in enumerate(
                zip(LEVELS_VI, LEVELS_EN, LEVEL_COLORS, strict=True)
            )
        ]
    )
    _layout(fig, barmode="stack", hovermode="x unified", bargap=0.3)
    fig.update_xaxes(type="category", showgrid=False)
    fig.update_yaxes(tickformat=",d")
    return fig


def heatmap_figure(grid: HourWeekday) -> go.Figure:
    """Ratings per hour (Vietnam time) and weekday, Monday on top; only the hours in use."""
    if grid.total == 0:
        return empty_figure()
    hours = grid.hours_used()
    fig = go.Figure(
        go.Heatmap(
            z=[[day[h] for h in hours] for day in grid.counts],
            x=list(hours),
            y=list(WEEKDAYS_VI),
            colorscale=HEATMAP_SCALE,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="%{y}, %{x} giờ: %{z:,d} đánh giá<extra></extra>",
        )
    )
    _layout(fig, margin={"l": 72, "r": 8, "t": 8, "b": 36})
    fig.update_yaxes(autorange="reversed", showgrid=False)
    # numbers, not categories: Plotly thins the ticks to what a phone's width holds
    fig.update_xaxes(showgrid=False, tickangle=0, ticksuffix="h")
    return fig


def flags_figure(found: Mapping[str, int], counted: Collection[str]) -> go.Figure:
    """How many ratings carried each flag; those the policy leaves out of the scores say so."""
    if not found:
        return empty_figure(NO_FLAGS_VI, NO_FLAGS_EN)
    labels = []
    for name in found:
        flag = flag_names.BY_NAME.get(name)
        label = flag.label_vi if flag else name
        labels.append(f"{label} (không tính điểm)" if name in counted else label)
    fig = go.Figure(
        go.Bar(
            orientation="h",
            x=list(found.values()),
            y=labels,
            text=[format_count(n) for n in found.values()],
            textposition="outside",
            cliponaxis=False,
            marker={"color": "#b45309"},
            hovertemplate="%{y}: %{x:,d}<extra></extra>",
        )
    )
    _layout(fig, showlegend=False, margin={"l": 8, "r": 32, "t": 8, "b": 30}, bargap=0.4)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickformat=",d", rangemode="tozero")
    return fig


def comparison_figure(sides: Sequence[Side]) -> go.Figure:
    """Satisfied % and happy index of the officer, their unit and the province, side by side."""
    if not any(s.figures.ratings for s in sides):
        return empty_figure()
    x = ["<br>".join(textwrap.wrap(s.label_vi, 18)) for s in sides]
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=[getattr(s.figures, attr) for s in sides],
                name=_legend(vi, en),
                marker={"color": color},
                text=[_pct_text(getattr(s.figures, attr)) for s in sides],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{x}}: %{{y:.2f}}<extra>{vi}</extra>",
            )
            for attr, vi, en, color in (
                ("satisfied_pct", "Tỷ lệ hài lòng (%)", "Satisfied %", SATISFIED_COLOR),
                ("happy_index", "Chỉ số hài lòng", "Happy index", HAPPY_COLOR),
            )
        ]
    )
    _layout(fig, barmode="group", bargap=0.35)
    fig.update_yaxes(range=[0, 112], tickvals=[0, 25, 50, 75, 100])
    fig.update_xaxes(type="category", showgrid=False)
    return fig


def units_trend_figure(pages: Sequence[Drilldown]) -> go.Figure:
    """Units side by side: each unit's satisfied % per day, week or month, one line each."""
    if not any(p.figures.ratings for p in pages):
        return empty_figure()
    fig = go.Figure(
        [
            go.Scatter(
                x=[point.label_vi for point in page.series],
                y=[point.figures.satisfied_pct for point in page.series],
                name=page.name,
                mode="lines+markers",
                line={"color": UNIT_COLORS[i % len(UNIT_COLORS)], "width": 2.5},
                hovertemplate=f"%{{y:.2f}} %<extra>{page.name}</extra>",
            )
            for i, page in enumerate(pages)
        ]
    )
    _layout(fig, hovermode="x unified")
    fig.update_yaxes(
        range=[0, 105],
        tickvals=[0, 25, 50, 75, 100],
        title={"text": "Tỷ lệ hài lòng (%)", "font": {"size": 12, "color": MUTED}},
    )
    fig.update_xaxes(type="category", showgrid=False)
    return fig


def _pct_text(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")
