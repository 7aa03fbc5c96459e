"""The fleet view: every unit's device with its status and since when, who is on duty at its
counter, its backlog and the ratings it never delivered; the counts of each status, a filter and a
search. `GET /api/v1/fleet`, the dashboard's fleet page and the silent-unit alert read it.

It lives with ingest because what it reports is what ingest recorded: each Status on the device
row, the connection history (`connections.py`) and the seq gaps (`ordering.py`). The whole view
is a handful of queries whatever the fleet's size: the history is read through correlated
subqueries that walk its (device, time) index from the newest row back, not row by row here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Table, func, or_, select
from sqlmodel import Session, col

from server.ingest.connections import OFFLINE, ONLINE
from server.ingest.ordering import missing_seqs
from server.registry.duty import officer_at, shifts_between
from server.registry.fleet_status import STATUSES, counts, device_status, spell_start
from server.storage.models import Counter, Device, DeviceConnection, Officer, Unit

CONNECTION: Table = DeviceConnection.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DeviceState:
    """A device as the fleet sees it: where it is, its status and since when. `connected_at` is
    its last connection (the history's last online row): the silent alert keys a spell on it."""

    device_id: str
    counter_id: str
    counter_name: str
    unit_id: str
    unit_name: str
    status: str
    since: datetime | None
    connected_at: datetime | None
    last_seen_at: datetime | None
    firmware: str | None
    outbox: int | None
    ignored_presses: int | None


class FleetRow(BaseModel):
    device_id: str
    counter_id: str
    counter_name: str
    unit_id: str
    unit_name: str
    status: str = Field(description=" | ".join(STATUSES))
    since: datetime | None = Field(description="when the current status began")
    last_seen_at: datetime | None
    officer_id: str | None = Field(description="the officer on duty at the counter now")
    officer_name: str | None
    outbox: int | None = Field(description="ratings the unit still holds (its last Status)")
    missing_seqs: int = Field(description="ratings it numbered but never delivered")
    firmware: str | None
    ignored_presses: int | None


class FleetView(BaseModel):
    counts: dict[str, int] = Field(
        description="online, silent, offline, never_seen, revoked and total (the first four) "
        "over the unit scope, before the status filter and the search"
    )
    rows: list[FleetRow]


def fold(text: str) -> str:
    """Text as a search compares it: without case or Vietnamese accents ("Nguyễn" is "nguyen",
    "Đức" is "duc")."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()


def fleet_states(session: Session, now: datetime, unit_id: str | None = None) -> list[DeviceState]:
    """Every device of `unit_id` (all units for None), by unit, counter and device id, in one
    query."""
    last_online = CONNECTION.alias("last_online")
    connected = (
        select(last_online.c.received_at)
        .where(last_online.c.device_id == col(Device.id), last_online.c.state == ONLINE)
        .order_by(last_online.c.received_at.desc())
        .limit(1)
        .correlate(Device)
        .scalar_subquery()
    )
    offline = CONNECTION.alias("offline")
    went_offline = (
        select(func.min(offline.c.received_at))
        .where(offline.c.device_id == col(Device.id), offline.c.state == OFFLINE)
        .where(or_(connected.is_(None), offline.c.received_at > connected))
        .correlate(Device)
        .scalar_subquery()
    )
    q = (
        select(
            col(Device.id),
            col(Device.counter_id),
            col(Counter.name),
            col(Counter.unit_id),
            col(Unit.name),
            col(Device.state),
            col(Device.last_seen_at),
            col(Device.revoked_at),
            connected,
            went_offline,
            col(Device.firmware),
            col(Device.outbox),
            col(Device.ignored_presses),
        )
        .join(Counter, col(Counter.id) == col(Device.counter_id))
        .join(Unit, col(Unit.id) == col(Counter.unit_id))
        .order_by(col(Counter.unit_id), col(Device.counter_id), col(Device.id))
    )
    if unit_id is not None:
        q = q.where(col(Counter.unit_id) == unit_id)
    found = []
    for row in session.execute(q):  # plain columns: 10,000 ORM objects cost more than the query
        device_id, counter_id, counter_name, unit, unit_name, state, seen, revoked = row[:8]
        last_on, first_off, firmware, outbox, ignored = row[8:]
        status = device_status(state, seen, revoked, now)
        since = spell_start(status, seen, revoked, last_on, first_off)
        found.append(
            DeviceState(
                device_id,
                counter_id,
                counter_name,
                unit,
                unit_name,
                status,
                since,
                last_on,
                seen,
                firmware,
                outbox,
                ignored,
            )
        )
    return found


def fleet_view(
    session: Session,
    now: datetime,
    *,
    unit_id: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> FleetView:
    """The fleet of `unit_id` (every unit for None) at `now`. `counts` cover the whole scope;
    `rows` only those of `status` that match `search` (device id, counter id or name, officer on
    duty), without regard to case or accents. Raises ValueError for an unknown status."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status {status!r} is unknown; use one of {', '.join(STATUSES)}")
    states = fleet_states(session, now, unit_id)
    on_duty = _officers_on_duty(session, [s.counter_id for s in states], now)
    shown = [s for s in states if status is None or s.status == status]
    if search and search.strip():
        wanted = fold(search.strip())
        shown = [s for s in shown if wanted in _haystack(s, on_duty.get(s.counter_id))]
    missing = missing_seqs(session, [s.device_id for s in shown])
    return FleetView(
        counts=counts(s.status for s in states),
        rows=[_row(s, on_duty.get(s.counter_id), missing[s.device_id].count) for s in shown],
    )


def _officers_on_duty(
    session: Session, counter_ids: Sequence[str], now: datetime
) -> dict[str, tuple[str, str]]:
    """counter id → (officer id, name) of whoever is on duty there at `now`."""
    shifts = shifts_between(session, set(counter_ids), now, now)
    at = {cid: officer_at(found, now) for cid, found in shifts.items()}
    ids = {officer for officer in at.values() if officer is not None}
    if not ids:
        return {}
    named = select(col(Officer.id), col(Officer.name)).where(col(Officer.id).in_(sorted(ids)))
    names = {oid: name for oid, name in session.execute(named)}
    return {cid: (oid, names.get(oid, oid)) for cid, oid in at.items() if oid is not None}


def _haystack(state: DeviceState, officer: tuple[str, str] | None) -> str:
    words = [state.device_id, state.counter_id, state.counter_name, *(officer or ())]
    return fold(" | ".join(words))


def _row(state: DeviceState, officer: tuple[str, str] | None, missing: int) -> FleetRow:
    shown = {k: v for k, v in vars(state).items() if k != "connected_at"}
    return FleetRow(
        **shown,
        officer_id=officer[0] if officer else None,
        officer_name=officer[1] if officer else None,
        missing_seqs=missing,
    )
