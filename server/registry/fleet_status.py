"""Whether a unit is online, silent, offline, never seen or revoked, and since when: decided from
what its Status said last and when, without the database.

A unit sends its Status every `status_s` seconds while connected, and the broker publishes its
Last Will (state offline) when the connection drops; a clean stop sends offline itself
(docs/protocol.md). So "offline" is what the unit or the broker said; "silent" is a unit last
said online but not heard from for three Status periods: frozen, or its network cut before the
broker noticed. Revoked devices are kept apart and counted in none of the four.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from hailong.protocol import DEFAULT_STATUS_S

ONLINE, SILENT, OFFLINE, NEVER_SEEN, REVOKED = (
    "online",
    "silent",
    "offline",
    "never_seen",
    "revoked",
)
COUNTED = (ONLINE, SILENT, OFFLINE, NEVER_SEEN)
STATUSES = (*COUNTED, REVOKED)
# What a person reads for each status, Vietnamese first (the alert's words for the same states).
LABELS = {
    ONLINE: ("Trực tuyến", "Online"),
    SILENT: ("Không gửi tín hiệu", "Silent"),
    OFFLINE: ("Mất kết nối", "Offline"),
    NEVER_SEEN: ("Chưa kết nối lần nào", "Never seen"),
    REVOKED: ("Đã thu hồi", "Revoked"),
}
# The server counts a device as silent after three Status periods without a word (the protocol);
# the server does not change a unit's `status_s`, so the period is the contract's default.
SILENT_AFTER = timedelta(seconds=3 * DEFAULT_STATUS_S)


def device_status(
    state: str | None,
    last_seen_at: datetime | None,
    revoked_at: datetime | None,
    now: datetime,
    silent_after: timedelta = SILENT_AFTER,
) -> str:
    """One of STATUSES. A unit heard from exactly `silent_after` ago is still online."""
    if revoked_at is not None and revoked_at <= now:
        return REVOKED
    if last_seen_at is None:
        return NEVER_SEEN
    if state == OFFLINE:
        return OFFLINE
    return SILENT if now - last_seen_at > silent_after else ONLINE


def spell_start(
    status: str,
    last_seen_at: datetime | None,
    revoked_at: datetime | None,
    last_online: datetime | None,
    first_offline_after: datetime | None,
) -> datetime | None:
    """When the unit's current state began: online since its last connection, silent since it
    was last heard, offline since the first offline Status after its last connection (a Last Will
    and a retained copy of it received later are one spell), revoked since its revocation.

    `last_online` and `first_offline_after` come from the connection history
    (`DeviceConnection`); a unit older than that history falls back on `last_seen_at`."""
    if status == ONLINE:
        return last_online or last_seen_at
    if status == SILENT:
        return last_seen_at
    if status == OFFLINE:
        return first_offline_after or last_seen_at
    if status == REVOKED:
        return revoked_at
    return None


def counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many of each status, every one of STATUSES present, and `total` of the four counted
    (revoked devices are not part of the fleet)."""
    found = dict.fromkeys(STATUSES, 0)
    for status in statuses:
        found[status] += 1
    return {**found, "total": sum(found[s] for s in COUNTED)}
