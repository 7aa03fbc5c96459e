"""The resolved roster: who is at which counter between two moments, read from the database.

Reads the counters' assignments and rotas, the absences of the span and the counters' units in a
few queries (in chunks of ids, never one query per counter, so a batch or a refresh over ten
thousand counters stays a handful of round trips), then resolves them with server/registry/rota.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, or_, select

from server.registry.rota import Shift, resolve, utc
from server.storage.models import Assignment, Counter
from server.storage.schedule import Absence, Rota
from server.timeutil import vn_day, vn_day_start

__all__ = ["Shift", "resolved_shifts", "rows_between"]

CHUNK = 500  # ids per IN (...): well under every database's limit on bound parameters


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def rows_between(
    session: Session, counter_ids: Iterable[str], first: datetime, last: datetime
) -> tuple[list[Rota], list[Assignment], list[Absence], dict[str, str]]:
    """The rows that decide the counters' shifts over first..last: rotas, assignments, absences
    and each counter's unit. Assignments and absences are read over the span's whole Vietnam
    days, so that a rota shift is cut the same way whichever part of its day is asked about."""
    ids = sorted(set(counter_ids))
    first_day, last_day = vn_day(utc(first)), vn_day(utc(last))
    first = vn_day_start(first_day).astimezone(UTC)
    last = vn_day_start(last_day + timedelta(days=1)).astimezone(UTC)
    rotas: list[Rota] = []
    assignments: list[Assignment] = []
    units: dict[str, str] = {}
    for chunk in _chunks(ids):
        rotas += session.exec(
            select(Rota)
            .where(col(Rota.counter_id).in_(chunk))
            .where(col(Rota.first_day) <= last_day)
            .where(or_(col(Rota.last_day).is_(None), col(Rota.last_day) >= first_day))
        ).all()
        assignments += session.exec(
            select(Assignment)
            .where(col(Assignment.counter_id).in_(chunk))
            .where(col(Assignment.start) < last)
            .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > first))
        ).all()
        counters = select(Counter.id, Counter.unit_id).where(col(Counter.id).in_(chunk))
        units.update((key, unit) for key, unit in session.exec(counters))
    absences: list[Absence] = []
    if rotas:
        absences = list(
            session.exec(
                select(Absence).where(col(Absence.start) < last).where(col(Absence.end) > first)
            ).all()
        )
    return rotas, assignments, absences, units


def resolved_shifts(
    session: Session, counter_ids: Iterable[str], first: datetime, last: datetime
) -> dict[str, list[Shift]]:
    """Each counter's resolved shifts that overlap first..last (start <= last, end > first),
    sorted by start; a counter with none is left out."""
    ids = list(counter_ids)
    if not ids:
        return {}
    rotas, assignments, absences, units = rows_between(session, ids, first, last)
    return resolve(first, last, rotas, assignments, absences, units)
