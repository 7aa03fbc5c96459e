"""What the server knows of units' connections: which Status it received live, each unit's
connection history, and the `late_while_online` rule that needs both.

Live or not. A Status dates a unit's presses (server/ingest/press_time.py) only if the server
received it the moment the unit sent it: its receipt is then the true time of its `mono_ms`. Two
kinds of delivery break that. A retained copy, which the broker hands over at subscription, however
old: MQTT marks it with the retain flag. And the backlog the broker kept for the server's persistent
session while the server was away, delivered in a rush when it comes back: nothing marks it. So
at every (re)connection the server publishes a marker, with a token of that connection, to a
topic only it subscribes to (`Liveness`). The broker queues each session's messages in order, so
the backlog is ahead of the marker in the queue: whatever arrives before the marker is backlog,
whatever after it is live. Until the marker is back, nothing is taken as live; if the broker
refuses the marker topic, nothing ever is, and the rules that need it stay silent rather than
guess.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hailong.protocol import Status
from server.ingest.press_time import BootMark
from server.storage import bulk
from server.storage.models import Device, DeviceBoot, DeviceConnection

LATE_AFTER = timedelta(minutes=10)
LATE_WHILE_ONLINE = "late_while_online"
ONLINE, OFFLINE = "online", "offline"


def marker_topic(client_id: str) -> str:
    return f"hailong/v1/server/{client_id}/mark"


class Liveness:
    """Since when the server's subscription has been live, per process and per connection.

    `connected` gives the marker to publish after subscribing; `marker` sees one arrive;
    `lost` at a disconnection. Called from the MQTT network thread only, in arrival order."""

    def __init__(self, client_id: str) -> None:
        self.topic = marker_topic(client_id)
        self.since: datetime | None = None
        self._token: bytes | None = None

    def connected(self) -> bytes:
        self.since = None
        self._token = secrets.token_hex(16).encode()
        return self._token

    def marker(self, payload: bytes, at: datetime) -> None:
        """A marker from an earlier connection (left in the backlog) is not this one's."""
        if self._token is not None and payload == self._token and self.since is None:
            self.since = at

    def lost(self) -> None:
        self.since = None
        self._token = None


def record_status(
    session: Session, device: Device, status: Status, received_at: datetime, live: bool
) -> None:
    """Keep what the connection history and the time rule need from one Status, before the
    device row takes its state.

    The history keeps every offline Status and each online one that follows another state:
    a unit says it is online every minute, and those repeats say nothing new. Backlog and
    retained Statuses are kept too (marked not live): an offline one that the server learned of
    late still ended the unit's connection. Only a live online Status marks its boot: a Last
    Will is published by the broker long after its `mono_ms` was written, at connect.
    """
    if status.state == OFFLINE or device.state != ONLINE:
        session.add(
            DeviceConnection(
                device_id=device.id, state=status.state, received_at=received_at, live=live
            )
        )
    if live and status.state == ONLINE and None not in (status.boot_id, status.mono_ms):
        row = {
            "device_id": device.id,
            "boot_id": status.boot_id,
            "received_at": received_at,
            "mono_ms": status.mono_ms,
        }
        table = DeviceBoot.__table__  # type: ignore[attr-defined]
        session.execute(bulk.dialect_insert(session)(table).values(row).on_conflict_do_nothing())


def boot_marks(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], BootMark]:
    """The marks of these (device, boot) pairs, where the server has one."""
    if not keys:
        return {}
    devices = {device for device, _ in keys}
    boots = {boot for _, boot in keys}
    rows = session.exec(
        select(DeviceBoot)
        .where(col(DeviceBoot.device_id).in_(devices))
        .where(col(DeviceBoot.boot_id).in_(boots))
    ).all()
    return {
        (r.device_id, r.boot_id): BootMark(r.received_at, r.mono_ms)
        for r in rows
        if (r.device_id, r.boot_id) in keys
    }


Event = tuple[datetime, str]  # when the server received a Status, and its state


def history(session: Session, device_id: str, first: datetime, last: datetime) -> list[Event]:
    """The device's connection events from the last one at or before `first` up to `last`."""
    before = session.exec(
        select(DeviceConnection.received_at, DeviceConnection.state)
        .where(DeviceConnection.device_id == device_id)
        .where(col(DeviceConnection.received_at) <= first)
        .order_by(col(DeviceConnection.received_at).desc(), col(DeviceConnection.id).desc())
        .limit(1)
    ).all()
    after = session.exec(
        select(DeviceConnection.received_at, DeviceConnection.state)
        .where(DeviceConnection.device_id == device_id)
        .where(col(DeviceConnection.received_at) > first)
        .where(col(DeviceConnection.received_at) <= last)
        .order_by(col(DeviceConnection.received_at), col(DeviceConnection.id))
    ).all()
    return [(at, state) for at, state in (*before, *after)]


def late_while_online(
    pressed_at: datetime,
    received_at: datetime,
    events: Sequence[Event],
    live_since: datetime | None,
) -> bool:
    """Whether a rating arrived more than 10 minutes after its press although nothing kept it:
    the unit was connected at the press (its last event before is online) and stayed so until
    the rating came (no offline event in between), and the server's subscription was live all
    that time. A unit sends a press at once and resends it every `resend_s`, so such a rating
    was made up later, or held back. Unsure means no: no live subscription, no history."""
    if live_since is None or live_since > pressed_at:
        return False
    if received_at - pressed_at <= LATE_AFTER:
        return False
    before = [state for at, state in events if at <= pressed_at]
    if not before or before[-1] != ONLINE:
        return False
    return not any(state == OFFLINE for at, state in events if pressed_at < at <= received_at)
