"""The checked rows written into the session, in the order of the sheets so that what a row
refers to is there first; nothing is committed here. The registry's own rules run on each write,
as they do for the API and the screens: the rota's (`rota_writes.put_rota`: an officer at two
counters at once, an officer of another unit), an officer's move or leaving (`officers`), a
counter kept in its unit (`edits`); what they refuse comes back as an error of the row concerned."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlmodel import Session, SQLModel

from hailong.errors import RegistryError
from server.registry.edits import refuse_counter_move
from server.registry.importing import sheets
from server.registry.importing.plan import UNCHANGED, Change, Plan
from server.registry.importing.report import RowError
from server.registry.importing.stored import Stored
from server.registry.officers import end_shifts, refuse_move
from server.registry.rota_writes import put_rota
from server.storage.models import Counter, CounterField, Device, Officer, ServiceField, Unit

T = TypeVar("T", bound=SQLModel)


def write(session: Session, plan: Plan, stored: Stored, tick: Callable[[], None]) -> list[RowError]:
    errors: list[RowError] = []
    now = datetime.now(UTC)
    for sheet in sheets.SHEETS:
        for change in (c for c in plan.changes if c.sheet == sheet):
            tick()
            try:
                if sheet == "rota":
                    _, change.status = put_rota(session, change.target, commit=False)
                elif change.status != UNCHANGED:
                    _WRITERS[sheet](session, stored, change, now)
            except RegistryError as exc:
                errors.append(rule_error(sheet, change.row, str(exc)))
        session.flush()
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
    """As the screens' edit does it: a counter stays in its unit."""
    found = stored.counters.get(change.key)
    if found is not None:
        refuse_counter_move(found, change.target["unit_id"])
    _upsert(session, Counter, found, change)
    session.flush()  # the counter before its links
    before = stored.counter_fields.get(change.key, set())
    after = set(change.target["field_ids"])
    for field_id in before - after:
        link = session.get(CounterField, (change.key, field_id))
        if link is not None:
            session.delete(link)
    session.add_all(CounterField(counter_id=change.key, field_id=f) for f in sorted(after - before))


def _officer(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    """As `PATCH /officers` does it: a move is refused while the officer has shifts to come at
    the old unit; one who leaves has their shifts ended from now."""
    found = stored.officers.get(change.key)
    if found is not None and found.unit_id != change.target["unit_id"]:
        refuse_move(session, found, change.target["unit_id"], now)
    if found is not None and found.active and not change.target["active"]:
        end_shifts(session, found.id, now)
    _upsert(session, Officer, found, change)


def _device(session: Session, stored: Stored, change: Change, now: datetime) -> None:
    session.add(Device(id=change.key, counter_id=change.target["counter_id"], created_at=now))


_WRITERS: dict[str, Callable[[Session, Stored, Change, datetime], None]] = {
    "units": _unit,
    "fields": _field,
    "counters": _counter,
    "officers": _officer,
    "devices": _device,
}


def rule_error(sheet: str, row: int, message: str) -> RowError:
    """A registry rule's refusal as a row's error: `column: tiếng Việt; English`, where the
    column and the Vietnamese are there when the rule gives them."""
    column, colon, rest = message.partition(":")
    if not colon or sheets.SHEETS[sheet].column(column.strip()) is None:
        column, rest = "", message
    vi, en = _languages(rest.strip())
    return RowError(sheet=sheet, row=row, column=column.strip(), message_vi=vi, message_en=en)


def _languages(message: str) -> tuple[str, str]:
    """The registry's messages are Vietnamese then English, joined by `; ` or `. `: the English
    is the longest tail that holds no Vietnamese letter (ids are ASCII)."""
    for found in re.finditer(r"[;.] ", message):
        tail = message[found.end() :]
        if tail.isascii():
            return message[: found.start() + (found.group()[0] == ".")].strip(), tail.strip()
    return message, message
