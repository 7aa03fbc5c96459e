"""The queue system's ticket events: issued, called to a counter, served.

One `QueueTicket` per unit, Vietnam day and ticket code takes the events in whatever order they
come and however often: each moment is set once, so the same event sent twice changes nothing.
A new call makes the ticket's rating link and tells the counter's active unit its Service (the
unit then asks for a rating of that ticket and, with `require_service`, takes exactly one); a
serving stores the ServiceRecord through the same `record_services` as a queue export, so the
response rate's denominator is one table, and answers with the ticket's link.

Units are told after the caller commits (`tell_units`), so a rating that arrives at once finds
the ticket stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import model_validator
from sqlmodel import Field, Session, SQLModel, col, select

from hailong.errors import NotFound
from hailong.protocol import Service
from server.access.roles import Forbidden
from server.channels.links import rating_url, ticket_invite
from server.channels.ratings import officer_on_duty
from server.ingest.services import MAX_SERVICES, Code, ServiceIn, TicketCode, record_services
from server.storage.channels import TICKET_EVENTS, QueueTicket
from server.storage.models import Counter, Device, Moment, Officer, Unit
from server.timeutil import vn_day

MAX_EVENTS = 500  # one request: a busy office's few minutes, or an hour sent late
OPEN_S = 120  # how long the unit waits for the called ticket's rating


class TicketEvent(SQLModel):
    event: Literal["issued", "called", "served"]
    ticket: TicketCode = Field(description="the ticket's code, e.g. A-0153")
    unit_id: Code | None = Field(default=None, description="needed when no counter is given")
    counter_id: Code | None = Field(default=None, description="the counter (called, served)")
    officer_id: Code | None = Field(
        default=None, description="who serves it; empty: the officer on duty"
    )
    at: Moment = Field(description="when it happened, RFC 3339 with offset")

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.event != "issued" and self.counter_id is None:
            raise ValueError(f"a {self.event!r} event needs its counter_id")
        if self.counter_id is None and self.unit_id is None:
            raise ValueError("an 'issued' event needs its unit_id (or counter_id)")
        return self


class QueuePost(SQLModel):
    """The body of POST /api/v1/services: a queue export (`services`, as before) or ticket
    events (`events`), one of the two."""

    services: list[ServiceIn] | None = Field(default=None, min_length=1, max_length=MAX_SERVICES)
    events: list[TicketEvent] | None = Field(default=None, min_length=1, max_length=MAX_EVENTS)

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.services is None) == (self.events is None):
            raise ValueError("send either 'services' (an export) or 'events' (ticket events)")
        return self


@dataclass
class EventOutcome:
    """What one event did, as the answer lists it."""

    index: int
    ticket: str
    state: str | None = None
    rating_url: str | None = None
    unit_told: bool = False
    note: str | None = None
    error: str | None = None
    tell: tuple[str, Service] | None = field(default=None, repr=False)

    def answer(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "ticket": self.ticket,
            "state": self.state,
            "rating_url": self.rating_url,
            "unit_told": self.unit_told,
        }
        if self.note:
            out["note"] = self.note
        if self.error:
            out["error"] = self.error
        return out


def _order(state: str | None) -> int:
    return TICKET_EVENTS.index(state) if state in TICKET_EVENTS else -1


def check_unit_limit(unit_id: str | None, counters: dict[str, Counter], units: set[str]) -> None:
    """A token limited to a unit posts only that unit's tickets: 403 naming the first other."""
    if unit_id is None:
        return
    for counter in sorted(counters.values(), key=lambda c: c.id):
        if counter.unit_id != unit_id:
            raise Forbidden(
                f"mã truy cập này chỉ dùng cho đơn vị {unit_id}; quầy {counter.id} thuộc đơn vị "
                f"{counter.unit_id} / this token is limited to unit {unit_id}; counter "
                f"{counter.id} belongs to unit {counter.unit_id}"
            )
    for other in sorted(units - {unit_id}):
        raise Forbidden(
            f"mã truy cập này chỉ dùng cho đơn vị {unit_id}, không dùng cho {other} / "
            f"this token is limited to unit {unit_id}, not {other}"
        )


def counters_of(session: Session, ids: set[str]) -> dict[str, Counter]:
    """The counters named, or NotFound (422, nothing written) naming those that are not."""
    found = {c.id: c for c in session.exec(select(Counter).where(col(Counter.id).in_(ids)))}
    missing = sorted(ids - set(found))
    if missing:
        names = ", ".join(missing[:10])
        raise NotFound(
            f"không có quầy {names}; hãy đăng ký quầy trước / "
            f"unknown counter(s) {names}; register them first"
        )
    return found


def _check_known(session: Session, events: Sequence[TicketEvent]) -> None:
    for table, ids, what in (
        (Unit, {e.unit_id for e in events if e.unit_id}, ("đơn vị", "unit")),
        (Officer, {e.officer_id for e in events if e.officer_id}, ("cán bộ", "officer")),
    ):
        found = set(session.exec(select(table.id).where(col(table.id).in_(ids))).all())
        missing = ", ".join(sorted(ids - found)[:10])
        if missing:
            raise NotFound(f"không có {what[0]} {missing} / unknown {what[1]}(s) {missing}")


class Tickets:
    """The batch's tickets by (unit, day, code): read once, created on first sight."""

    def __init__(self, session: Session, token_id: int | None) -> None:
        self.session = session
        self.token_id = token_id
        self._rows: dict[tuple[str, date, str], QueueTicket] = {}

    def get(self, unit_id: str, day: date, code: str, state: str) -> QueueTicket:
        key = (unit_id, day, code)
        if key not in self._rows:
            found = self.session.exec(
                select(QueueTicket).where(
                    QueueTicket.unit_id == unit_id,
                    QueueTicket.day == day,
                    QueueTicket.ticket == code,
                )
            ).first()
            if found is None:
                found = QueueTicket(
                    unit_id=unit_id, day=day, ticket=code, state=state, token_id=self.token_id
                )
            self._rows[key] = found
        return self._rows[key]


def apply_events(
    session: Session,
    events: Sequence[TicketEvent],
    *,
    now: datetime,
    base_url: str,
    link_days: int,
    limit_unit: str | None = None,
    token_id: int | None = None,
) -> list[EventOutcome]:
    """Apply the events in the caller's transaction (the caller commits, then `tell_units`).
    An unknown counter, unit or officer refuses the whole batch (NotFound); a counter outside
    the token's unit too (Forbidden); an event that contradicts itself is refused alone."""
    counters = counters_of(session, {e.counter_id for e in events if e.counter_id})
    _check_known(session, events)
    check_unit_limit(limit_unit, counters, {e.unit_id for e in events if e.unit_id})
    tickets = Tickets(session, token_id)
    served: list[ServiceIn] = []
    outcomes: list[EventOutcome] = []
    for index, event in enumerate(events):
        outcome = EventOutcome(index, event.ticket)
        outcomes.append(outcome)
        counter = counters.get(event.counter_id or "")
        if counter is not None and event.unit_id and event.unit_id != counter.unit_id:
            outcome.error = (
                f"quầy {counter.id} thuộc đơn vị {counter.unit_id}, không phải {event.unit_id} / "
                f"counter {counter.id} belongs to unit {counter.unit_id}, not {event.unit_id}"
            )
            continue
        unit_id = counter.unit_id if counter is not None else str(event.unit_id)
        row = tickets.get(unit_id, vn_day(event.at), event.ticket, event.event)
        new_call = _apply(session, row, event, served)
        if _order(event.event) > _order(row.state):
            row.state = event.event
        session.add(row)
        session.flush()
        outcome.state = row.state
        if row.counter_id is None:
            continue  # issued only: no counter yet, so no link
        invite = ticket_invite(session, row, now, link_days)
        outcome.rating_url = rating_url(base_url, invite.token)
        if new_call and row.served_at is None:
            outcome.tell, outcome.note = _service_for(session, row, outcome.rating_url, now)
    if served:
        record_services(session, served, now)
    return outcomes


def _apply(session: Session, row: QueueTicket, event: TicketEvent, served: list[ServiceIn]) -> bool:
    """Set what the event says and the ticket does not know yet; True for a new call."""
    at = event.at
    if event.event == "issued":
        if row.issued_at is None:
            row.issued_at = at
        return False
    counter_id = str(event.counter_id)
    if event.event == "called":
        if row.served_at is not None:  # a call that comes after the serving changes nothing
            row.called_at = row.called_at or at  # but when it was
            return False
        if row.called_at is not None and row.counter_id == counter_id:
            return False  # the same call again, or a repeat at the same counter
        row.called_at = at
        row.counter_id = counter_id
        row.officer_id = event.officer_id or officer_on_duty(session, counter_id, at)
        return True
    if row.served_at is None:
        row.served_at = at
        if row.counter_id != counter_id or row.officer_id is None or event.officer_id:
            row.counter_id = counter_id
            row.officer_id = event.officer_id or officer_on_duty(session, counter_id, at)
        served.append(
            ServiceIn(
                counter_id=counter_id, ticket=row.ticket, served_at=at, officer_id=row.officer_id
            )
        )
    return False


def _service_for(
    session: Session, row: QueueTicket, url: str, now: datetime
) -> tuple[tuple[str, Service] | None, str | None]:
    """The Service to send the counter's active unit, or why none is sent. A call sent later
    than the unit would wait for its rating (a queue's backlog, history) is not sent: the
    citizen has left the counter, and the unit would ask the next one about the wrong ticket."""
    counter_id = str(row.counter_id)
    if row.called_at is not None and (now - row.called_at).total_seconds() > OPEN_S:
        return None, (
            f"lượt gọi đã quá {OPEN_S} giây nên thiết bị không được báo / the call is older "
            f"than {OPEN_S} s, so the unit was not told"
        )
    if row.officer_id is None:
        return None, (
            f"chưa biết cán bộ nào tại quầy {counter_id} lúc gọi số nên thiết bị không được báo "
            f"/ no officer is known at counter {counter_id} at that moment; the unit was not told"
        )
    device = session.exec(
        select(Device.id).where(Device.counter_id == counter_id, col(Device.revoked_at).is_(None))
    ).first()
    if device is None:
        return None, (
            f"quầy {counter_id} chưa có thiết bị đang hoạt động / counter {counter_id} has no "
            "active unit"
        )
    service = Service(ticket=row.ticket, officer_id=row.officer_id, open_s=OPEN_S, rating_url=url)
    return (device, service), None


NOT_CONNECTED = (
    "máy chủ chưa kết nối với MQTT broker nên thiết bị không được báo / the server is not "
    "connected to the broker; the unit was not told"
)


def tell_units(
    outcomes: Sequence[EventOutcome], publish: Callable[[str, Service], bool] | None
) -> None:
    """After the commit: send each new call's Service to its unit; `publish` None when this
    process does not talk to the broker."""
    for outcome in outcomes:
        if outcome.tell is None:
            continue
        device_id, service = outcome.tell
        outcome.unit_told = publish is not None and publish(device_id, service)
        if not outcome.unit_told:
            outcome.note = NOT_CONNECTED
