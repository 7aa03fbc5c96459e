"""Alerts as people read them: the unit's and counter's names, Vietnam time, where each stands
(new, acknowledged, resolved: by whom and when) and what became of its webhook delivery, told
honestly (an alert is never "not sent yet" when no webhook is set to send it).

The API's alert fields and the dashboard's alerts panel are both made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from server.access.roles import SEE_ALERTS, Access
from server.alerts.checks import recent
from server.storage.models import Alert, Counter, Unit, User
from server.timeutil import VN_TZ

State = Literal["new", "acknowledged", "resolved"]
Delivery = Literal["not_configured", "sent", "failed", "waiting"]

STATE_VI: dict[State, str] = {"new": "Mới", "acknowledged": "Đã xem", "resolved": "Đã xử lý"}
NOT_CONFIGURED_VI = "Không gửi ra ngoài (chưa cấu hình webhook)"


def vn_time(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def state(alert: Alert) -> State:
    if alert.resolved_at is not None:
        return "resolved"
    return "acknowledged" if alert.acknowledged_at is not None else "new"


def delivery(alert: Alert, webhook: bool) -> Delivery:
    """Sent, failed (last attempt), waiting for the next attempt, or never to be sent because no
    webhook is set (an alert sent while one was set still says it was sent)."""
    if alert.delivered_at is not None:
        return "sent"
    if not webhook:
        return "not_configured"
    return "failed" if alert.last_error else "waiting"


def delivery_text(alert: Alert, webhook: bool) -> str:
    """The delivery in Vietnamese, with when it was sent or the error of the last attempt."""
    found = delivery(alert, webhook)
    if found == "sent":
        assert alert.delivered_at is not None
        return f"Đã gửi webhook lúc {vn_time(alert.delivered_at)}"
    if found == "not_configured":
        return NOT_CONFIGURED_VI
    if found == "failed":
        return f"Gửi webhook lỗi ({alert.attempts} lần), sẽ thử lại: {alert.last_error}"
    return "Đang chờ gửi webhook"


def full_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Login id → the person's full name, for those who have one."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    rows = session.exec(
        select(User.username, User.full_name).where(col(User.username).in_(wanted))
    ).all()
    return {username: name for username, name in rows if name}


@dataclass(frozen=True)
class AlertRow:
    """One alert as the panel shows it; `who` fields are full names where the user has one."""

    id: int
    time: str  # raised at, Vietnam time
    unit_id: str
    unit: str
    counter: str
    message: str
    state: State
    state_text: str  # "Mới", "Đã xem (…, …)", "Đã xử lý (…, …): note"
    delivery: Delivery
    delivery_text: str


def _state_text(alert: Alert, names: dict[str, str]) -> str:
    found = state(alert)
    if found == "resolved":
        assert alert.resolved_at is not None and alert.resolved_by is not None
        who = names.get(alert.resolved_by, alert.resolved_by)
        note = f": {alert.resolution_note}" if alert.resolution_note else ""
        return f"Đã xử lý ({who}, {vn_time(alert.resolved_at)}){note}"
    if found == "acknowledged":
        assert alert.acknowledged_at is not None and alert.acknowledged_by is not None
        who = names.get(alert.acknowledged_by, alert.acknowledged_by)
        return f"Đã xem ({who}, {vn_time(alert.acknowledged_at)})"
    return STATE_VI["new"]


def alert_rows(session: Session, alerts: Sequence[Alert], webhook: bool) -> list[AlertRow]:
    """The alerts with their unit's and counter's names (the id where one was deleted)."""
    units = dict(session.exec(select(Unit.id, Unit.name)).all())
    counter_ids = sorted({a.counter_id for a in alerts if a.counter_id})
    counters = dict(
        session.exec(select(Counter.id, Counter.name).where(col(Counter.id).in_(counter_ids))).all()
    )
    names = full_names(session, [u for a in alerts for u in (a.acknowledged_by, a.resolved_by)])
    rows = []
    for a in alerts:
        assert a.id is not None
        rows.append(
            AlertRow(
                id=a.id,
                time=vn_time(a.raised_at),
                unit_id=a.unit_id,
                unit=units.get(a.unit_id, a.unit_id),
                counter="" if a.counter_id is None else counters.get(a.counter_id, a.counter_id),
                message=a.message,
                state=state(a),
                state_text=_state_text(a, names),
                delivery=delivery(a, webhook),
                delivery_text=delivery_text(a, webhook),
            )
        )
    return rows


def visible(
    session: Session, access: Access, unit_id: str | None, *, limit: int, webhook: bool
) -> list[AlertRow]:
    """The latest alerts this user may see (a unit_head their own unit's), newest first."""
    access.require(SEE_ALERTS)
    found = recent(session, unit_id=access.unit_scope(unit_id), limit=limit)
    return alert_rows(session, found, webhook)


def open_count(rows: Iterable[AlertRow]) -> int:
    """How many are not resolved yet."""
    return sum(1 for row in rows if row.state != "resolved")
