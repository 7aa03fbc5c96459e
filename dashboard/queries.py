"""Database reads the dashboard needs beyond `server.reports`, which makes every figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from server.models import Counter, Device, Unit


def unit_names(session: Session) -> dict[str, str]:
    """Unit id → name, in name order: the unit selector's options and the table's unit column."""
    rows = session.exec(select(Unit.id, Unit.name).order_by(col(Unit.name), col(Unit.id))).all()
    return {unit_id: name for unit_id, name in rows}


@dataclass(frozen=True)
class DeviceRow:
    """A device with the names of where it stands, as last reported on its status topic."""

    id: str
    counter_id: str
    counter_name: str
    unit_name: str
    state: str | None
    last_seen_at: datetime | None
    outbox: int | None
    firmware: str | None
    revoked_at: datetime | None


def device_rows(session: Session) -> list[DeviceRow]:
    q = (
        select(Device, Counter.name, Unit.name)
        .join(Counter, col(Counter.id) == col(Device.counter_id))
        .join(Unit, col(Unit.id) == col(Counter.unit_id))
        .order_by(col(Unit.name), col(Counter.name), col(Device.id))
    )
    return [
        DeviceRow(
            id=d.id,
            counter_id=d.counter_id,
            counter_name=counter_name,
            unit_name=unit_name,
            state=d.state,
            last_seen_at=d.last_seen_at,
            outbox=d.outbox,
            firmware=d.firmware,
            revoked_at=d.revoked_at,
        )
        for d, counter_name, unit_name in session.exec(q).all()
    ]
