"""The checked rows written into the session, in the order of the sheets so that what a row
refers to is there first; nothing is committed here. The rules that need the registry as the
import leaves it (the rota's, and an officer moved or deactivated with shifts still ahead) run
here too, and what they refuse comes back as errors of the rows concerned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, or_, select

from hailong.errors import RegistryError
from server.registry.importing import sheets
from server.registry.importing.plan import UNCHANGED, Change, Plan
from server.registry.importing.report import RowError
from server.registry.importing.stored import Stored
from server.storage.models import (
    Assignment,
    Counter,
    CounterField,
    Device,
    Officer,
    ServiceField,
    Unit,
)
from server.storage.schedule import Rota, RotaCreate
from server.timeutil import vn_day

T = TypeVar("T", bound=SQLModel)


def write(session: Session, plan: Plan, stored: Stored, tick: Callable[[], None]) -> list[RowError]:
    errors: list[RowError] = []
    now = datetime.now(UTC)
    for sheet in sheets.SHEETS:
        for change in (c for c in plan.changes if c.sheet == sheet):
            tick()
            if sheet == "rota":
                _rota(session, change, errors)
            elif change.status != UNCHANGED:
                _WRITERS[sheet](session, stored, change, now)
        session.flush()
    errors.extend(_officers_leaving(session, plan.changes, now))
    return errors


def _upsert(session: Session, table: type[T], found: T | None, change: Change) -> T:
    """The stored record with the row's values, or a new one."""
    values = {k: v for k, v in change.target.items() if k != "field_ids"}
    if found is None:
        found = table.model_validate(values)
    else:
        for name, value in values.items():
            setattr(found, name, value)
    session.add(found)
    return found


def _unit(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    _upsert(session, Unit, stored.units.get(change.key), change)


def _field(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    _upsert(session, ServiceField, stored.fields.get(change.key), change)


def _counter(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    _upsert(session, Counter, stored.counters.get(change.key), change)
    session.flush()  # the counter before its links
    before = stored.counter_fields.get(change.key, set())
    after = set(change.target["field_ids"])
    for field_id in before - after:
        link = session.get(CounterField, (change.key, field_id))
        if link is not None:
            session.delete(link)
    session.add_all(CounterField(counter_id=change.key, field_id=f) for f in sorted(after - before))


def _officer(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    _upsert(session, Officer, stored.officers.get(change.key), change)


def _device(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    session.add(Device(id=change.key, counter_id=change.target["counter_id"], created_at=now))


_WRITERS: dict[str, Callable[[Session, Stored, Change, datetime], None]] = {
    "units": _unit,
    "fields": _field,
    "counters": _counter,
    "officers": _officer,
    "devices": _device,
}


def _rota(session: Session, change: Change, errors: list[RowError]) -> None:
    data: RotaCreate = change.target
    try:
        _, change.status = put_rota(session, data, commit=False)
    except RegistryError as exc:
        message = str(exc)
        column, _, rest = message.partition(":")
        known = sheets.SHEETS["rota"].column(column.strip()) is not None
        errors.append(
            RowError(
                sheet="rota",
                row=change.row,
                column=column.strip() if known else "",
                message_vi=f"lịch trực bị từ chối: {rest.strip() if known else message}",
                message_en=message,
            )
        )


def put_rota(session: Session, data: RotaCreate, *, commit: bool = True) -> tuple[Rota, str]:
    """A rota row found again by its counter, officer and first day, created or updated."""
    values: dict[str, Any] = {
        "counter_id": data.counter_id,
        "officer_id": data.officer_id,
        "first_day": data.from_day,
        "last_day": data.to_day,
        "days": data.days,
        "every": data.every,
        "start_min": data.start_min,
        "end_min": data.end_min,
    }
    found = session.exec(
        select(Rota)
        .where(Rota.counter_id == data.counter_id)
        .where(Rota.officer_id == data.officer_id)
        .where(Rota.first_day == data.from_day)
    ).first()
    status = "created" if found is None else "updated"
    if found is not None and all(getattr(found, k) == v for k, v in values.items()):
        return found, UNCHANGED
    rota = found or Rota.model_validate(values)
    for name, value in values.items():
        setattr(rota, name, value)
    session.add(rota)
    session.flush()
    if commit:
        session.commit()
    return rota, status


def _officers_leaving(session: Session, changes: list[Change], now: datetime) -> list[RowError]:
    """An officer moved to another unit, or deactivated, must have no shift still to come at a
    counter they no longer serve: end those first, so no rating lands on the wrong unit."""
    moved, leaving = {}, {}
    for c in changes:
        if c.sheet != "officers" or c.stored is None:
            continue
        if c.stored["active"] and not c.target["active"]:
            leaving[c.key] = c
        elif c.stored["unit_id"] != c.target["unit_id"]:
            moved[c.key] = c
    ids = list(moved | leaving)
    if not ids:
        return []
    today = vn_day(now)
    shifts: list[tuple[str, str, str]] = [
        (a.officer_id, a.counter_id, f"{a.start:%Y-%m-%d %H:%M} UTC")
        for a in session.exec(
            select(Assignment)
            .where(col(Assignment.officer_id).in_(ids))
            .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > now))
        )
    ]
    shifts += [
        (r.officer_id, r.counter_id, f"rota {r.first_day.isoformat()}")
        for r in session.exec(
            select(Rota)
            .where(col(Rota.officer_id).in_(ids))
            .where(or_(col(Rota.last_day).is_(None), col(Rota.last_day) >= today))
        )
    ]
    errors: dict[str, RowError] = {}
    for officer_id, counter_id, when in shifts:
        counter = session.get(Counter, counter_id)
        unit_id = counter.unit_id if counter else None
        if officer_id in errors:
            continue
        if officer_id in leaving:
            change, column = leaving[officer_id], "active"
        elif unit_id != moved[officer_id].target["unit_id"]:
            change, column = moved[officer_id], "unit_id"
        else:
            continue
        errors[officer_id] = RowError(
            sheet="officers",
            row=change.row,
            column=column,
            message_vi=f"cán bộ {officer_id!r} còn ca trực ở quầy {counter_id!r} ({when}): kết "
            "thúc ca đó trước (ghi ngày kết thúc cho lịch trực)",
            message_en=f"officer {officer_id!r} still has shifts at counter {counter_id!r} "
            f"({when}): end them first (give the rota a 'to' day)",
        )
    return list(errors.values())
