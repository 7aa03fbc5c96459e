"""The silent-unit alert: a unit silent or offline for more than the rule's minutes of office
hours tells its unit heads and the admins, once per spell.

A spell runs from the unit's last connection until it connects again, so its key
("rule|silent|device|connected at") stays the same while a silent unit turns offline when the
broker gives up on it, and every process that runs the check raises it once. Only open time
counts (server/policy/office_hours.py): nights, weekends, public holidays and the unit's days off
(`Absence` rows without an officer) do not. Revoked devices never alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session, col

from server.alerts.checks import insert_new
from server.alerts.messages import silent_message
from server.ingest.fleet import DeviceState, fleet_states
from server.policy import AlertRule, OfficeHours, UnitSilent
from server.policy.office_hours import Interval, open_deadline, open_time
from server.registry.fleet_status import OFFLINE, ONLINE, SILENT
from server.storage.models import Alert
from server.storage.schedule import Absence

ALERT: Table = Alert.__table__  # type: ignore[attr-defined]


def check_silent(
    session: Session, rules: Iterable[AlertRule], hours: OfficeHours, now: datetime
) -> list[Alert]:
    """Raise the silent alerts due at `now`; returns those this call inserted. The caller
    commits.

    While no unit at all is online, units that merely went silent are left alone: the server is
    then the likelier one not hearing (its broker or network down), and one alert per unit would
    bury the cause. Units the broker saw go offline are alerted still."""
    silent_rules = [r for r in rules if isinstance(r, UnitSilent)]
    if not silent_rules:
        return []
    states = fleet_states(session, now)
    heard = any(s.status == ONLINE for s in states)
    quiet = [
        s
        for s in states
        if s.since is not None and (s.status == OFFLINE or (s.status == SILENT and heard))
    ]
    if not quiet:
        return []
    closed = _closed(session, min(s.since for s in quiet if s.since), now)
    due: list[tuple[str, UnitSilent, DeviceState, list[Interval]]] = []
    for rule in silent_rules:
        need = timedelta(minutes=rule.minutes)
        for state in quiet:
            assert state.since is not None
            shut = [*closed.get(None, ()), *closed.get(state.unit_id, ())]
            at = open_deadline(state.since, need, hours, shut)
            if at is not None and at < now:
                spell = state.connected_at or state.since
                due.append(
                    (f"{rule.id}|silent|{state.device_id}|{spell.isoformat()}", rule, state, shut)
                )
    raised = _raised(session, [key for key, *_ in due])
    rows = [
        _alert_row(key, rule, state, now, open_time(state.since, now, hours, shut))
        for key, rule, state, shut in due
        if key not in raised and state.since is not None
    ]
    return insert_new(session, rows)


def _alert_row(
    key: str, rule: UnitSilent, state: DeviceState, now: datetime, silent: timedelta
) -> dict[str, Any]:
    assert state.since is not None
    return {
        "key": key,
        "rule": rule.id,
        "unit_id": state.unit_id,
        "counter_id": state.counter_id,
        "raised_at": now,
        "window_start": state.since,
        "window_end": now,
        "value": round(silent.total_seconds() / 60, 1),
        "message": silent_message(
            state.device_id,
            state.counter_name,
            state.unit_name,
            state.since,
            offline=state.status == OFFLINE,
        ),
    }


def _closed(session: Session, first: datetime, last: datetime) -> dict[str | None, list[Interval]]:
    """Unit id (None: every unit, a public holiday) → its closed intervals over first..last."""
    q = (
        select(col(Absence.unit_id), col(Absence.start), col(Absence.end))
        .where(col(Absence.officer_id).is_(None))
        .where(col(Absence.start) < last, col(Absence.end) > first)
    )
    found: dict[str | None, list[Interval]] = defaultdict(list)
    for unit_id, start, end in session.execute(q):
        found[unit_id].append((start, end))
    return found


def _raised(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these keys are raised already: a unit offline for a month is not weighed (and
    refused) again every minute."""
    if not keys:
        return set()
    return set(session.execute(select(ALERT.c.key).where(ALERT.c.key.in_(keys))).scalars())
