"""The registry as it is before an import, read in one query per table so that validating a
file of hundreds of rows costs a handful of queries rather than one per row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from server.storage.models import Counter, CounterField, Device, Officer, ServiceField, Unit


@dataclass
class Stored:
    units: dict[str, Unit]
    fields: dict[str, ServiceField]
    counters: dict[str, Counter]
    counter_fields: dict[str, set[str]]
    officers: dict[str, Officer]
    devices: dict[str, Device]
    active_devices: dict[str, str]  # counter -> its device that is not revoked

    @classmethod
    def load(cls, session: Session) -> Stored:
        links: dict[str, set[str]] = {}
        for link in session.exec(select(CounterField)):
            links.setdefault(link.counter_id, set()).add(link.field_id)
        devices = {d.id: d for d in session.exec(select(Device))}
        return cls(
            units={u.id: u for u in session.exec(select(Unit))},
            fields={f.id: f for f in session.exec(select(ServiceField))},
            counters={c.id: c for c in session.exec(select(Counter))},
            counter_fields=links,
            officers={o.id: o for o in session.exec(select(Officer))},
            devices=devices,
            active_devices={d.counter_id: d.id for d in devices.values() if d.revoked_at is None},
        )

    def ids(self, sheet: str) -> set[str]:
        table: dict[str, Any] = getattr(self, sheet)
        return set(table)

    def values(self, sheet: str, key: str) -> dict[str, Any] | None:
        """A stored row as the import's columns, to compare a sheet row with; None if new."""
        if sheet == "units" and (unit := self.units.get(key)):
            return {
                "id": key,
                "name": unit.name,
                "kind": unit.kind,
                "province": unit.province,
                "signin": unit.signin,
            }
        if sheet == "fields" and (found := self.fields.get(key)):
            return {"id": key, "name": found.name}
        if sheet == "counters" and (counter := self.counters.get(key)):
            return {
                "id": key,
                "name": counter.name,
                "unit_id": counter.unit_id,
                "field_ids": sorted(self.counter_fields.get(key, ())),
            }
        if sheet == "officers" and (officer := self.officers.get(key)):
            return {
                "id": key,
                "name": officer.name,
                "unit_id": officer.unit_id,
                "title": officer.title,
                "active": officer.active,
            }
        return None
