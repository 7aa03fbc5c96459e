"""Words for HR beside the figures: a one-sentence plain-Vietnamese explanation that opens on a
tap or a click (a <details> element, so it works on a phone and without a mouse, unlike a
hover title), and the confidence of a share drawn as a bar with its words.

Pure layout: callers pass the sentences; what a figure means is said where it is computed
(captions, tables) and shown here the same way on every page.
"""

from __future__ import annotations

from typing import Any

from dash import html


def explained(label: Any, vi: str, en: str | None = None) -> html.Details:
    """`label` with a small "?" that unfolds `vi` (and `en` below it, small) under it."""
    words: list[Any] = [html.Span(vi, className="vi")]
    if en:
        words.append(html.Span(en, className="en"))
    return html.Details(
        [
            html.Summary([label, html.Span("?", className="explain-mark", title=vi)]),
            html.P(words, className="explain-text"),
        ],
        className="explained",
    )


def confidence_bar(low: float | None, high: float | None, value: float | None) -> html.Div:
    """The share `value` (0..100) as a dot on a 0-100 bar, with the band from `low` to `high`
    (a 95 % interval) shaded, and "chắc chắn trong khoảng low – high %" under it. Nothing to
    draw (no ratings) is an empty bar with a dash."""
    if low is None or high is None or value is None:
        return html.Div(html.Span("—", className="confidence-words"), className="confidence")
    band = {"left": f"{low:.2f}%", "width": f"{max(high - low, 0.5):.2f}%"}
    dot = {"left": f"{value:.2f}%"}
    words = f"chắc chắn trong khoảng {_pct(low)} – {_pct(high)} %"
    return html.Div(
        [
            html.Div(
                [
                    html.Div(className="confidence-band", style=band),
                    html.Div(className="confidence-dot", style=dot),
                ],
                className="confidence-track",
                role="img",
                title=words,
            ),
            html.Span(words, className="confidence-words"),
        ],
        className="confidence",
    )


def _pct(value: float) -> str:
    """50.00 -> "50", 59.42 -> "59,42": Vietnamese decimal comma, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
