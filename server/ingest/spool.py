"""Fair ingest: a device over its rate waits in a durable spool, so it cannot delay the others.

Why a spool and not only a fair queue in memory: the server releases a message at the broker
only once it is durably stored, and the broker hands the server its messages in one queue, in
order, through a window of unacknowledged ones. A unit flooding 10,000 messages a second fills
that window and the queue behind it faster than the rules can store ratings, and every other
unit's rating waits behind the flood (52 s measured for 100,000), however fairly the server
would order what it holds. So each device has a token bucket (`ingest_device_rate` messages a
second after a burst of `ingest_device_burst`); its messages beyond it are written raw to the
`ingest_spool` table (one multi-row insert, one commit: far cheaper than the rules) and
released at the broker at once, which keeps the broker's queue moving at the speed of that
insert. Ordinary devices never touch the spool, so their path costs what it did.

The worker stores spooled messages through the same `store_batch` as any other, one device at a
time in turn (round-robin over the devices in the spool), a bounded share per loop, and the
device's Acks go out after that commit. A device with messages in the spool has all its later
ones spooled too, until its spool is empty, so that its ratings are stored in the order it sent
them. Each claim deletes the rows in the transaction that stores them (DELETE … RETURNING, with
SKIP LOCKED on PostgreSQL), so several ingest processes can drain one spool, and a process that
dies mid-way leaves its rows for the next: nothing is stored twice or lost. A spooled message is
dated by its receipt, as if it had been stored then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.ingest.store import (
    DATABASE_DOWN,
    BatchResult,
    Incoming,
    IngestRules,
    device_of,
    reject_unstorable,
    store_batch,
)
from server.storage.models import SpooledMessage

log = logging.getLogger("hailong.ingest")

SPOOL: Table = SpooledMessage.__table__  # type: ignore[attr-defined]
RECHECK_S = 5.0  # how often a worker with nothing spooled looks for rows another one left


class TokenBuckets:
    """Per device: `burst` messages at once, then `rate` a second."""

    def __init__(
        self, rate: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}  # device → (tokens, at)

    def take(self, device_id: str) -> bool:
        """Take one token of the device's bucket; False when it has none left."""
        now = self.monotonic()
        tokens, at = self._buckets.get(device_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[device_id] = (tokens, now)
            return False
        self._buckets[device_id] = (tokens - 1, now)
        return True


class Spool:
    """The spool of one ingest worker: used from its thread only."""

    def __init__(
        self,
        engine: Engine,
        rules: IngestRules,
        *,
        rate: float,
        burst: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.monotonic = monotonic
        self.buckets = TokenBuckets(rate, burst, monotonic)
        # Devices with messages of this worker in the spool: until a drain finds that device's
        # spool, or the whole spool, empty (another worker may have drained it meanwhile).
        self._behind: set[str] = set()
        self._cursor = ""  # the device drained last: the round-robin goes on after it
        self._pending = True  # at start: rows a stopped or crashed process left
        self._recheck_at = 0.0

    def split(self, topics: Sequence[str]) -> list[bool]:
        """For each message in order: True when it goes to the spool. Messages of no valid
        device never do: they are rejected on the ordinary path."""
        spooled = []
        for topic in topics:
            device_id = device_of(topic)
            over = device_id is not None and (
                device_id in self._behind or not self.buckets.take(device_id)
            )
            if over:
                self._behind.add(str(device_id))
            spooled.append(over)
        return spooled

    def put(self, messages: Sequence[Incoming], received_at: datetime) -> None:
        """Write the messages to the spool and commit: after this they may be released."""
        rows = [
            {
                "device_id": device_of(m.topic),
                "topic": m.topic,
                "payload": m.payload,
                "received_at": received_at,
            }
            for m in messages
        ]
        with Session(self.engine) as session:
            session.execute(insert(SPOOL), rows)
            session.commit()
        self._pending = True

    def pending(self) -> bool:
        """Whether a drain may find something: after a put, or now and then for rows that
        another process left."""
        return self._pending or self.monotonic() >= self._recheck_at

    def drain(self, limit: int) -> BatchResult:
        """Store up to `limit` of the next device's oldest spooled messages, in one
        transaction that also deletes them; the caller sends the Acks."""
        device_id = self._next_device()
        if device_id is None:
            self._behind.clear()
            self._pending = False
            self._recheck_at = self.monotonic() + RECHECK_S
            return BatchResult()
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                rows = claim(session, device_id, limit)
                result = store_claimed(session, rows, self.rules)
                session.commit()
        except DATABASE_DOWN:
            raise
        except Exception:  # noqa: BLE001 - find the message at fault, keep it as rejected
            log.exception("spooled messages of %s failed; storing them one by one", device_id)
            return self._store_one_by_one(device_id, limit)
        if len(rows) < limit:
            self._behind.discard(device_id)  # its spool is empty: its next ones go direct
        return result

    def _next_device(self) -> str | None:
        """The first device after the cursor with spooled messages, wrapping round."""
        with Session(self.engine) as session:
            found = _first_device_after(session, self._cursor)
            if found is None and self._cursor:
                found = _first_device_after(session, "")
        self._cursor = found or ""
        return found

    def _store_one_by_one(self, device_id: str, limit: int) -> BatchResult:
        """As `store_separately`: each message in its own transaction, and one the database
        refuses kept as rejected; each claimed again, as another process may have taken it."""
        total = BatchResult()
        with Session(self.engine) as session:
            ids = list(
                session.execute(
                    select(SPOOL.c.id)
                    .where(SPOOL.c.device_id == device_id)
                    .order_by(SPOOL.c.id)
                    .limit(limit)
                ).scalars()
            )
        for spool_id in ids:
            with Session(self.engine, expire_on_commit=False) as session:
                rows = claim(session, device_id, 1, spool_id)
                try:
                    result = store_claimed(session, rows, self.rules)
                    session.commit()
                except DATABASE_DOWN:
                    raise
                except Exception as exc:  # noqa: BLE001 - whatever it is, the message is kept
                    session.rollback()
                    rows = claim(session, device_id, 1, spool_id)
                    result = BatchResult()
                    for _id, topic, payload, received_at in rows:
                        msg = Incoming(topic, payload)
                        result = reject_unstorable(session, msg, exc, received_at, self.rules)
                    session.commit()
            total.merge(result)
        return total


def _first_device_after(session: Session, after: str) -> str | None:
    found: str | None = session.execute(
        select(func.min(SPOOL.c.device_id)).where(SPOOL.c.device_id > after)
    ).scalar_one()
    return found


def claim(session: Session, device_id: str, limit: int, spool_id: int | None = None) -> list[Any]:
    """Delete and return the device's oldest `limit` spooled rows (or the one `spool_id`) in
    the caller's transaction: rows another process holds are skipped, not waited for, and a
    rollback puts them back."""
    oldest = select(SPOOL.c.id).where(SPOOL.c.device_id == device_id)
    if spool_id is not None:
        oldest = oldest.where(SPOOL.c.id == spool_id)
    oldest = oldest.order_by(SPOOL.c.id).limit(limit).with_for_update(skip_locked=True)
    rows = session.execute(
        delete(SPOOL)
        .where(SPOOL.c.id.in_(oldest.scalar_subquery()))
        .returning(SPOOL.c.id, SPOOL.c.topic, SPOOL.c.payload, SPOOL.c.received_at)
    ).all()
    return sorted(rows, key=lambda row: row[0])


def store_claimed(session: Session, rows: Sequence[Any], rules: IngestRules) -> BatchResult:
    """The claimed messages through the ordinary rules, each dated by its own receipt."""
    total = BatchResult()
    for received_at, group in groupby(rows, key=lambda row: row[3]):
        batch = [Incoming(topic, bytes(payload)) for _id, topic, payload, _at in group]
        total.merge(store_batch(session, batch, received_at, rules))
    return total
