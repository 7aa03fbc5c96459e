"""`[privacy]`: how many officers a group must be drawn from before a viewer (a role that sees
no names) sees its figures; server/reporting/privacy.py applies it.

Read on its own, beside the file's other tables, so the rest of the policy file reads as before:
a figure drawn from one or two officers is that officer's, with or without a name on it.
"""

from __future__ import annotations

from typing import Any

from server.policy.rules import PolicyError

DEFAULT_MIN_OFFICERS = 3
MAX_MIN_OFFICERS = 100
KEYS = ("viewer_min_officers",)


def viewer_min_officers(table: Any, source: str) -> int:
    """`[privacy] viewer_min_officers` (default 3), checked: a whole number 1..100, where 1
    hides only the groups no officer's ratings are in."""
    if not isinstance(table, dict):
        raise PolicyError(f"{source}: [privacy] must be a table, not {table!r}")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise PolicyError(
            f"{source}: [privacy] {unknown[0]} is not a setting here (known: {', '.join(KEYS)})"
        )
    value = table.get("viewer_min_officers", DEFAULT_MIN_OFFICERS)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(
            f"{source}: [privacy] viewer_min_officers must be a whole number of officers from 1 "
            f"to {MAX_MIN_OFFICERS}, e.g. viewer_min_officers = 3, not {value!r}"
        )
    if not 1 <= value <= MAX_MIN_OFFICERS:
        raise PolicyError(
            f"{source}: [privacy] viewer_min_officers must be from 1 to {MAX_MIN_OFFICERS} "
            f"officers, not {value}; 3 is the usual minimum"
        )
    return value
