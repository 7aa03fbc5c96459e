"""Who was on duty: the officer at a counter at a moment, from its resolved shifts.

The ingest attributes ratings with it, the queue system's services are attributed the same way,
and each unit's Config shows the officer on duty now: one rule for all three. The shifts are the
resolved ones (server/registry/roster.py): one-off assignments over rotas, less absences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session

from server.registry.roster import Shift, resolved_shifts
from server.timeutil import utc


def shifts_between(
    session: Session, counter_ids: Iterable[str], first: datetime, last: datetime
) -> dict[str, list[Shift]]:
    """The counters' resolved shifts that overlap first..last: a counter gathers thousands of
    shifts over the years, and every batch would otherwise read them all."""
    return resolved_shifts(session, counter_ids, first, last)


def officer_at(shifts: Sequence[Shift], moment: datetime) -> str | None:
    """The officer on duty at `moment` (start inclusive, end exclusive), if any."""
    moment = utc(moment)
    for s in shifts:
        if s.start <= moment and (s.end is None or moment < s.end):
            return s.officer_id
    return None


def officer_named(
    shifts: Sequence[Shift], officer_id: str | None, first: datetime, last: datetime
) -> str | None:
    """`officer_id` if that officer was on duty at some moment of first..last, else None."""
    first, last = utc(first), utc(last)
    for s in shifts:
        if s.officer_id == officer_id and s.start <= last and (s.end is None or s.end > first):
            return officer_id
    return None
