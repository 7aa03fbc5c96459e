"""Figures of plain level counts made outside the rollups: the bench's raw GROUP BY, the chart and
report fixtures of the tests."""

from __future__ import annotations

from collections.abc import Mapping

from server.reporting import scoring
from server.reporting.scoring import Figures, LevelTally


def level_figures(levels: Mapping[tuple[str, int], int]) -> Figures:
    """Figures of level counts keyed by (scale, score): none flagged, no tickets, reasons or
    services."""
    return scoring.figures({key: LevelTally(n) for key, n in levels.items()})
