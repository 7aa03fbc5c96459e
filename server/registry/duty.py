"""Who was on duty: the officer assigned to a counter at a moment, from its shifts.

The ingest attributes ratings with it, the queue system's services are attributed the same way,
and each unit's Config shows the officer on duty now: one rule for all three.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, or_, select

from server.storage.models import Assignment


def shifts_between(
    session: Session, counter_ids: Iterable[str], first: datetime, last: datetime
) -> dict[str, list[Assignment]]:
    """The counters' shifts that overlap first..last: a counter gathers thousands of shifts
    over the years, and every batch would otherwise read them all."""
    ids = list(counter_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(Assignment)
        .where(col(Assignment.counter_id).in_(ids))
        .where(col(Assignment.start) <= last)
        .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > first))
    ).all()
    found: dict[str, list[Assignment]] = defaultdict(list)
    for a in rows:
        found[a.counter_id].append(a)
    return dict(found)


def officer_at(assignments: Sequence[Assignment], moment: datetime) -> str | None:
    """The officer assigned at `moment` (start inclusive, end exclusive), if any."""
    for a in assignments:
        if a.start <= moment and (a.end is None or moment < a.end):
            return a.officer_id
    return None


def officer_named(
    assignments: Sequence[Assignment], officer_id: str | None, first: datetime, last: datetime
) -> str | None:
    """`officer_id` if that officer was assigned at some moment of first..last, else None."""
    for a in assignments:
        if a.officer_id == officer_id and a.start <= last and (a.end is None or a.end > first):
            return officer_id
    return None
