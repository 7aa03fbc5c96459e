"""The chain heads kept outside the database: an append-only file and, if set, a webhook.

Someone holding the database file can delete a device's newest ratings with their links and put
back an older copy of its chain head, MAC and all, and delete the anchors in the audit log too:
what is left is a consistent, shorter chain. A record of the heads kept where the database is
not shows that a head went back. So at each daily anchor and at every clean stop of a server or
ingest process, every device's head (position and hash) is appended, MACed with the chain key,
as one JSON line to the anchor file (HAILONG_ANCHOR_FILE) and POSTed to
HAILONG_ANCHOR_WEBHOOK_URL. `check_heads` compares the current chains with every line of the
file, not only the latest: a rollback followed by new ratings and a new anchor (the server went
on over the shortened chain) is still caught by the older lines, whose links are gone.

Whoever rolls back the database *and* the file together, or the file alone by truncating it,
is caught only by a copy kept elsewhere (the webhook's receiver, a backup): the file is no
better protected than the host it is on.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import http.client
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hailong.errors import ConfigError
from server.integrity.encoding import CHAIN, HEAD
from server.integrity.key import key_path
from server.settings import Settings
from server.webhook import Post, post_json, webhook_url

log = logging.getLogger("hailong.anchors")

DAILY = "daily"
STOP = "stop"
MAX_UNSENT = 100  # lines kept for the webhook while it is down; each holds every head
LOOKUP = 500  # links looked up per statement


def anchor_path(settings: Settings) -> Path:
    """By default beside the key, named after it (chain.key: chain-anchors.jsonl): anchors
    made with one key are never mixed with another's."""
    key = key_path(settings)
    return settings.anchor_file or key.with_name(f"{key.stem}-anchors.jsonl")


def line_mac(key: bytes, at: str, why: str, heads: Mapping[str, Sequence[Any]]) -> str:
    """Keyed like the audit log's anchors, under its own kind so neither stands for the other."""
    body = json.dumps({"at": at, "heads": heads, "why": why}, sort_keys=True, separators=(",", ":"))
    message = f"external-anchor\n{body}".encode("utf-8", "surrogateescape")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def current_heads(conn: Connection) -> dict[str, list[Any]]:
    """device → [position, hash] of every device with at least one rating."""
    q = select(HEAD.c.device_id, HEAD.c.position, HEAD.c.hash)
    q = q.where(HEAD.c.position > 0).order_by(HEAD.c.device_id)
    return {device: [position, hash_] for device, position, hash_ in conn.execute(q)}


def anchor_line(key: bytes, heads: Mapping[str, Sequence[Any]], at: datetime, why: str) -> bytes:
    moment = at.astimezone(UTC).isoformat(timespec="seconds")
    entry = {"at": moment, "why": why, "heads": heads, "mac": line_mac(key, moment, why, heads)}
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def append(path: Path, data: bytes) -> None:
    """Append one whole line: created 0600, opened O_APPEND, locked against the other processes
    of this host, begun on a line of its own if a power cut left the last one unfinished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        if os.write(fd, data) != len(data):
            raise OSError(f"{path}: the anchor line was written only in part (disk full?)")
        os.fsync(fd)
    finally:
        os.close(fd)


class Outside:
    """Writes the anchor lines of one process. A webhook that fails keeps its lines (the last
    MAX_UNSENT) to be sent first at the next anchor; nothing here runs on the ingest's thread."""

    def __init__(self, path: Path, key: bytes, webhook: str = "", post: Post = post_json) -> None:
        self.path = path
        self.key = key
        self.webhook = webhook
        self.post = post
        self.unsent: list[bytes] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, key: bytes) -> Outside:
        url = settings.anchor_webhook_url
        webhook = webhook_url(url, "HAILONG_ANCHOR_WEBHOOK_URL") if url else ""
        return cls(anchor_path(settings), key, webhook)

    def record(self, heads: Mapping[str, Sequence[Any]], at: datetime, why: str) -> None:
        data = anchor_line(self.key, heads, at, why)
        with self._lock:
            try:
                append(self.path, data)
                log.info("chain heads of %d device(s) (%s) in %s", len(heads), why, self.path)
            except OSError as exc:
                log.error("cannot append the chain anchor to %s: %s", self.path, exc)
            if self.webhook:
                self._send(data)

    def _send(self, data: bytes) -> None:
        self.unsent = [*self.unsent, data][-MAX_UNSENT:]
        host = urlsplit(self.webhook).hostname or "?"
        while self.unsent:
            try:
                status = self.post(self.webhook, self.unsent[0])
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}".replace(self.webhook, host)
            if error is not None:
                log.warning(
                    "chain anchor not delivered to %s (%s): %d line(s) kept for the next anchor",
                    host,
                    error,
                    len(self.unsent),
                )
                return
            self.unsent.pop(0)

    def daily(self, session: Session, now: datetime) -> None:
        """After the day's anchor in the audit log (write.anchor_job's `written`)."""
        self.record(current_heads(session.connection()), now, DAILY)

    def at_stop(self, engine: Engine) -> None:
        """At a clean stop, after the last batch is stored; a database that is down is logged,
        one with no rating yet has nothing to anchor."""
        try:
            with engine.connect() as conn:
                heads = current_heads(conn)
        except SQLAlchemyError as exc:
            log.error("no chain anchor at this stop: cannot read the chain heads (%s)", exc)
            return
        if heads:
            self.record(heads, datetime.now(UTC), STOP)


# checking ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchored:
    position: int
    hash: str
    at: str


@dataclass
class ExternalAnchors:
    """What the anchor file says, from its lines whose MAC holds: every (device, position) an
    anchor recorded, with its hash and the first anchor that recorded it, and the furthest
    position of each device; and what was wrong with the other lines."""

    path: Path
    exists: bool = False
    lines: int = 0
    latest: str | None = None
    points: dict[tuple[str, int], Anchored] = field(default_factory=dict)
    furthest: dict[str, Anchored] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # lines with a bad MAC, or disagreeing
    unreadable: list[str] = field(default_factory=list)  # cut short or garbled: warnings

    def add(self, at: str, heads: Mapping[str, tuple[int, str]]) -> None:
        self.lines += 1
        self.latest = at
        for device, (position, hash_) in heads.items():
            point = Anchored(position, hash_, at)
            known = self.points.setdefault((device, position), point)
            if known.hash != hash_:
                self.problems.append(
                    f"device {device!r} position {position}: the external anchors of {known.at} "
                    f"and {at} disagree: the chain was rolled back and written again between them"
                )
            furthest = self.furthest.get(device)
            if furthest is None or position > furthest.position:
                self.furthest[device] = point


def _heads(value: Any) -> dict[str, tuple[int, str]] | None:
    if not isinstance(value, dict):
        return None
    heads = {}
    for device, head in value.items():
        if not (isinstance(head, list) and len(head) == 2):
            return None
        position, hash_ = head
        if not (isinstance(position, int) and isinstance(hash_, str)):
            return None
        heads[device] = (position, hash_)
    return heads


def _parse(entry: Any) -> tuple[str, str, str, dict[str, tuple[int, str]]] | None:
    if not isinstance(entry, dict):
        return None
    at, why, mac = entry.get("at"), entry.get("why"), entry.get("mac")
    heads = _heads(entry.get("heads"))
    if isinstance(at, str) and isinstance(why, str) and isinstance(mac, str) and heads is not None:
        return at, why, mac, heads
    return None


def read(path: Path, key: bytes) -> ExternalAnchors:
    found = ExternalAnchors(path)
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return found
    except OSError as exc:
        raise ConfigError(
            f"cannot read the anchor file {path} ({exc.strerror}): run as the user the server "
            "runs as, or point HAILONG_ANCHOR_FILE at a readable copy"
        ) from None
    found.exists = True
    with f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path} line {number}"
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = None
            parsed = _parse(entry)
            if parsed is None:
                found.unreadable.append(f"{where} is not an anchor line (cut short?): ignored")
                continue
            at, why, mac, heads = parsed
            if not hmac.compare_digest(line_mac(key, at, why, entry["heads"]), mac):
                found.problems.append(
                    f"{where} (at {at}) fails its MAC: written without the chain key, or edited"
                )
                continue
            found.add(at, heads)
    return found


def _links_at(conn: Connection, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
    links = CHAIN
    found: dict[tuple[str, int], str] = {}
    for i in range(0, len(wanted), LOOKUP):
        q = select(links.c.device_id, links.c.position, links.c.hash).where(
            tuple_(links.c.device_id, links.c.position).in_(wanted[i : i + LOOKUP])
        )
        found.update({(d, p): h for d, p, h in conn.execute(q)})
    return found


def check_heads(conn: Connection, anchors: ExternalAnchors) -> list[str]:
    """Every device whose chain head is behind the furthest position anchored outside, or whose
    chain no longer holds a link some anchor recorded (the first such link); one problem per
    device, in device order."""
    heads = {
        d: (p, h)
        for d, p, h in conn.execute(select(HEAD.c.device_id, HEAD.c.position, HEAD.c.hash))
    }
    problems: dict[str, str] = {}
    for device, anchored in anchors.furthest.items():
        where = f"device {device!r}"
        said = f"position {anchored.position} in the external anchor of {anchored.at}"
        head = heads.get(device)
        if head is None:
            problems[device] = f"{where} has no chain head now, but {said}: its ratings are gone"
        elif head[0] < anchored.position:
            problems[device] = (
                f"{where}: the chain head is at position {head[0]}, behind {said}: its newest "
                "ratings were removed and an older head put back"
            )
        elif head[0] == anchored.position and head[1] != anchored.hash:
            problems[device] = f"{where}: the chain head is not the one at {said}: rewritten"
    wanted = sorted(point for point in anchors.points if point[0] not in problems)
    links = _links_at(conn, wanted)
    for device, position in wanted:
        anchored = anchors.points[(device, position)]
        if device not in problems and links.get((device, position)) != anchored.hash:
            problems[device] = (
                f"device {device!r} position {position}: the link is not the one in the external "
                f"anchor of {anchored.at}: the chain was rolled back and written again"
            )
    return [problems[device] for device in sorted(problems)]
