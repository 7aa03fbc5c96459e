"""Sending the outbox and hearing Acks: the ratings in flight, when each goes again, and which
ones an Ack has named.

A rating is sent oldest first, at most WINDOW at a time awaiting the broker's PUBACK, and sent
again after every reconnect and, with a doubling delay, while no Ack names it. Only an Ack
deletes it, and the Acks heard since the last look are deleted in one transaction. Everything
here runs on the link's worker thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from device.outbox import Outbox, OutboxEntry
from hailong.protocol import Ack

log = logging.getLogger(__name__)

WINDOW = 100  # ratings published and not yet PUBACKed; bounds paho's in-memory queue
RESEND_MAX_FACTOR = 20  # the resend delay doubles up to this many times `resend_s`
_STATUS = "<status>"  # what an awaited mid stands for when it is not a rating


class Delivery:
    """One link's ratings on their way; `publish` queues a payload with paho."""

    def __init__(
        self,
        name: str,
        outbox: Outbox,
        publish: Callable[[bytes], paho.MQTTMessageInfo],
        resend_s: float,
    ) -> None:
        self.name = name
        self.outbox = outbox
        self.resend_s = resend_s
        self._publish = publish
        self._awaiting: dict[int, str] = {}  # mid -> rating id (or _STATUS)
        self._awaiting_ids: set[str] = set()
        self._due: dict[str, float] = {}  # rating id -> when to send it again
        self._acked: list[str] = []  # named by an Ack, deleted at the end of the drain
        self._attempts: dict[str, int] = {}
        self._cursor = 0  # the highest seq sent on this connection

    def __str__(self) -> str:
        return self.name

    def restart(self) -> None:
        """A new connection: everything unacknowledged goes again, oldest first."""
        self._cursor = 0
        self._due.clear()
        self._attempts.clear()

    def rewind(self, seq: int) -> None:
        """Ratings from `seq` on were let go after newer ones may have been sent."""
        self._cursor = min(self._cursor, seq - 1)

    def expect_status(self, mid: int) -> None:
        """A Status was published as `mid`: its PUBACK is not a rating's."""
        self._awaiting[mid] = _STATUS

    def puback(self, mid: int, reason: ReasonCode) -> bool:
        """The broker's PUBACK of `mid`; True when it is a Status's (the link's concern)."""
        rating_id = self._awaiting.pop(mid, None)
        if rating_id is None:
            return False
        if rating_id == _STATUS:
            return True
        self._awaiting_ids.discard(rating_id)
        if reason.is_failure:
            log.error(
                "%s: the broker REFUSED rating %s: %s; it stays in the outbox. Check that the "
                "device id and [mqtt] url login match its registration.",
                self,
                rating_id,
                reason,
            )
        attempts = self._attempts.get(rating_id, 0)
        delay = min(self.resend_s * 2**attempts, self.resend_s * RESEND_MAX_FACTOR)
        self._due[rating_id] = time.monotonic() + delay
        self._attempts[rating_id] = attempts + 1
        return False

    def ack(self, ack: Ack) -> None:
        """The ratings an Ack names are done with: stored, duplicates, or rejected."""
        for rejection in ack.rejected:
            log.error(
                "%s: the server REJECTED rating %s: %s; it is dropped from the outbox and kept "
                "on the server for an administrator",
                self,
                rejection.id,
                rejection.error,
            )
        for rating_id in ack.named_ids():
            self._acked.append(rating_id)
            self._due.pop(rating_id, None)
            self._attempts.pop(rating_id, None)

    def delete_acked(self) -> None:
        """One transaction for every Ack heard since the last call."""
        if self._acked:
            self.outbox.delete(self._acked)
            self._acked.clear()

    def send_new(self) -> None:
        room = WINDOW - len(self._awaiting_ids)
        while room > 0:
            entries = self.outbox.pending(room, after_seq=self._cursor)
            if not entries:
                return
            for entry in entries:
                self._cursor = entry.seq
                if entry.id not in self._awaiting_ids:  # else paho still holds it
                    self._send(entry)
                    room -= 1

    def resend_due(self) -> None:
        now = time.monotonic()
        room = WINDOW - len(self._awaiting_ids)
        due = [rid for rid, when in self._due.items() if when <= now][: max(room, 0)]
        if not due:
            return
        entries = self.outbox.get(due)
        stored = {entry.id for entry in entries}
        for rating_id in due:
            self._due.pop(rating_id)
            if rating_id not in stored:
                self._attempts.pop(rating_id, None)
        if entries:
            log.info("%s: sending %d unacknowledged ratings again", self, len(entries))
        for entry in entries:
            self._send(entry)

    def _send(self, entry: OutboxEntry) -> None:
        info = self._publish(entry.payload)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.warning("%s: could not queue rating %s: %s", self, entry.id, info.rc)
            self._due[entry.id] = time.monotonic() + self.resend_s
            return
        self._awaiting[info.mid] = entry.id
        self._awaiting_ids.add(entry.id)
