"""Services the queue system says each counter served: the denominator of the response rate.

A queue (bốc số) system, or an export of it, posts the tickets it called. Each is attributed like
a rating: to the counter's unit, and to the officer given or else the one assigned at that
moment. A ticket posted twice for the same counter and day is stored once, so a daily export can
be sent again safely. Rated services are the ratings carrying a ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlmodel import Field, Session, SQLModel, col, select

from hailong.errors import NotFound
from hailong.protocol import ID_RE
from server.registry.duty import officer_at, shifts_between
from server.reporting.tally import tally_services
from server.storage import bulk, rollups
from server.storage.models import Counter, Moment, Officer, ServiceRecord
from server.timeutil import vn_day

MAX_SERVICES = 10_000  # one request; a commune's year of tickets goes in a few


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be printable text (no control characters)")
    return value


def _code(value: str | None) -> str | None:
    if value is not None and not ID_RE.match(value):
        raise ValueError("must be 1 to 64 characters of A-Z a-z 0-9 . _ - (no / + #)")
    return value


# A ticket's code as a queue system writes it, and a registry id; the queue's events take both.
TicketCode = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_printable)]
Code = Annotated[str, Field(max_length=64), AfterValidator(_code)]


class ServiceIn(SQLModel):
    counter_id: Code
    ticket: TicketCode = Field(description="queue ticket or dossier code")
    served_at: Moment = Field(description="when the counter called it, with offset")
    officer_id: Code | None = Field(
        default=None, description="who served it; empty: the officer assigned"
    )


class ServicesIn(SQLModel):
    services: list[ServiceIn] = Field(min_length=1, max_length=MAX_SERVICES)


@dataclass(frozen=True)
class ServicesStored:
    stored: int
    duplicates: int


def record_services(session: Session, items: Sequence[ServiceIn], now: datetime) -> ServicesStored:
    """Store the services not stored yet and count exactly those; the caller commits."""
    counters = {c.id: c for c in _counters(session, {i.counter_id for i in items})}
    missing = sorted({i.counter_id for i in items} - set(counters))
    if missing:
        raise NotFound(f"unknown counter(s) {', '.join(missing[:10])}; register them first")
    named = {i.officer_id for i in items if i.officer_id is not None}
    found = set(session.exec(select(Officer.id).where(col(Officer.id).in_(named))).all())
    if named - found:
        raise NotFound(f"unknown officer(s) {', '.join(sorted(named - found)[:10])}")
    shifts = shifts_between(
        session,
        {i.counter_id for i in items},
        min(i.served_at for i in items),
        max(i.served_at for i in items),
    )
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, Any]] = set()
    for item in items:
        day = vn_day(item.served_at)
        if (item.counter_id, item.ticket, day) in seen:
            continue
        seen.add((item.counter_id, item.ticket, day))
        officer = item.officer_id or officer_at(shifts.get(item.counter_id, []), item.served_at)
        rows.append(
            {
                "counter_id": item.counter_id,
                "ticket": item.ticket,
                "served_at": item.served_at,
                "day": day,
                "officer_id": officer,
                "unit_id": counters[item.counter_id].unit_id,
                "received_at": now,
            }
        )
    new = _insert_new(session, rows)
    rollups.add(session, rollups.SERVICES, tally_services(new))
    return ServicesStored(stored=len(new), duplicates=len(items) - len(new))


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: exactly the rows this call stored, even when
    the same export is posted twice at once."""
    if not rows:
        return []
    table = ServiceRecord.__table__  # type: ignore[attr-defined]
    insert = bulk.dialect_insert(session)
    keys = ["counter_id", "ticket", "day"]
    stmt = insert(table).on_conflict_do_nothing(index_elements=keys)
    stored = {
        (c, t, rollups.as_date(d))
        for c, t, d in session.execute(
            stmt.returning(table.c.counter_id, table.c.ticket, table.c.day), rows
        )
    }
    return [r for r in rows if (r["counter_id"], r["ticket"], r["day"]) in stored]


def _counters(session: Session, ids: set[str]) -> Sequence[Counter]:
    return session.exec(select(Counter).where(col(Counter.id).in_(ids))).all()
