"""An officer who leaves or moves: their shifts end, their history stays.

Deactivating an officer ends their one-off assignments and rota rows from now on (what was in the
past stays, so their ratings keep their officer); moving one to another unit is refused while
they still have shifts at the old unit's counters. Ratings carry the unit they were given when
stored, so a move changes no report of the past.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, or_, select

from hailong.errors import NotFound, RegistryError, UnknownId
from server.registry.rota import occurrences, span_text
from server.storage.models import Assignment, Counter, Officer, OfficerUpdate, Unit
from server.storage.schedule import Absence, Rota
from server.timeutil import utc, vn_day, vn_day_start

LEFT_NOTE = "nghỉ việc / left"


def _open_assignments(session: Session, officer_id: str, now: datetime) -> list[Assignment]:
    return list(
        session.exec(
            select(Assignment)
            .where(Assignment.officer_id == officer_id)
            .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > now))
            .order_by(col(Assignment.start))
        ).all()
    )


def _open_rotas(session: Session, officer_id: str, now: datetime) -> list[Rota]:
    return list(
        session.exec(
            select(Rota)
            .where(Rota.officer_id == officer_id)
            .where(or_(col(Rota.last_day).is_(None), col(Rota.last_day) >= vn_day(now)))
            .order_by(col(Rota.first_day))
        ).all()
    )


def end_shifts(session: Session, officer_id: str, now: datetime) -> list[str]:
    """End the officer's shifts from `now` (not committed); says what was ended.

    A one-off running now ends now, one that has not begun is removed. A rota row that has not
    begun is removed; one running stops after yesterday, or after today when today's shift has
    begun, with the officer's leave from now to the end of today so that no one rates them after
    they left."""
    now = utc(now)
    today = vn_day(now)
    ended: list[str] = []
    for a in _open_assignments(session, officer_id, now):
        if utc(a.start) >= now:
            session.delete(a)
            ended.append(f"assignment {a.id} at {a.counter_id} removed (not begun)")
        else:
            a.end = now
            session.add(a)
            ended.append(f"assignment {a.id} at {a.counter_id} ended {now.isoformat()}")
    begun_today = False
    for row in _open_rotas(session, officer_id, now):
        if row.first_day > today:
            session.delete(row)
            ended.append(f"rota {row.id} at {row.counter_id} removed (not begun)")
            continue
        started = [s for s, _ in occurrences(row, today, today) if s <= now]
        begun_today = begun_today or bool(started)
        row.last_day = today if started else today - timedelta(days=1)
        session.add(row)
        ended.append(f"rota {row.id} at {row.counter_id} ends {row.last_day.isoformat()}")
    if begun_today:
        tomorrow = vn_day_start(today + timedelta(days=1)).astimezone(UTC)
        session.add(Absence(officer_id=officer_id, start=now, end=tomorrow, note=LEFT_NOTE))
    return ended


def refuse_move(session: Session, officer: Officer, unit_id: str, now: datetime) -> None:
    """A move to `unit_id` while the officer has shifts still to come at their unit's counters
    is refused (the API's PATCH and the import alike)."""
    if session.get(Unit, unit_id) is None:
        raise NotFound(f"unit_id: không có đơn vị {unit_id!r}; unknown unit {unit_id!r}")
    old = set(session.exec(select(Counter.id).where(Counter.unit_id == officer.unit_id)).all())
    held = [a for a in _open_assignments(session, officer.id, now) if a.counter_id in old]
    rotas = [r for r in _open_rotas(session, officer.id, now) if r.counter_id in old]
    if not held and not rotas:
        return
    what = [
        f"quầy {a.counter_id} {span_text(utc(a.start), utc(a.end) if a.end else None)[0]}"
        for a in held
    ] + [f"lịch trực {r.id} ở quầy {r.counter_id}" for r in rotas]
    what_en = [f"assignment {a.id} at {a.counter_id}" for a in held] + [
        f"rota {r.id} at {r.counter_id}" for r in rotas
    ]
    raise RegistryError(
        f"unit_id: cán bộ {officer.id} còn ca trực ở đơn vị {officer.unit_id}: {', '.join(what)}; "
        f"kết thúc các ca đó trước. Officer {officer.id} still has shifts at unit "
        f"{officer.unit_id}: {', '.join(what_en)}; end them first (a rota row: write it again "
        "with a `to` day)"
    )


def update_officer(
    session: Session,
    officer_id: str,
    data: OfficerUpdate,
    before_commit: Callable[[list[str]], object] | None = None,
    now: datetime | None = None,
) -> Officer:
    """Only the fields sent change. `active` false ends the officer's shifts from now; a new
    `unit_id` is refused while they have shifts at the old unit. `before_commit` is told what
    was ended (for the audit event, which commits with the change)."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise UnknownId(f"there is no officer {officer_id!r}")
    moment = utc(now or datetime.now(UTC))
    changes = data.model_dump(exclude_unset=True)
    if changes.get("unit_id") not in (None, officer.unit_id):
        refuse_move(session, officer, changes["unit_id"], moment)
    ended: list[str] = []
    if changes.get("active") is False and officer.active:
        ended = end_shifts(session, officer_id, moment)
    for name, value in changes.items():
        setattr(officer, name, value)
    session.add(officer)
    if before_commit is not None:
        before_commit(ended)
    session.commit()
    session.refresh(officer)
    return officer
