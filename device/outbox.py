"""The unit's durable outbox: every rating is on disk before anything else happens to it.

paho keeps unacknowledged messages in memory only, and a counter unit loses power without
warning; so a rating lives here, with its `seq`, from the press until the server's Ack names it.
The seq counter is kept in the same database and bumped in the same transaction as the insert,
so it survives restarts and power loss and never repeats, even after the outbox empties.

A rating may be stored *held*: durable, counted, but not yet handed to the link. The unit holds
a low score while the citizen picks reasons on the screen, then `release`s it with the reasons
written into its payload (same id, seq and pressed_at); a unit that restarts releases whatever
a power cut left held, as it was pressed.

A rating pressed while the unit's clock was not synchronised also waits, for true time: its
`time_boot` names the boot whose true time it needs (its `mono_ms` counts within that boot).
`date` rewrites its time and lifts that wait in one transaction once the unit knows true time
in that boot; `release_boots_other_than` lets a past boot's ratings go as pressed, since their
boot can no longer learn it. The two waits are independent: a low score pressed before the
clock was known waits for both, and is sent when neither is left.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hailong.protocol import Rating

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seq_counter (
    device_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    time_boot TEXT,
    PRIMARY KEY (device_id, seq)
);
"""
_READY = "held = 0 AND time_boot IS NULL"  # neither reasons nor true time to wait for


@dataclass(frozen=True)
class OutboxEntry:
    """A stored rating as it goes on the wire."""

    id: str
    seq: int
    payload: bytes


class Outbox:
    """Ratings waiting for the server's Ack, oldest first; safe to share between threads."""

    def __init__(self, path: Path, device_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.device_id = device_id
        self._lock = threading.Lock()
        self._emptied = threading.Condition(self._lock)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "held" not in columns:  # an outbox written before ratings could be held
            self._db.execute("ALTER TABLE outbox ADD COLUMN held INTEGER NOT NULL DEFAULT 0")
        if "time_boot" not in columns:  # an outbox written before ratings waited for time
            self._db.execute("ALTER TABLE outbox ADD COLUMN time_boot TEXT")

    def add(
        self, make: Callable[[int], Rating], *, held: bool = False, time_boot: str | None = None
    ) -> Rating:
        """Build the rating with the next seq and store it durably, in one transaction.

        `make` gets the seq and returns the Rating; if it raises, nothing is stored and the seq
        is not used up. A `held` rating is not `pending` (not sent) until it is released, nor
        one with a `time_boot` until it is dated (or that boot is over).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT last_seq FROM seq_counter WHERE device_id = ?", (self.device_id,)
                ).fetchone()
                seq = (row[0] if row else 0) + 1
                rating = make(seq)
                if rating.seq != seq or rating.device_id != self.device_id:
                    raise ValueError("the rating must carry this outbox's device_id and seq")
                self._db.execute(
                    "INSERT INTO seq_counter (device_id, last_seq) VALUES (?, ?) "
                    "ON CONFLICT (device_id) DO UPDATE SET last_seq = excluded.last_seq",
                    (self.device_id, seq),
                )
                self._db.execute(
                    "INSERT INTO outbox (device_id, seq, id, payload, held, time_boot) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (self.device_id, seq, rating.id, rating.to_payload(), int(held), time_boot),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return rating

    def release(self, rating: Rating) -> bool:
        """Store `rating` over the held rating of the same id and seq and let it be sent.

        One transaction: the payload is rewritten and the hold lifted together. The stored time
        (`pressed_at`, `clock_synced`) is kept, since `date` may have corrected it meanwhile.
        Returns False (and changes nothing) when no such rating is held.
        """
        if rating.device_id != self.device_id:
            raise ValueError("the rating must carry this outbox's device_id")
        with self._lock, self._transaction():
            row = self._db.execute(
                "SELECT payload FROM outbox "
                "WHERE device_id = ? AND id = ? AND seq = ? AND held = 1",
                (self.device_id, rating.id, rating.seq),
            ).fetchone()
            if row is None:
                return False
            stored = Rating.model_validate_json(bytes(row[0]))
            kept = rating.model_copy(
                update={"pressed_at": stored.pressed_at, "clock_synced": stored.clock_synced}
            )
            self._db.execute(
                "UPDATE outbox SET payload = ?, held = 0 WHERE device_id = ? AND id = ?",
                (kept.to_payload(), self.device_id, rating.id),
            )
            return True

    def date(self, boot_id: str, dated: Callable[[Rating], Rating]) -> list[Rating]:
        """Rewrite every rating waiting for the true time of `boot_id` with `dated(rating)` and
        let it be sent (unless it still waits for reasons), all in one transaction.

        `dated` may change only the time: a rating keeps its id, seq and everything else.
        Returns the ratings as now stored, oldest first.
        """
        done: list[Rating] = []
        with self._lock, self._transaction():
            rows = self._db.execute(
                "SELECT payload FROM outbox WHERE device_id = ? AND time_boot = ? ORDER BY seq",
                (self.device_id, boot_id),
            ).fetchall()
            for (payload,) in rows:
                rating = Rating.model_validate_json(bytes(payload))
                new = dated(rating)
                if (
                    new.model_copy(
                        update={
                            "pressed_at": rating.pressed_at,
                            "clock_synced": rating.clock_synced,
                        }
                    )
                    != rating
                ):
                    raise ValueError("dating a rating may change only its time")
                self._db.execute(
                    "UPDATE outbox SET payload = ?, time_boot = NULL "
                    "WHERE device_id = ? AND id = ?",
                    (new.to_payload(), self.device_id, rating.id),
                )
                done.append(new)
        return done

    def waiting_for_time(self) -> dict[str, list[OutboxEntry]]:
        """Ratings waiting for true time, by the boot that needs it, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT time_boot, id, seq, payload FROM outbox "
                "WHERE device_id = ? AND time_boot IS NOT NULL ORDER BY seq",
                (self.device_id,),
            ).fetchall()
        found: dict[str, list[OutboxEntry]] = {}
        for boot, id, seq, payload in rows:
            found.setdefault(boot, []).append(OutboxEntry(id, seq, bytes(payload)))
        return found

    def release_boots_other_than(self, boot_id: str) -> list[OutboxEntry]:
        """Let the ratings of every other boot go as they were pressed (`clock_synced` false):
        a boot that is over can no longer learn its true time. Returns them, oldest first."""
        with self._lock, self._transaction():
            rows = self._db.execute(
                "SELECT id, seq, payload FROM outbox WHERE device_id = ? "
                "AND time_boot IS NOT NULL AND time_boot != ? ORDER BY seq",
                (self.device_id, boot_id),
            ).fetchall()
            self._db.execute(
                "UPDATE outbox SET time_boot = NULL WHERE device_id = ? "
                "AND time_boot IS NOT NULL AND time_boot != ?",
                (self.device_id, boot_id),
            )
        return [OutboxEntry(id, seq, bytes(payload)) for id, seq, payload in rows]

    def held(self) -> list[OutboxEntry]:
        """Ratings stored but held back for reasons, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, seq, payload FROM outbox WHERE device_id = ? AND held = 1 ORDER BY seq",
                (self.device_id,),
            ).fetchall()
        return [OutboxEntry(id, seq, bytes(payload)) for id, seq, payload in rows]

    def pending(self, limit: int = 100, *, after_seq: int = 0) -> list[OutboxEntry]:
        """Up to `limit` stored ratings with seq above `after_seq`, oldest first; none waiting
        for reasons or time."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, seq, payload FROM outbox WHERE device_id = ? AND seq > ? "
                f"AND {_READY} ORDER BY seq LIMIT ?",
                (self.device_id, after_seq, limit),
            ).fetchall()
        return [OutboxEntry(id, seq, bytes(payload)) for id, seq, payload in rows]

    def get(self, ids: Iterable[str]) -> list[OutboxEntry]:
        """Those of `ids` still stored and ready to send, oldest first."""
        wanted = list(ids)
        found: list[OutboxEntry] = []
        with self._lock:
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                found += [
                    OutboxEntry(id, seq, bytes(payload))
                    for id, seq, payload in self._db.execute(
                        "SELECT id, seq, payload FROM outbox "
                        f"WHERE device_id = ? AND {_READY} AND id IN ({marks})",
                        (self.device_id, *chunk),
                    )
                ]
        return sorted(found, key=lambda e: e.seq)

    def delete(self, ids: Iterable[str]) -> int:
        """Forget acknowledged ratings; ids not stored are ignored. Returns how many went."""
        wanted = list(ids)
        if not wanted:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                gone = 0
                for chunk in _chunks(wanted):
                    marks = ",".join("?" * len(chunk))
                    gone += self._db.execute(
                        f"DELETE FROM outbox WHERE device_id = ? AND id IN ({marks})",
                        (self.device_id, *chunk),
                    ).rowcount
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if self._count() == 0:
                self._emptied.notify_all()
            return gone

    def count(self) -> int:
        """Ratings stored and not yet acknowledged, held ones included."""
        with self._lock:
            return self._count()

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT last_seq FROM seq_counter WHERE device_id = ?", (self.device_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    def wait_empty(self, timeout: float) -> bool:
        """Block until every stored rating has been acknowledged, or `timeout` seconds pass."""
        with self._lock:
            return self._emptied.wait_for(lambda: self._count() == 0, timeout)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _count(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM outbox WHERE device_id = ?", (self.device_id,)
        ).fetchone()
        return int(row[0])


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
