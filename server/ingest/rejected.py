"""Rejected messages kept within bounds: a quota per device and an age limit, each deletion counted.

A rejected message is kept with its bytes so that an administrator can see what a unit sent, but
a unit sending garbage without end would fill the disk. So each device keeps at most
`rejected_per_device` of them, and beyond it the device's oldest go: the newest show what the
unit sends now, which is what must be fixed, and deleting the oldest heals itself when two ingest
processes add at once (a quota that refused the newest could be overrun for good). Those older
than `rejected_max_age_days` go too, by a periodic job. Every deletion is counted per device in
`rejected_dropped` (shown by GET /api/v1/rejected/dropped), so nothing disappears silently;
messages whose topic names no device share the device id ''.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Table, delete, func, select
from sqlmodel import Session, col

from server.jobs import Job
from server.storage import bulk
from server.storage.models import RejectedDropped, RejectedMessage

log = logging.getLogger("hailong.rejected")


def claimed_id(payload: bytes) -> str | None:
    """The id of a rejected rating or SignIn, when one can be read, so the device can stop
    resending it. Only a UUID is claimed: anything else could not be an id the unit holds."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        uuid.UUID(value)
    except ValueError:
        return None
    return value


REJECTED: Table = RejectedMessage.__table__  # type: ignore[attr-defined]
DROPPED: Table = RejectedDropped.__table__  # type: ignore[attr-defined]
AGE_EVERY_S = 3600.0
AGE_CHUNK = 5000  # rows deleted per statement, so that a first run on a big table stays short
Why = Literal["over_quota", "too_old"]


def trim_to_quota(session: Session, device_ids: Iterable[str], quota: int) -> int:
    """Delete the oldest rejected messages of each of `device_ids` beyond `quota`, in the
    caller's transaction (the one that has just added some); returns how many went."""
    session.flush()
    dropped: dict[str, int] = {}
    for device_id in sorted(set(device_ids)):  # one order in every process: no deadlock
        kept = session.execute(
            select(func.count()).select_from(REJECTED).where(REJECTED.c.device_id == device_id)
        ).scalar_one()
        if kept <= quota:
            continue
        oldest = (
            select(REJECTED.c.id)
            .where(REJECTED.c.device_id == device_id)
            .order_by(REJECTED.c.id)
            .limit(kept - quota)
        )
        gone = (
            session.connection()
            .execute(delete(REJECTED).where(REJECTED.c.id.in_(oldest.scalar_subquery())))
            .rowcount
        )
        if gone:
            dropped[device_id] = gone
    count(session, dropped, "over_quota")
    return sum(dropped.values())


def drop_old(session: Session, now: datetime, max_age: timedelta) -> int:
    """Delete the rejected messages received before `now - max_age`, committing each chunk;
    RETURNING counts only the rows this process deleted when another one runs the job too."""
    cutoff = now - max_age
    total = 0
    while True:
        chunk = (
            select(REJECTED.c.id)
            .where(REJECTED.c.received_at < cutoff)
            .order_by(REJECTED.c.id)
            .limit(AGE_CHUNK)
        )
        gone = session.execute(
            delete(REJECTED)
            .where(REJECTED.c.id.in_(chunk.scalar_subquery()))
            .returning(REJECTED.c.device_id)
        ).all()
        count(session, Counter(device_id for (device_id,) in gone), "too_old")
        session.commit()
        total += len(gone)
        if len(gone) < AGE_CHUNK:
            return total


def count(session: Session, dropped: Mapping[str, int], why: Why) -> None:
    """Add to each device's count of rejected messages deleted for `why`."""
    rows = [
        {"device_id": device_id, "over_quota": 0, "too_old": 0, why: n}
        for device_id, n in sorted(dropped.items())
        if n
    ]
    bulk.upsert(session, DROPPED, rows, "add", ("over_quota", "too_old"))


def dropped_counts(session: Session) -> list[RejectedDropped]:
    """Every device that lost rejected messages, most lost first."""
    total = col(RejectedDropped.over_quota) + col(RejectedDropped.too_old)
    query = select(RejectedDropped).order_by(total.desc(), col(RejectedDropped.device_id))
    return list(session.scalars(query).all())


def age_job(max_age: timedelta) -> Job:
    """Hourly; safe in several processes at once, each counting only what it deleted."""

    def run(session: Session, now: datetime) -> None:
        gone = drop_old(session, now, max_age)
        if gone:
            log.info("deleted %d rejected message(s) older than %s", gone, max_age)

    return Job("rejected.age", AGE_EVERY_S, run)
