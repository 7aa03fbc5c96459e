"""What each unit is told in its retained Config, and the device.toml its bundle carries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import quote

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from hailong.mqtt import MqttTarget
from hailong.protocol import Config, OfficerCard
from server.registry.duty import officer_at, shifts_between
from server.registry.roster import Shift
from server.registry.signin_methods import Method
from server.storage.models import Assignment, Counter, Device, Officer, Unit
from server.storage.reasons import REASONS
from server.storage.schedule import Rota
from server.timeutil import utc, vn_day

# How far ahead the next rota boundary is looked for; the Config refresh looks again after it.
LOOK_AHEAD = timedelta(hours=12)


def config_for(
    session: Session,
    device: Device,
    now: datetime,
    on_duty: Sequence[Shift] | None = None,
    *,
    require_service: bool = False,
) -> Config:
    """The officer shown is the one on duty at the device's counter now. `on_duty`: the
    counter's resolved shifts around now, when the caller read them for many devices at once.
    `require_service`: the policy's rule, so the unit takes a rating only for a called ticket."""
    counter = session.get(Counter, device.counter_id)
    unit = session.get(Unit, counter.unit_id) if counter else None
    if on_duty is None:
        on_duty = shifts_between(session, [device.counter_id], now, now).get(device.counter_id, [])
    officer_id = officer_at(on_duty, now)
    officer = session.get(Officer, officer_id) if officer_id else None
    return Config(
        device_id=device.id,
        counter_id=device.counter_id,
        unit_name=unit.name if unit else "",
        officer=OfficerCard(id=officer.id, name=officer.name, title=officer.title)
        if officer
        else None,
        reasons=list(REASONS),
        require_service=require_service,
        signin=cast(Method, unit.signin) if unit else "none",
    )


def next_assignment_change(session: Session, now: datetime) -> datetime | None:
    """When the officer some unit shows may next change: the next start or end of a one-off
    assignment, or of a resolved rota shift within `LOOK_AHEAD` (a rota shift's boundaries
    include where an absence or a one-off cuts it). With rotas running and no boundary in that
    span, the end of the span: the caller looks again then."""
    now = utc(now)
    starts = session.exec(select(func.min(Assignment.start)).where(Assignment.start > now)).one()
    ends = session.exec(
        select(func.min(Assignment.end)).where(
            col(Assignment.end).is_not(None), col(Assignment.end) > now
        )
    ).one()
    found = [utc(moment) for moment in (starts, ends) if moment is not None]
    until = now + LOOK_AHEAD
    running = session.exec(
        select(Rota.counter_id)
        .distinct()
        .where(col(Rota.first_day) <= vn_day(until))
        .where(or_(col(Rota.last_day).is_(None), col(Rota.last_day) >= vn_day(now)))
    ).all()
    if running:
        found.append(until)
        for shifts in shifts_between(session, running, now, until).values():
            found += [m for s in shifts for m in (s.start, s.end) if m is not None and m > now]
    return min(found) if found else None


def device_url(device_id: str, password: str, target: MqttTarget) -> str:
    """The url a unit logs in with: its id and password at the address devices are told."""
    scheme = "mqtts" if target.tls else "mqtt"
    login = f"{quote(device_id, safe='')}:{quote(password, safe='')}"
    return f"{scheme}://{login}@{target.host}:{target.port}"


def device_toml(device_id: str, mqtt_url: str, ca_pem: str | None = None) -> str:
    """A ready device.toml for a unit's bundle (the reference is in firmware-config/).

    With a CA it is the unit's whole bundle: the broker's address and the certificate to check
    it against, inline, so there is one file to copy to the unit."""
    ca = f'ca = """\n{ca_pem.strip()}\n"""\n' if ca_pem else ""
    return f"""# Hài Lòng counter unit {device_id}; reference: firmware-config/examples/device.toml
[device]
id = "{device_id}"
data_dir = "/var/lib/hailong"

[mqtt]
url = "{mqtt_url}"
{ca}
[buttons]
enabled = true
pins = [17, 27, 22, 23]
pin_factory = "lgpio"
debounce_ms = 50

[screen]
enabled = true
width = 800
height = 480
fullscreen = true
language = "vi"

[outbox]
warn_backlog = 500
"""
