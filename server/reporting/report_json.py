"""A report as JSON, the form the API answers, every export is made from and a digest proves:
rows, periods and classifications as plain values under the names API clients have always read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from server.policy import Classification
from server.reporting.periods import Period

if TYPE_CHECKING:
    from server.reporting.reports import Row

Scope = Literal["officer", "counter", "field", "unit"]
SCOPES: tuple[Scope, ...] = ("officer", "counter", "field", "unit")
ID_KEYS: dict[Scope, str] = {
    "officer": "officer_id",
    "counter": "counter_id",
    "field": "field_id",
    "unit": "unit_id",
}


def rows_key(scope: Scope) -> str:
    """Officers' rows are under "officers", as API clients have always read them."""
    return "officers" if scope == "officer" else "rows"


def period_dict(period: Period) -> dict[str, str]:
    return {
        "text": period.text,
        "kind": period.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label_vi": period.label_vi,
        "label_en": period.label_en,
    }


def classification_dict(c: Classification | None) -> dict[str, str] | None:
    if c is None:
        return None
    return {
        "code": c.code,
        "label_vi": c.label_vi,
        "label_en": c.label_en,
        "rule": c.rule,
        "rule_en": c.rule_en,
    }


def row_dict(row: Row, scope: Scope | None) -> dict[str, Any]:
    """A row as JSON, and so as every export; `scope` None for the total, which names nothing
    and is not ranked. Percentages are 0..100 with 2 decimals, None where there is nothing."""
    f, p = row.figures, row.previous
    out: dict[str, Any] = {}
    if scope is not None:
        out[ID_KEYS[scope]] = row.id
        out["name"] = row.name
        if scope in ("officer", "counter"):
            out["unit_id"] = row.unit_id
        if scope == "officer":
            out["title"] = row.title
    out.update(
        {
            "ratings": f.ratings,
            "flagged": f.flagged,
            "flags": row.flags,
            "channels": row.channels,
            "counts": f.counts,
            "satisfied": f.satisfied,
            "satisfied_pct": f.satisfied_pct,
            "wilson_low": f.wilson_low,
            "wilson_high": f.wilson_high,
            "unsatisfied_pct": f.unsatisfied_pct,
            "happy_index": f.happy_index,
            "mean_score": f.mean_score,
            "rated_services": f.rated_services,
            "announced": f.announced,
            "response_rate": f.response_rate,
            "reasons": f.reasons,
            "reason_counts": f.reason_counts,
            "previous_ratings": None if p is None else p.ratings,
            "previous_satisfied_pct": None if p is None else p.satisfied_pct,
            "previous_happy_index": None if p is None else p.happy_index,
            "change_satisfied_pct": row.change_satisfied_pct,
            "change_happy_index": row.change_happy_index,
        }
    )
    if scope is not None:
        out["ranked"] = row.ranked
        out["rank"] = row.rank
    if scope == "officer":
        out["classification"] = classification_dict(row.classification)
    return out


def digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of a report's content as canonical JSON: the same query on the same counts and
    policy gives the same digest, whichever format it was read in, so a rerun can prove it."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
