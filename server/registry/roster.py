"""The resolved roster: who is at which counter between two moments, read from the database.

Reads the counters' assignments and rotas, the absences of the span and the counters' units in a
few queries (in chunks of ids, never one query per counter, so a batch or a refresh over ten
thousand counters stays a handful of round trips), then resolves them with server/registry/rota.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, or_, select

from hailong.errors import RegistryError
from server.registry.rota import SIGNIN, AbsenceRow, Shift, resolve
from server.storage.models import Assignment, Counter, Officer
from server.storage.schedule import Absence, Rota
from server.timeutil import utc, vn_day, vn_day_start

__all__ = ["RosterShift", "Shift", "SignedIn", "resolved_shifts", "roster", "rows_between"]

CHUNK = 500  # ids per IN (...): well under every database's limit on bound parameters
MAX_ROSTER_DAYS = 62  # two months: a calendar page and its edges


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


@dataclass
class SignedIn:
    """An officer's sign-in at some counter, as an absence from their rota shifts everywhere:
    an officer who signed in at one counter is not at the one their rota names (at the counter
    they signed in at, the sign-in itself wins over the rota)."""

    officer_id: str | None
    start: datetime
    end: datetime
    unit_id: str | None = None


def rows_between(
    session: Session, counter_ids: Iterable[str], first: datetime, last: datetime
) -> tuple[list[Rota], list[Assignment], list[AbsenceRow], dict[str, str]]:
    """The rows that decide the counters' shifts over first..last: rotas, assignments, absences
    (with the rota officers' sign-ins, as `SignedIn`) and each counter's unit. Assignments and
    absences are read over the span's whole Vietnam days, so that a rota shift is cut the same
    way whichever part of its day is asked about."""
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
    absences: list[AbsenceRow] = []
    if rotas:
        absences = list(
            session.exec(
                select(Absence).where(col(Absence.start) < last).where(col(Absence.end) > first)
            ).all()
        )
    for chunk in _chunks(sorted({r.officer_id for r in rotas})):
        absences += [
            SignedIn(a.officer_id, a.start, a.end if a.end is not None else last)
            for a in session.exec(
                select(Assignment)
                .where(Assignment.source == SIGNIN)
                .where(col(Assignment.officer_id).in_(chunk))
                .where(col(Assignment.start) < last)
                .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > first))
            )
        ]
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


class RosterShift(SQLModel):
    """A resolved shift as the roster shows it."""

    counter_id: str
    counter_name: str
    officer_id: str
    officer_name: str
    start: datetime
    end: datetime | None = Field(description="null: a one-off assignment with no end yet")
    source: str = Field(
        description='"rota", "assignment" (a one-off, wins over the rota) or "signin" (the '
        "officer signed in at the unit's counter: wins over both)"
    )
    rota_id: int | None = None
    assignment_id: int | None = None


class RosterSpanError(RegistryError):
    """A roster asked for a span the server does not resolve in one go."""


def roster(session: Session, unit_id: str, start: datetime, end: datetime) -> list[RosterShift]:
    """Every resolved shift at the unit's counters that overlaps start..end, by counter and time."""
    if end <= start:
        raise RosterSpanError("end: phải sau start; end must be after start")
    if end - start > timedelta(days=MAX_ROSTER_DAYS):
        raise RosterSpanError(
            f"end: tối đa {MAX_ROSTER_DAYS} ngày mỗi lần; at most {MAX_ROSTER_DAYS} days at a "
            "time, ask for the next span after this one"
        )
    counters = dict(
        (key, name)
        for key, name in session.exec(
            select(Counter.id, Counter.name).where(Counter.unit_id == unit_id)
        )
    )
    found = resolved_shifts(session, counters, start, end - timedelta.resolution)
    officer_ids = {s.officer_id for shifts in found.values() for s in shifts}
    names = dict(
        (key, name)
        for key, name in session.exec(
            select(Officer.id, Officer.name).where(col(Officer.id).in_(officer_ids))
        )
    )
    return [
        RosterShift(
            counter_id=s.counter_id,
            counter_name=counters[s.counter_id],
            officer_id=s.officer_id,
            officer_name=names.get(s.officer_id, ""),
            start=s.start,
            end=s.end,
            source=s.source,
            rota_id=s.rota_id,
            assignment_id=s.assignment_id,
        )
        for counter_id in sorted(found)
        for s in found[counter_id]
    ]
