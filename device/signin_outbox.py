"""The officers' SignIns waiting for the server's Ack, kept on disk beside the ratings.

A sign-in typed at the counter must not be lost to a power cut or a broker that is away, nor
sent again once the server has answered it: so, like a rating, it is written before it is sent
and deleted only when an Ack names its id. It lives in its own table of the outbox's SQLite
file (one file to back up, one place for the unit's data in flight). The row holds the
credential, the one copy of a PIN the unit keeps: it goes with the Ack, and SQLite's
`secure_delete` overwrites it rather than leaving it in a free page.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hailong.protocol import Ack, SignIn

Answer = tuple[str, bool, str | None]  # SignIn id, accepted, the server's reason if refused

_SCHEMA = """
CREATE TABLE IF NOT EXISTS signin_outbox (
    id TEXT PRIMARY KEY,
    added INTEGER NOT NULL,
    payload BLOB NOT NULL
);
"""


class SignInOutbox:
    """SignIns not yet acknowledged, oldest first; safe to share between threads."""

    def __init__(self, path: Path, monotonic: Callable[[], float] = time.monotonic) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._monotonic = monotonic
        self._sent: dict[str, float] = {}  # id -> when last published on this connection
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA)

    def add(self, signin: SignIn) -> None:
        """Store `signin` durably before it is sent."""
        with self._lock:
            self._db.execute(
                "INSERT INTO signin_outbox (id, added, payload) VALUES "
                "(?, (SELECT COALESCE(MAX(added), 0) + 1 FROM signin_outbox), ?)",
                (signin.id, signin.to_payload()),
            )

    def pending(self) -> list[tuple[str, bytes]]:
        """(id, payload) of every SignIn still waiting for its Ack, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, payload FROM signin_outbox ORDER BY added"
            ).fetchall()
        return [(id, bytes(payload)) for id, payload in rows]

    def delete(self, ids: Iterable[str]) -> list[str]:
        """Forget the SignIns an Ack named; returns those of `ids` that were stored."""
        gone = []
        with self._lock:
            for signin_id in ids:
                if self._db.execute(
                    "DELETE FROM signin_outbox WHERE id = ?", (signin_id,)
                ).rowcount:
                    gone.append(signin_id)
        return gone

    def due(self, resend_s: float) -> list[tuple[str, bytes]]:
        """The SignIns to publish now: those not sent on this connection, and those sent
        `resend_s` ago with no Ack since; each is marked sent."""
        now = self._monotonic()
        due = [
            (signin_id, payload)
            for signin_id, payload in self.pending()
            if now - self._sent.get(signin_id, now - resend_s) >= resend_s
        ]
        for signin_id, _ in due:
            self._sent[signin_id] = now
        return due

    def restart(self) -> None:
        """A new connection: every SignIn not acknowledged goes again."""
        self._sent.clear()

    def answer(self, ack: Ack) -> tuple[list[Answer], Ack]:
        """Delete the SignIns `ack` names; returns what it said of each, and the Ack of the
        rest (the ratings') without them."""
        mine = set(self.delete(ack.named_ids()))
        if not mine:
            return [], ack
        refused = {r.id: r.error for r in ack.rejected if r.id in mine}
        answers = [(i, i not in refused, refused.get(i)) for i in sorted(mine)]
        for signin_id in mine:
            self._sent.pop(signin_id, None)
        rest = ack.model_copy(
            update={
                "accepted": [i for i in ack.accepted if i not in mine],
                "duplicate": [i for i in ack.duplicate if i not in mine],
                "rejected": [r for r in ack.rejected if r.id not in mine],
            }
        )
        return answers, rest

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM signin_outbox").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
