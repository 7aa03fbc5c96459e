"""Edits of a unit, a field and a counter in place, on each database: what changes, what never
does (an id, a counter's unit), and what a wrong reference says."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from hailong.errors import NotFound, RegistryError, UnknownId
from server.registry import edits
from server.storage.models import (
    CounterCreate,
    CounterField,
    ServiceField,
    ServiceFieldCreate,
    Unit,
    UnitCreate,
)
from tests.server.registry.test_registry import session

__all__ = ["session"]  # the fixture this module uses: DH, counter DH-Q1 serving tu-phap


def test_a_unit_and_a_field_change_in_place(session: Session) -> None:
    edits.update_unit(session, UnitCreate(id="DH", name="Phường Diên Hồng mới", kind="commune"))
    edits.update_field(session, ServiceFieldCreate(id="tu-phap", name="Tư pháp - Hộ tịch"))

    session.expire_all()
    unit = session.get(Unit, "DH")
    assert unit is not None
    assert (unit.name, unit.kind, unit.province) == ("Phường Diên Hồng mới", "commune", None)
    field = session.get(ServiceField, "tu-phap")
    assert field is not None and field.name == "Tư pháp - Hộ tịch"


def test_a_counters_fields_are_replaced_by_the_list_sent(session: Session) -> None:
    session.add(ServiceField(id="dat-dai", name="Đất đai"))
    session.commit()

    done = edits.update_counter(
        session,
        CounterCreate(id="DH-Q1", name="Quầy 1", unit_id="DH", field_ids=["dat-dai", "dat-dai"]),
    )

    assert done.field_ids == ["dat-dai"]
    links = session.exec(select(CounterField.field_id)).all()
    assert list(links) == ["dat-dai"]


def test_what_an_edit_refuses(session: Session) -> None:
    with pytest.raises(UnknownId, match="there is no unit 'XX'"):
        edits.update_unit(session, UnitCreate(id="XX", name="Xã X", kind="commune"))
    with pytest.raises(RegistryError, match="belongs to unit 'DH' and stays there"):
        edits.update_counter(session, CounterCreate(id="DH-Q1", name="Quầy 1", unit_id="XA"))
    with pytest.raises(NotFound, match="unknown field 'nope'"):
        edits.update_counter(
            session, CounterCreate(id="DH-Q1", name="Quầy 1", unit_id="DH", field_ids=["nope"])
        )
    session.rollback()
    assert session.exec(select(CounterField.field_id)).all() == ["tu-phap"]
