"""The duty rules a write must keep: an officer is at one counter at a time, and a counter has one
officer at a time from its rotas (a one-off assignment may cover a rota shift: it wins; an
officer's sign-in at a unit is never refused, and wins over both).

Checked over the resolved shifts with the change applied, in memory (nothing is flushed, so an
import can check row after row inside one transaction), over a bounded horizon: a rota repeats,
so one common period of the rows involved after the latest start shows every clash there is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, or_, select

from hailong.errors import RegistryError
from server.registry.roster import rows_between
from server.registry.rota import Shift, overlaps, period_days, resolve, span_text
from server.storage.models import Assignment
from server.storage.schedule import Rota
from server.timeutil import utc, vn_day, vn_day_start

MAX_HORIZON_DAYS = 731  # two years: past that a clash is found when the later rows are written


def _officer_rows(
    session: Session, officer_id: str, counter_id: str, first: datetime, last: datetime | None
) -> tuple[list[Rota], list[Assignment]]:
    """The rotas and one-offs of the officer, and the rotas of the counter, that can meet the
    change's span."""
    rotas = select(Rota).where(
        or_(Rota.officer_id == officer_id, Rota.counter_id == counter_id),
        or_(col(Rota.last_day).is_(None), col(Rota.last_day) >= vn_day(first)),
    )
    ones = select(Assignment).where(
        Assignment.officer_id == officer_id,
        or_(col(Assignment.end).is_(None), col(Assignment.end) > first),
    )
    if last is not None:
        rotas = rotas.where(col(Rota.first_day) <= vn_day(last))
        ones = ones.where(col(Assignment.start) < last)
    return list(session.exec(rotas).all()), list(session.exec(ones).all())


def horizon(
    first_day: date, last_day: date | None, rotas: Sequence[Rota], ones: Sequence[Assignment]
) -> date:
    """The last Vietnam day to check: `last_day`, or one common period of the rotas after the
    latest start (of a rota or a one-off), whichever is sooner, at most two years on."""
    starts = [first_day, *(r.first_day for r in rotas), *(vn_day(utc(a.start)) for a in ones)]
    period = math.lcm(*(period_days(r) for r in rotas)) if rotas else 1
    ends = [vn_day(utc(a.end)) for a in ones if a.end is not None]
    end = max([max(starts) + timedelta(days=min(period, MAX_HORIZON_DAYS)), *ends])
    end = min(end, first_day + timedelta(days=MAX_HORIZON_DAYS))
    return end if last_day is None else min(end, last_day)


def _officer_clash(officer_id: str, other: Shift) -> RegistryError:
    vi, en = span_text(other.start, other.end)
    return RegistryError(
        f"cán bộ {officer_id} đã ở quầy {other.counter_id} {vi} (giờ Việt Nam); "
        f"officer {officer_id} is already at counter {other.counter_id} {en} (Vietnam time)"
    )


def _counter_clash(counter_id: str, other: Shift) -> RegistryError:
    vi, en = span_text(other.start, other.end)
    return RegistryError(
        f"quầy {counter_id} đã có cán bộ {other.officer_id} theo lịch trực {other.rota_id} {vi} "
        f"(giờ Việt Nam); counter {counter_id} already has officer {other.officer_id} from rota "
        f"{other.rota_id} {en} (Vietnam time)"
    )


def _first_clash(mine: Sequence[Shift], others: Sequence[Shift]) -> Shift | None:
    for shift in mine:
        for other in others:
            if overlaps(shift.start, shift.end, other.start, other.end):
                return other
    return None


def _check(
    session: Session,
    change: Rota | Assignment,
    counters: set[str],
    first: datetime,
    last: datetime,
) -> None:
    """Resolve the officer's and the counter's shifts over first..last with `change` in place
    of what is stored under its id (or its rota key) and refuse a clash with it."""
    officer_id, counter_id = change.officer_id, change.counter_id
    stored_rotas, stored_ones, absences, units = rows_between(session, counters, first, last)
    if isinstance(change, Rota):
        key = (counter_id, officer_id, change.first_day)
        rotas = [r for r in stored_rotas if (r.counter_id, r.officer_id, r.first_day) != key]
        rotas.append(change)
        ones = stored_ones
        source, ident = "rota", "rota_id"
    else:
        rotas = stored_rotas
        ones = [a for a in stored_ones if a.id != change.id] + [change]
        source, ident = "assignment", "assignment_id"

    def is_new(s: Shift) -> bool:
        return (
            s.source == source
            and getattr(s, ident) == change.id
            and (s.counter_id, s.officer_id) == (counter_id, officer_id)
        )

    resolved = resolve(first, last, rotas, ones, absences, units)
    shifts = [s for found in resolved.values() for s in found]
    mine = [s for s in shifts if is_new(s)]
    # An officer's sign-in elsewhere does not refuse the plan: it wins where they meet.
    others = [
        s for s in shifts if not is_new(s) and s.officer_id == officer_id and s.source != "signin"
    ]
    clash = _first_clash(mine, [s for s in others if s.counter_id != counter_id])
    if clash is not None:
        raise _officer_clash(officer_id, clash)
    at_counter = [s for s in resolved.get(counter_id, []) if s.source == "rota" and not is_new(s)]
    clash = _first_clash([s for s in mine if s.source == "rota"], at_counter)
    if clash is not None:
        raise _counter_clash(counter_id, clash)


def check_rota(session: Session, row: Rota) -> None:
    """Refuse `row` (new or changed, not flushed) if it puts its officer at two counters at once
    or its counter under two rotas at once."""
    first = vn_day_start(row.first_day).astimezone(UTC)
    last = vn_day_start(row.last_day + timedelta(days=1)).astimezone(UTC) if row.last_day else None
    rotas, ones = _officer_rows(session, row.officer_id, row.counter_id, first, last)
    rotas = [r for r in rotas if r.id != row.id]
    end_day = horizon(row.first_day, row.last_day, [*rotas, row], ones)
    until = vn_day_start(end_day + timedelta(days=1)).astimezone(UTC)
    counters = {row.counter_id, *(r.counter_id for r in rotas), *(a.counter_id for a in ones)}
    _check(session, row, counters, first, until)


def check_assignment(session: Session, assignment: Assignment) -> None:
    """Refuse a one-off (new or changed, not flushed) that puts its officer at two counters."""
    first = utc(assignment.start)
    last = utc(assignment.end) if assignment.end is not None else None
    rotas, ones = _officer_rows(session, assignment.officer_id, assignment.counter_id, first, last)
    rotas = [r for r in rotas if r.officer_id == assignment.officer_id]
    ones = [a for a in ones if a.id != assignment.id]
    end_day = horizon(vn_day(first), vn_day(last) if last else None, rotas, ones)
    until = vn_day_start(end_day + timedelta(days=1)).astimezone(UTC)
    until = min(until, last) if last is not None else until
    counters = {assignment.counter_id, *(r.counter_id for r in rotas)}
    _check(session, assignment, counters | {a.counter_id for a in ones}, first, until)
