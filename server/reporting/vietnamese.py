"""Numbers as Vietnamese readers write them, for every text a person reads (the month's print
report, the dashboard, alert messages): a decimal comma and a dot between thousands, 1.234,50.

The machine forms (JSON, CSV, XLSX cells) keep Python's numbers; only text for people comes here.
"""

from __future__ import annotations

from server.reporting.scoring import round2

DECIMAL_MARK = ","
THOUSANDS_MARK = "."
NO_VALUE = "—"  # a figure there is nothing to make of (no ratings, no previous period)
_MARKS = str.maketrans({",": THOUSANDS_MARK, ".": DECIMAL_MARK})


def _vietnamese(text: str) -> str:
    """Python's "1,234.50" → "1.234,50"."""
    return text.translate(_MARKS)


def count(n: int | None) -> str:
    """1234 → "1.234"."""
    return NO_VALUE if n is None else _vietnamese(f"{n:,d}")


def decimal(value: float | None, decimals: int = 2) -> str:
    """84.444 → "84,44", 1234.5 → "1.234,50": the 2 decimals of every report figure."""
    return NO_VALUE if value is None else _vietnamese(f"{value:,.{decimals}f}")


def number(value: float | int | None, decimals: int = 2) -> str:
    """A figure with its decimals (90.5 → "90,50"), a count without (1234 → "1.234")."""
    return decimal(value, decimals) if isinstance(value, float) else count(value)


def signed(value: float | None) -> str:
    """A change in percentage points with its sign: "+10,00", "-0,50"."""
    return NO_VALUE if value is None else ("+" if value > 0 else "") + decimal(value)


def short(value: float) -> str:
    """A figure in a sentence: rounded as reports round it, without trailing zeros (70 → "70",
    69.5 → "69,5", 69.456 → "69,46")."""
    return decimal(round2(value)).rstrip("0").rstrip(",")
