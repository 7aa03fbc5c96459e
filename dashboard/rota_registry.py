"""What the rota page reads from and writes to the registry, held to what the user may do.

Reads are limited to the user's units (a unit head's own); writes are an admin's, run as every
registry screen's are (`dashboard/registry_view.write`: audited, the registry's own service and
rules in server/registry/rota_writes.py, then the units' Config refresh), rota rows and absences
alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from dashboard import registry_view, rota_view, sources
from dashboard.registry_view import Outcome
from hailong.errors import NotFound
from server.access.roles import REGISTRY_SCREENS, Access
from server.registry import roster, rota_writes
from server.registry.writes import list_counters
from server.storage.models import Counter, Officer
from server.storage.schedule import AbsenceCreate, Rota, RotaCreate
from server.timeutil import vn_day_start

OUTCOMES = {
    "created": "Đã thêm / added",
    "updated": "Đã cập nhật / updated",
    "unchanged": "Không có gì thay đổi / nothing changed",
}
DELETED = "Đã xoá / deleted"


@dataclass(frozen=True)
class Month:
    shifts: Sequence[Any]
    rows: Sequence[Rota]
    names: dict[str, str]


def counter_options(session: Session, access: Access, unit: str | None) -> list[dict[str, str]]:
    unit_id = access.unit_scope(unit)
    return [{"label": f"{c.name} ({c.id})", "value": c.id} for c in list_counters(session, unit_id)]


def officer_names(session: Session, unit_id: str | None = None) -> dict[str, str]:
    q = select(Officer.id, Officer.name)
    if unit_id is not None:
        q = q.where(col(Officer.unit_id) == unit_id, col(Officer.active))
    return {officer_id: name for officer_id, name in session.exec(q.order_by(col(Officer.name)))}


def counter_of(session: Session, access: Access, counter_id: str) -> Counter:
    found = session.get(Counter, counter_id)
    if found is None:
        raise NotFound(f"Không có quầy {counter_id!r} / no counter {counter_id!r}")
    access.unit_scope(found.unit_id)  # a unit head asking for another unit's counter is refused
    return found


def month(src: sources.Sources, access: Access, counter_id: str, first: date) -> Month:
    """One counter's resolved shifts in the month from `first`, and its rota rows."""
    access.require(REGISTRY_SCREENS)
    with src.session_factory() as session:
        counter_of(session, access, counter_id)
        shifts = roster.resolved_shifts(
            session, [counter_id], vn_day_start(first), vn_day_start(rota_view.next_month(first))
        )
        rows = rota_writes.list_rota(session, counter_id=counter_id)
        return Month(shifts.get(counter_id, []), rows, officer_names(session))


def put(src: sources.Sources, access: Access, data: RotaCreate) -> Outcome:
    """Create or update one rota row as the API does, audited; what the registry did."""
    target = f"{data.counter_id}/{data.officer_id}/{data.from_day.isoformat()}"
    detail = data.model_dump(mode="json", by_alias=True)
    client = sources.client()

    def change(session: Session) -> str:
        counter_of(session, access, data.counter_id)
        registry_view.record(session, access, client, "rota.put", target, detail)
        _, outcome = rota_writes.put_rota(session, data)
        return OUTCOMES.get(outcome, outcome)

    return registry_view.write(src, access, change)


def delete(src: sources.Sources, access: Access, rota_id: int) -> Outcome:
    return _delete(src, access, "rota.delete", rota_id, rota_writes.delete_rota)


def absences(src: sources.Sources, access: Access, unit: str | None, first: date) -> list[Any]:
    """The unit's absences (its officers' leave, its days off, public holidays) that touch the
    month from `first`, with the names of the officers they name."""
    access.require(REGISTRY_SCREENS)
    start, end = vn_day_start(first), vn_day_start(rota_view.next_month(first))
    with src.session_factory() as session:
        found = rota_writes.list_absences(session, access.unit_scope(unit))
        touching = [a for a in found if _utc(a.start) < end and _utc(a.end) > start]
        return [(a, officer_names(session).get(a.officer_id or "", "")) for a in touching]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_absence(src: sources.Sources, access: Access, data: AbsenceCreate) -> Outcome:
    """Add leave, a unit's day off or a public holiday as the API does, audited."""
    target = data.officer_id or data.unit_id or "*"
    client = sources.client()

    def change(session: Session) -> str:
        registry_view.record(
            session, access, client, "absence.create", target, data.model_dump(mode="json")
        )
        rota_writes.add_absence(session, data)
        return OUTCOMES["created"]

    return registry_view.write(src, access, change)


def delete_absence(src: sources.Sources, access: Access, absence_id: int) -> Outcome:
    return _delete(src, access, "absence.delete", absence_id, rota_writes.delete_absence)


def _delete(
    src: sources.Sources,
    access: Access,
    action: str,
    key: int,
    service: Callable[[Session, int], object],
) -> Outcome:
    client = sources.client()

    def change(session: Session) -> str:
        registry_view.record(session, access, client, action, str(key))
        service(session, key)
        return DELETED

    return registry_view.write(src, access, change)
