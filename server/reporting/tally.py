"""Pure tallies of newly stored rows, as the rollups count them (server/storage/rollups.py).

The ingest adds the counts of exactly the rows it inserted (INSERT … RETURNING), in the same
transaction, so the rollups can never drift from the ratings while the database is only written by
the server; the recount (server/reporting/recount.py) tallies the raw rows the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any, Protocol

from server.storage.rollups import NO_OFFICER, Key, Values, merge


class Tallied(Protocol):
    """What the tallies read of a stored rating: a RatingRow (server/storage/rows.py) as the
    ingest stores it, or the columns of one read back for a rebuild."""

    @property
    def day(self) -> date: ...
    @property
    def counter_id(self) -> str | None: ...
    @property
    def officer_id(self) -> str | None: ...
    @property
    def unit_id(self) -> str | None: ...
    @property
    def scale(self) -> str: ...
    @property
    def score(self) -> int: ...
    @property
    def ticket(self) -> str | None: ...
    @property
    def reasons(self) -> str: ...
    @property
    def flags(self) -> str: ...
    @property
    def input(self) -> str: ...


def is_flagged(flags: str, counted: Collection[str]) -> bool:
    """Does a rating's stored `flags` text carry a flag the policy counts as misuse?"""
    return bool(flags) and any(flag in counted for flag in flags.split(","))


def officer_of(r: Tallied, officer_excluded: Collection[str]) -> str:
    """The officer a rating counts for: NO_OFFICER when nobody was on duty, or when it carries
    a flag of the policy's `[channels] officer_excluded` (it still counts for its counter and
    unit, and is not flagged as misuse for that; the stored rating keeps its officer)."""
    if r.officer_id is None or is_flagged(r.flags, officer_excluded):
        return NO_OFFICER
    return r.officer_id


def tally(
    rows: Iterable[Tallied], counted: Collection[str] = (), officer_excluded: Collection[str] = ()
) -> dict[Key, Values]:
    """Stored rating rows → (n, flagged, ticketed) per (day, counter, officer, scale, score,
    unit); `counted` are the misuse flags that leave a rating out of scores, `officer_excluded`
    the flags that leave it out of any officer's (`officer_of`). `ticketed` counts only
    unflagged ratings with a ticket: a flagged rating is never a rated service."""
    counts: dict[Key, Values] = {}
    for r in rows:
        key = (
            r.day,
            r.counter_id or "",
            officer_of(r, officer_excluded),
            r.scale,
            r.score,
            r.unit_id or "",
        )
        flagged = 1 if is_flagged(r.flags, counted) else 0
        ticketed = 1 if r.ticket is not None and not flagged else 0
        merge(counts, key, (1, flagged, ticketed))
    return counts


def tally_reasons(
    rows: Iterable[Tallied], counted: Collection[str] = (), officer_excluded: Collection[str] = ()
) -> dict[Key, Values]:
    """Stored rating rows → (n, flagged) per (day, counter, officer, reason, unit)."""
    counts: dict[Key, Values] = {}
    for r in rows:
        if not r.reasons:
            continue
        flagged = 1 if is_flagged(r.flags, counted) else 0
        officer = officer_of(r, officer_excluded)
        for reason in r.reasons.split(","):
            key = (r.day, r.counter_id or "", officer, reason, r.unit_id or "")
            merge(counts, key, (1, flagged))
    return counts


def tally_flags(
    rows: Iterable[Tallied], officer_excluded: Collection[str] = ()
) -> dict[Key, Values]:
    """Stored rating rows → (n,) per (day, counter, officer, flag, unit): how many ratings
    carried each flag, flagged as misuse by the policy or not."""
    counts: dict[Key, Values] = {}
    for r in rows:
        for flag in r.flags.split(","):
            if not flag:
                continue
            key = (
                r.day,
                r.counter_id or "",
                officer_of(r, officer_excluded),
                flag,
                r.unit_id or "",
            )
            merge(counts, key, (1,))
    return counts


def tally_channels(
    rows: Iterable[Tallied], counted: Collection[str] = (), officer_excluded: Collection[str] = ()
) -> dict[Key, Values]:
    """Stored rating rows → (n, flagged) per (day, counter, officer, input, unit): how many
    ratings came by each channel, and how many of those the policy left out."""
    counts: dict[Key, Values] = {}
    for r in rows:
        flagged = 1 if is_flagged(r.flags, counted) else 0
        key = (r.day, r.counter_id or "", officer_of(r, officer_excluded), r.input, r.unit_id or "")
        merge(counts, key, (1, flagged))
    return counts


def tally_services(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Values]:
    """Stored service rows → (n,) per (day, counter, officer, unit)."""
    counts: dict[Key, Values] = {}
    for r in rows:
        key = (r["day"], r["counter_id"], r["officer_id"] or NO_OFFICER, r["unit_id"] or "")
        merge(counts, key, (1,))
    return counts
