"""Rota rows and absences with their rules: the writes and lists the API, the import and the
dashboard all call.

A rota row is found again by (counter, officer, first day), so writing the same row twice changes
nothing and a changed row is updated in place: an import can be run again safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from hailong.errors import NotFound, RegistryError, UnknownId
from server.registry.clashes import check_rota
from server.storage.models import Counter, Officer, Unit
from server.storage.schedule import (
    Absence,
    AbsenceCreate,
    Rota,
    RotaCreate,
    RotaPublic,
    format_minute,
)

T = TypeVar("T")


def _known(session: Session, model: type, key: str, field: str, vi: str) -> None:
    if session.get(model, key) is None:
        what = field.removesuffix("_id")
        raise NotFound(
            f"{field}: không có {vi} {key!r}; unknown {what} {key!r}, create the {what} first"
        )


def _values(data: RotaCreate) -> dict[str, Any]:
    return {
        "last_day": data.to_day,
        "days": data.days,
        "every": data.every,
        "start_min": data.start_min,
        "end_min": data.end_min,
    }


def put_rota(session: Session, data: RotaCreate, *, commit: bool = True) -> tuple[Rota, str]:
    """Create the row, or update the one with the same (counter, officer, from); says which:
    "created", "updated" or "unchanged". With commit=False the caller commits (an import)."""
    _known(session, Counter, data.counter_id, "counter_id", "quầy")
    _known(session, Officer, data.officer_id, "officer_id", "cán bộ")
    counter = session.get(Counter, data.counter_id)
    officer = session.get(Officer, data.officer_id)
    assert counter is not None and officer is not None
    if not officer.active:
        raise RegistryError(
            f"officer_id: cán bộ {officer.id} đã nghỉ, không thể xếp lịch; officer {officer.id} "
            f"is inactive and cannot be put on a rota (make them active first)"
        )
    if officer.unit_id != counter.unit_id:
        raise RegistryError(
            f"officer_id: cán bộ {officer.id} thuộc đơn vị {officer.unit_id}, quầy "
            f"{counter.id} thuộc đơn vị {counter.unit_id}; officer {officer.id} belongs to unit "
            f"{officer.unit_id}, counter {counter.id} to unit {counter.unit_id} (move the "
            "officer first)"
        )
    stored = session.exec(
        select(Rota).where(
            Rota.counter_id == data.counter_id,
            Rota.officer_id == data.officer_id,
            Rota.first_day == data.from_day,
        )
    ).first()
    values = _values(data)
    if stored is not None and all(getattr(stored, k) == v for k, v in values.items()):
        return stored, "unchanged"
    candidate = Rota(
        id=stored.id if stored else None,
        counter_id=data.counter_id,
        officer_id=data.officer_id,
        first_day=data.from_day,
        **values,
    )
    check_rota(session, candidate)
    if stored is None:
        row, outcome = candidate, "created"
    else:
        for name, value in values.items():
            setattr(stored, name, value)
        row, outcome = stored, "updated"
    session.add(row)
    if commit:
        session.commit()
        session.refresh(row)
    else:
        session.flush()
    return row, outcome


def rota_public(row: Rota) -> RotaPublic:
    return RotaPublic.model_validate(
        {
            "id": row.id,
            "counter_id": row.counter_id,
            "officer_id": row.officer_id,
            "from": row.first_day,
            "to": row.last_day,
            "days": row.days,
            "every": row.every,
            "start": format_minute(row.start_min),
            "end": format_minute(row.end_min),
        }
    )


def list_rota(
    session: Session, unit_id: str | None = None, counter_id: str | None = None
) -> Sequence[Rota]:
    query = select(Rota).order_by(col(Rota.counter_id), col(Rota.first_day), col(Rota.id))
    if counter_id is not None:
        query = query.where(Rota.counter_id == counter_id)
    if unit_id is not None:
        query = query.join(Counter).where(Counter.unit_id == unit_id)
    return session.exec(query).all()


def delete_rota(session: Session, rota_id: int) -> Rota:
    """Removes the row and its shifts, past ones included: to stop a rota from a day on, write
    the row again with that day as `to`."""
    return _delete(session, Rota, rota_id, f"không có lịch trực {rota_id}; there is no rota row")


def add_absence(session: Session, data: AbsenceCreate) -> Absence:
    if data.officer_id is not None and data.unit_id is not None:
        raise RegistryError(
            "officer_id, unit_id: give one of them (leave of an officer, a day off of a unit) "
            "or neither (a public holiday), not both"
        )
    if data.officer_id is not None:
        _known(session, Officer, data.officer_id, "officer_id", "cán bộ")
    if data.unit_id is not None:
        _known(session, Unit, data.unit_id, "unit_id", "đơn vị")
    absence = Absence(
        officer_id=data.officer_id,
        unit_id=data.unit_id,
        start=data.start.astimezone(UTC),
        end=data.end.astimezone(UTC),
        note=data.note,
    )
    session.add(absence)
    session.commit()
    session.refresh(absence)
    return absence


def list_absences(session: Session, unit_id: str | None = None) -> Sequence[Absence]:
    """With `unit_id`: that unit's days off, its officers' leave and public holidays."""
    query = select(Absence).order_by(col(Absence.start), col(Absence.id))
    if unit_id is not None:
        officers = select(Officer.id).where(Officer.unit_id == unit_id)
        query = query.where(
            (col(Absence.unit_id) == unit_id)
            | col(Absence.officer_id).in_(officers)
            | (col(Absence.unit_id).is_(None) & col(Absence.officer_id).is_(None))
        )
    return session.exec(query).all()


def delete_absence(session: Session, absence_id: int) -> Absence:
    return _delete(
        session, Absence, absence_id, f"không có ngày nghỉ {absence_id}; there is no absence"
    )


def _delete(session: Session, model: type[T], key: int, missing: str) -> T:
    found = session.get(model, key)
    if found is None:
        raise UnknownId(f"{missing} {key}")
    session.delete(found)
    session.commit()
    return found
