"""Edits of what the registry names: a unit, a field or a counter changed in place, given the
same shape that creates it.

An id never changes, since ratings and history point at it; nor does a counter's unit, since the
unit's reports count what was rated at its counters: a counter that moves is a new counter.
"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, col, delete

from hailong.errors import NotFound, RegistryError, UnknownId
from server.storage.models import (
    Counter,
    CounterCreate,
    CounterField,
    CounterPublic,
    ServiceField,
    ServiceFieldCreate,
    Unit,
    UnitCreate,
)

T = TypeVar("T")


def _stored(session: Session, model: type[T], key: str, what: str) -> T:
    found = session.get(model, key)
    if found is None:
        raise UnknownId(f"there is no {what} {key!r}; create it first")
    return found


def update_unit(session: Session, data: UnitCreate) -> Unit:
    unit = _stored(session, Unit, data.id, "unit")
    unit.sqlmodel_update(data.model_dump())
    session.add(unit)
    session.commit()
    return unit


def update_field(session: Session, data: ServiceFieldCreate) -> ServiceField:
    found = _stored(session, ServiceField, data.id, "field")
    found.name = data.name
    session.add(found)
    session.commit()
    return found


def refuse_counter_move(counter: Counter, unit_id: str) -> None:
    """The screens' edit and the import both keep a counter in its unit."""
    if unit_id != counter.unit_id:
        raise RegistryError(
            f"unit_id: quầy {counter.id!r} thuộc đơn vị {counter.unit_id!r} và ở lại đó, như các "
            "đánh giá của quầy; hãy tạo quầy mới ở đơn vị kia; "
            f"counter {counter.id!r} belongs to unit {counter.unit_id!r} and stays there, as its "
            "ratings do; create a new counter in the other unit"
        )


def update_counter(session: Session, data: CounterCreate) -> CounterPublic:
    """Its name and the fields it serves (the list replaces the stored one)."""
    counter = _stored(session, Counter, data.id, "counter")
    refuse_counter_move(counter, data.unit_id)
    field_ids = list(dict.fromkeys(data.field_ids))
    for field_id in field_ids:
        if session.get(ServiceField, field_id) is None:
            raise NotFound(f"field_ids: unknown field {field_id!r}; create the field first")
    counter.name = data.name
    session.add(counter)
    session.exec(delete(CounterField).where(col(CounterField.counter_id) == data.id))
    session.add_all(CounterField(counter_id=data.id, field_id=f) for f in field_ids)
    session.commit()
    return CounterPublic(id=data.id, name=data.name, unit_id=data.unit_id, field_ids=field_ids)
