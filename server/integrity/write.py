"""Each device's ratings as a hash chain keyed with a secret kept outside the database.

The database refuses UPDATE and DELETE on `rating`, but someone holding the database file can
drop that rule. So every stored rating gets a link in `rating_chain`: an HMAC, keyed with the
chain key (a file beside, never inside, the database), of the previous link and every column of
the rating. Without the key nobody can make a link match an edited, inserted or removed rating;
`verify` recomputes every link and names the first that does not match.

Limits, stated honestly:
- `chain_head` holds the last link of each device, MACed. Deleting a device's last ratings with
  their links and putting back an *older* copy of its head (MAC and all) leaves a chain that is
  consistent but shorter; the daily anchors (`anchor`, in the audit log) catch that for whatever
  was anchored, i.e. everything older than the last anchor. The anchors are in the database too:
  whoever rolls back the whole file, anchors included, to an earlier copy is caught only by a
  record kept elsewhere: each anchor, and the heads at every clean stop, also go to the anchor
  file and webhook (server/integrity/anchors.py) and to the server's log.
- Ratings stored before the chain existed are sealed into it once, at the first start after the
  upgrade. Someone who deletes every link, head and audit event makes the next start seal again;
  the first seal's log line and the logged anchors are then the evidence.
- Every server and ingest process must read the same key file (a province's processes on several
  hosts: copy it once, mode 0600). A process never makes a new key once the chain has begun, and
  refuses a key that is not the chain's own, so a host without the file cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, column, func, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.types import Boolean, Date, DateTime, Integer, String, TypeDecorator
from sqlmodel import Session

from hailong.errors import HailongError
from server.access import audit
from server.jobs import Job
from server.settings import Settings
from server.storage import bulk
from server.storage.models import AuditEvent, ChainHead, Rating, RatingLink
from server.storage.secret_file import make_once
from server.timeutil import vn_day, vn_day_start

log = logging.getLogger("hailong.chain")

KEY_BYTES = 32
GENESIS = ""  # the `prev_hash` of a device's first link
SEALED = "chain.sealed"
ANCHOR = "chain.anchor"
HEAD_BEHIND = "chain.head_behind"
ANCHOR_EVERY_S = 300.0
# Heads changed this long before the previous anchor are anchored again: a batch that read the
# clock before that anchor but committed after it must not be missed, whatever the clock skew.
ANCHOR_OVERLAP = timedelta(hours=1)
PAGE = 5000
MAX_LISTED = 100
SEAL_LOCK = 0x4A1_C5A1  # PostgreSQL advisory locks: any constants, the same in every process
ANCHOR_LOCK = 0x4A1_A4C4

# Every column of `rating`, in the hash of its link. A column added to `rating` later would change
# the hash of every old row if it joined this list: whoever adds one decides (a test fails until).
CHAINED_COLUMNS = (
    "id",
    "device_id",
    "seq",
    "pressed_at",
    "device_pressed_at",
    "received_at",
    "day",
    "scale",
    "score",
    "officer_id",
    "counter_id",
    "unit_id",
    "reported_officer_id",
    "reported_counter_id",
    "ticket",
    "reasons",
    "comment",
    "input",
    "clock_synced",
    "flags",
)

RATING = Rating.__table__  # type: ignore[attr-defined]
CHAIN = RatingLink.__table__  # type: ignore[attr-defined]
HEAD = ChainHead.__table__  # type: ignore[attr-defined]
EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
# The rating table without column types: values come as the database holds them, so a value
# edited by hand into something the model could not parse is reported, not a crash.
RAW = table("rating", *(column(name) for name in CHAINED_COLUMNS))

Progress = Callable[[int, int], None]


class ChainError(HailongError):
    """The chain cannot be extended or checked as it stands."""


class ChainKeyError(ChainError):
    """The chain key file is missing, unreadable, malformed, or not the chain's own."""


def _kind(name: str) -> type:
    sa_type = RATING.c[name].type
    if isinstance(sa_type, TypeDecorator):
        sa_type = sa_type.impl_instance
    for sa_class, kind in ((DateTime, datetime), (Date, date), (Boolean, bool), (Integer, int)):
        if isinstance(sa_type, sa_class):
            return kind
    if isinstance(sa_type, String):
        return str
    raise TypeError(f"rating.{name}: no canonical encoding for {sa_type!r}")


KINDS = {name: _kind(name) for name in CHAINED_COLUMNS}


# the key ----------------------------------------------------------------------------------------


def key_path(settings: Settings) -> Path:
    return settings.chain_key_file or settings.data_dir / "chain.key"


def ensure_key(path: Path) -> bytes:
    """Load the key, making it first if there is none (server/storage/secret_file.py: a process
    starting at the same moment never reads half of it)."""
    if make_once(path, lambda: secrets.token_hex(KEY_BYTES)):
        log.warning("made the chain key %s: back it up, every check needs it", path)
    return load_key(path)


def load_key(path: Path) -> bytes:
    what = "restore it from the backup, or point HAILONG_CHAIN_KEY_FILE at it"
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ChainKeyError(f"no chain key at {path}: {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainKeyError(f"cannot read the chain key {path} ({exc}): {what}") from None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ChainKeyError(
            f"{path} is not a chain key ({KEY_BYTES} bytes as {2 * KEY_BYTES} hex digits): {what}"
        )
    return key


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it: the seal records it, so a wrong key is refused."""
    return _mac(key, b"fingerprint")[:16]


# hashing ----------------------------------------------------------------------------------------


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _text(value: str) -> bytes:
    """UTF-8, keeping bytes a hand edit made undecodable (see `_lenient_text`) as they were."""
    return value.encode("utf-8", "surrogateescape")


def _unexpected(value: Any) -> Any:
    """A value of a type its column never holds (a hand edit) encodes as itself: never a match."""
    return {"unexpected": type(value).__name__, "value": str(value)}


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return {"unreadable": value}
    if not isinstance(value, datetime):
        return _unexpected(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def _day(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return {"unreadable": value}
    if isinstance(value, datetime) or not isinstance(value, date):
        return _unexpected(value)
    return value.isoformat()


def _flag(value: Any) -> Any:
    return bool(value) if isinstance(value, int) and value in (0, 1) else _unexpected(value)


def _number(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else _unexpected(value)


def _string(value: Any) -> Any:
    return value if isinstance(value, str) else _unexpected(value)


# Per column, in sorted order, how its value becomes JSON: the same from the ingest's dict
# (aware datetimes, date, bool) as read back from SQLite (text, 0/1) or PostgreSQL.
_ENCODE: dict[type, Callable[[Any], Any]] = {
    datetime: _moment,
    date: _day,
    bool: _flag,
    int: _number,
    str: _string,
}
_ENCODERS = tuple((name, _ENCODE[KINDS[name]]) for name in sorted(CHAINED_COLUMNS))


def canonical(row: Mapping[Any, Any]) -> bytes:
    """The bytes a link hashes: every chained column as JSON with sorted keys (built in sorted
    order, which is what sort_keys would do, only faster), UTC times to the microsecond."""
    try:
        values = {name: None if (v := row[name]) is None else enc(v) for name, enc in _ENCODERS}
    except KeyError as exc:
        raise ChainError(
            f"a rating row lacks {exc.args[0]}: the chain hashes every column"
        ) from None
    return _text(json.dumps(values, separators=(",", ":"), ensure_ascii=False))


def link_hash(
    key: bytes, prev_hash: str, device_id: str, position: int, row: Mapping[Any, Any]
) -> str:
    """Each message starts with what it is ("link", "head", "anchor"), so a MAC of one kind can
    never stand in for another."""
    return _mac(key, _text(f"link\n{prev_hash}\n{device_id}\n{position}\n") + canonical(row))


def head_mac(key: bytes, device_id: str, position: int, hash_: str) -> str:
    return _mac(key, _text(f"head\n{device_id}\n{position}\n{hash_}"))


def anchor_mac(key: bytes, day: str, heads: Mapping[str, Sequence[Any]]) -> str:
    body = json.dumps({"day": day, "heads": heads}, sort_keys=True, separators=(",", ":"))
    return _mac(key, _text(f"anchor\n{body}"))


# writing ----------------------------------------------------------------------------------------


def _put_heads(
    conn: Connection, key: bytes, tips: Mapping[str, tuple[int, str]], now: datetime
) -> None:
    rows = [
        {
            "device_id": device,
            "position": position,
            "hash": hash_,
            "mac": head_mac(key, device, position, hash_),
            "updated_at": now,
        }
        for device, (position, hash_) in sorted(tips.items())
    ]
    if not rows:
        return
    stmt = bulk.dialect_insert(conn)(HEAD)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id"],
        set_={name: stmt.excluded[name] for name in ("position", "hash", "mac", "updated_at")},
    )
    conn.execute(stmt, rows)


def _lock_heads(
    conn: Connection, key: bytes, devices: Sequence[str], now: datetime
) -> dict[str, tuple[int, str]]:
    """Lock the heads of `devices` (sorted), making an empty head for a new device, and read
    them: one statement, rows taken in the same order by every process, so two ingest
    processes never deadlock and a device's first links are never made twice."""
    empty = [
        {
            "device_id": device,
            "position": 0,
            "hash": GENESIS,
            "mac": head_mac(key, device, 0, GENESIS),
            "updated_at": now,
        }
        for device in devices
    ]
    stmt = bulk.dialect_insert(conn)(HEAD)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id"], set_={"position": HEAD.c.position}
    ).returning(HEAD.c.device_id, HEAD.c.position, HEAD.c.hash)
    # executemany: SQLAlchemy sends the rows as multi-row VALUES in their order, compiled once
    return {device: (position, hash_) for device, position, hash_ in conn.execute(stmt, empty)}


def _links_past_heads(
    conn: Connection, tips: Mapping[str, tuple[int, str]]
) -> dict[str, tuple[int, int, str]]:
    """Devices whose links go beyond their head (a head deleted or wound back by hand):
    device → (head position, last link position, last link hash)."""
    last: dict[str, int] = dict(
        conn.execute(
            select(CHAIN.c.device_id, func.max(CHAIN.c.position))
            .where(CHAIN.c.device_id.in_(list(tips)))
            .group_by(CHAIN.c.device_id)
        ).all()
    )
    found = {}
    for device, position in last.items():
        if position > tips[device][0]:
            hash_ = conn.execute(
                select(CHAIN.c.hash).where(
                    CHAIN.c.device_id == device, CHAIN.c.position == position
                )
            ).scalar_one()
            found[device] = (tips[device][0], position, hash_)
    return found


def append(session: Session, key: bytes, rows: Sequence[Mapping[str, Any]], now: datetime) -> None:
    """Link `rows`, the ratings this transaction has just inserted (every column), in order.

    A head found behind its links is not trusted to say where the chain ends: the new links
    follow the last link, and an audit event keeps what was found for `verify` to report, rather
    than refusing a device's ratings for ever because its head was edited."""
    if not rows:
        return
    conn = session.connection()
    tips = _lock_heads(conn, key, sorted({str(r["device_id"]) for r in rows}), now)
    for device, (head, position, hash_) in _links_past_heads(conn, tips).items():
        log.error("the chain head of %s is at %d but its links go to %d", device, head, position)
        detail = {"head_position": head, "last_link": position}
        audit.record(session, audit.SYSTEM, HEAD_BEHIND, target=device, detail=detail, at=now)
        tips[device] = (position, hash_)
    links = []
    for row in rows:
        device = str(row["device_id"])
        position, prev = tips[device]
        position += 1
        hash_ = link_hash(key, prev, device, position, row)
        links.append(
            {"device_id": device, "position": position, "rating_id": row["id"], "hash": hash_}
        )
        tips[device] = (position, hash_)
    stored = bulk.upsert(session, CHAIN, links, "nothing", returning="rating_id")
    if len(stored) != len(links):
        raise ChainError(f"{len(links) - len(stored)} link(s) collided with existing ones")
    _put_heads(conn, key, tips, now)


def _lock(session: Session, lock: int) -> None:
    """Make the rest of the transaction run alone among processes: a transaction-scoped
    advisory lock on PostgreSQL; on SQLite BEGIN IMMEDIATE, so it must be the first statement."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock})")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _seal_event(conn: Connection) -> Mapping[str, Any] | None:
    detail = conn.execute(
        select(EVENT.c.detail).where(EVENT.c.action == SEALED).order_by(EVENT.c.id).limit(1)
    ).scalar()
    return None if detail is None else _json_object(detail)


def _chain_begun(conn: Connection) -> bool:
    return (
        _seal_event(conn) is not None
        or conn.execute(select(HEAD.c.device_id).limit(1)).first() is not None
    )


def _seal(session: Session, key: bytes, now: datetime, progress: Progress | None) -> int:
    """Link every rating, per device in (received_at, seq, id) order, and record the seal."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE rating IN SHARE MODE")  # an older process still running
    total = conn.execute(select(func.count()).select_from(RAW)).scalar_one()
    tips: dict[str, tuple[int, str]] = {}
    done = 0
    order = (RAW.c.device_id, RAW.c.received_at, RAW.c.seq, RAW.c.id)
    rows = conn.execute(select(*RAW.c).order_by(*order).execution_options(yield_per=PAGE))
    for page in rows.mappings().partitions():
        links = []
        for row in page:
            device = str(row["device_id"])
            position, prev = tips.get(device, (0, GENESIS))
            hash_ = link_hash(key, prev, device, position + 1, row)
            links.append(
                {
                    "device_id": device,
                    "position": position + 1,
                    "rating_id": row["id"],
                    "hash": hash_,
                }
            )
            tips[device] = (position + 1, hash_)
        bulk.upsert(session, CHAIN, links, "nothing")
        done += len(page)
        if progress:
            progress(done, total)
    _put_heads(conn, key, tips, now)
    detail = {"ratings": done, "devices": len(tips), "key_fingerprint": fingerprint(key)}
    audit.record(session, audit.SYSTEM, SEALED, detail=detail, at=now)
    return done


def _check_key(conn: Connection, key: bytes, path: Path | None = None) -> None:
    seal = _seal_event(conn)
    if seal is not None and seal.get("key_fingerprint") not in (None, fingerprint(key)):
        where = f" ({path})" if path else ""
        raise ChainKeyError(
            f"the chain key{where} is not the one the ratings were chained with: "
            "use the original key file, restored from the backup"
        )


def seal_unchained(engine: Engine, key: bytes, progress: Progress | None = None) -> int:
    """Chain the ratings stored before the chain existed, once ever: only while there is neither
    a seal nor a head. After that a rating without a link is one `verify` must report as
    inserted, never one to seal. Returns how many were sealed (0 when it was done before)."""
    with Session(engine) as session:
        _lock(session, SEAL_LOCK)
        conn = session.connection()
        _check_key(conn, key)
        if _chain_begun(conn):
            return 0
        sealed = _seal(session, key, datetime.now(UTC), progress)
        session.commit()
    return sealed


def _logged_progress(done: int, total: int) -> None:
    """The seal of an upgraded database's ratings can take minutes: say so in the server log."""
    if done == total or done % (20 * PAGE) < PAGE:
        log.info("sealing the ratings stored before the chain: %d of %d", done, total)


def prepare(engine: Engine, settings: Settings, progress: Progress | None = None) -> bytes:
    """At a process's start, after the migrations: the chain key, made on the very first start,
    with the ratings stored before the chain sealed into it. Once the chain has begun a missing
    key is an error, never a reason to make another, and a key that is not the chain's own is
    refused: a misconfigured process must not fork the chain."""
    path = key_path(settings)
    with Session(engine) as session:
        _lock(session, SEAL_LOCK)
        conn = session.connection()
        begun = _chain_begun(conn)
        key = load_key(path) if begun else ensure_key(path)
        _check_key(conn, key, path)
        if not begun:
            sealed = _seal(session, key, datetime.now(UTC), progress or _logged_progress)
            session.commit()
            level = logging.WARNING if sealed else logging.INFO  # a new install has none
            log.log(level, "sealed %d rating(s) stored before the chain", sealed)
    return key


# anchors ----------------------------------------------------------------------------------------


def anchor(session: Session, key: bytes, now: datetime) -> AuditEvent | None:
    """Write the heads changed since the previous anchor (all of them the first time) to the
    audit log, MACed, once per Vietnam day however many processes try; None when the day has
    its anchor already or no head changed. The caller commits; this must be the first statement
    of the session's transaction (see `_lock`)."""
    _lock(session, ANCHOR_LOCK)
    conn = session.connection()
    day = vn_day(now)
    anchors = select(EVENT.c.at).where(EVENT.c.action == ANCHOR)
    if conn.execute(anchors.where(EVENT.c.at >= vn_day_start(day)).limit(1)).first():
        return None
    previous = conn.execute(anchors.order_by(EVENT.c.at.desc()).limit(1)).scalar()
    changed = select(HEAD.c.device_id, HEAD.c.position, HEAD.c.hash).where(HEAD.c.position > 0)
    if previous is not None:
        changed = changed.where(HEAD.c.updated_at >= previous - ANCHOR_OVERLAP)
    heads = {d: [p, h] for d, p, h in conn.execute(changed.order_by(HEAD.c.device_id))}
    if not heads:
        return None
    mac = anchor_mac(key, day.isoformat(), heads)
    detail = {"day": day.isoformat(), "heads": heads, "mac": mac}
    log.info("chain anchor of %s: %d head(s), mac %s", day, len(heads), mac)
    return audit.record(session, audit.SYSTEM, ANCHOR, detail=detail, at=now)


def anchor_job(key: bytes, written: Callable[[Session, datetime], None] | None = None) -> Job:
    """Tries every few minutes; writes only when the Vietnam day has no anchor yet. `written`
    runs after the commit of an anchor this process wrote (the copy kept outside the
    database, server/integrity/anchors.py)."""

    def run(session: Session, now: datetime) -> None:
        event = anchor(session, key, now)
        session.commit()
        if event is not None and written is not None:
            written(session, now)

    return Job("chain-anchor", ANCHOR_EVERY_S, run)


# verifying --------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    checked: int = 0
    devices: int = 0
    problem_count: int = 0
    problems: list[str] = field(default_factory=list)  # the first MAX_LISTED, first found first

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)


@dataclass(frozen=True)
class _Anchored:
    position: int
    hash: str
    day: str


def _json_object(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of the whole database while ingest goes on writing: a read-only
    REPEATABLE READ transaction (PostgreSQL) or a deferred SQLite read transaction. SQLite text
    that is not UTF-8 (a hand edit) is read as it is, to be reported rather than crash."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
            return
        dbapi: Any = conn.connection.dbapi_connection
        dbapi.text_factory = _lenient_text
        try:
            with conn.begin():
                conn.exec_driver_sql("BEGIN")
                yield conn
        finally:
            dbapi.text_factory = str


def _anchored_heads(conn: Connection, key: bytes, report: VerifyReport) -> dict[str, _Anchored]:
    """The furthest anchored head of each device, from the anchors whose MAC holds."""
    furthest: dict[str, _Anchored] = {}
    q = select(EVENT.c.id, EVENT.c.detail).where(EVENT.c.action == ANCHOR).order_by(EVENT.c.id)
    for event_id, text in conn.execute(q.execution_options(yield_per=100)):
        detail = _json_object(text) or {}
        day, heads, mac = detail.get("day"), detail.get("heads"), detail.get("mac")
        if not (isinstance(day, str) and isinstance(heads, dict) and isinstance(mac, str)):
            report.add(f"the chain anchor (audit event #{event_id}) is unreadable: edited by hand")
            continue
        if not hmac.compare_digest(anchor_mac(key, day, heads), mac):
            report.add(
                f"the anchor of {day} (audit event #{event_id}) fails its MAC: edited by hand"
            )
            continue
        for device, (position, hash_) in heads.items():
            if device not in furthest or position > furthest[device].position:
                furthest[device] = _Anchored(position, hash_, day)
    return furthest


def _heads_reported_behind(conn: Connection, report: VerifyReport) -> None:
    q = select(EVENT.c.at, EVENT.c.target, EVENT.c.detail).where(EVENT.c.action == HEAD_BEHIND)
    for at, device, text in conn.execute(q.order_by(EVENT.c.id)):
        detail = _json_object(text) or {}
        report.add(
            f"device {device!r}: on {at:%Y-%m-%d %H:%M} UTC its chain head said position "
            f"{detail.get('head_position')} while its links went to {detail.get('last_link')}: "
            "the head was deleted or wound back by hand"
        )


def _walk(
    conn: Connection,
    key: bytes,
    device: str,
    head: tuple[int, str, str] | None,
    anchored: _Anchored | None,
    report: VerifyReport,
    on_page: Callable[[int], None],
) -> None:
    """Recompute one device's links in position order, a page at a time, then compare where
    the chain ends with its head and its furthest anchor."""
    where = f"device {device!r}"
    expected, prev = 1, GENESIS
    anchored_hash: str | None = None
    joined = CHAIN.outerjoin(RAW, RAW.c.id == CHAIN.c.rating_id)
    q = select(CHAIN.c.position, CHAIN.c.rating_id, CHAIN.c.hash, *RAW.c).select_from(joined)
    q = q.where(CHAIN.c.device_id == device).order_by(CHAIN.c.position).limit(PAGE)
    after: int | None = None  # the first page has no lower bound: a link at 0 or below counts
    while True:
        rest = q if after is None else q.where(CHAIN.c.position > after)
        page = conn.execute(rest).mappings().all()
        for link in page:
            position, stored = link["position"], link["hash"]
            at = f"{where} position {position} (rating {link['rating_id']!r})"
            after = position
            if position < expected:
                report.add(f"{at}: a link out of the chain's order: inserted by hand")
                continue
            if position > expected:
                report.add(
                    f"{where}: links {expected}..{position - 1} are missing: ratings were "
                    "removed with their links"
                )
            if link["id"] is None:
                report.add(f"{at}: the rating was removed; its link remains")
            elif position == expected and hmac.compare_digest(
                link_hash(key, prev, device, position, link), stored
            ):
                report.checked += 1
            elif position == expected:
                report.add(
                    f"{at}: the rating does not match its link: altered, or inserted with a "
                    "forged link"
                )
            if anchored is not None and position == anchored.position:
                anchored_hash = stored
            expected, prev = position + 1, stored
        on_page(len(page))
        if len(page) < PAGE:
            break
    _check_end(key, device, expected - 1, prev, head, anchored, anchored_hash, report)


def _check_end(
    key: bytes,
    device: str,
    last: int,
    last_hash: str,
    head: tuple[int, str, str] | None,
    anchored: _Anchored | None,
    anchored_hash: str | None,
    report: VerifyReport,
) -> None:
    where = f"device {device!r}"
    if head is None:
        report.add(f"{where}: links 1..{last} have no chain head: the head was deleted")
    else:
        position, hash_, mac = head
        if not hmac.compare_digest(head_mac(key, device, position, hash_), mac):
            report.add(f"{where}: the chain head (position {position}) fails its MAC: edited")
        elif position < last:
            report.add(
                f"{where}: the links go to position {last}, past the chain head at {position}: "
                "the head was wound back"
            )
        elif position > last:
            report.add(
                f"{where}: the chain head is at position {position} but the links end at "
                f"{last}: the last ratings were removed with their links"
            )
        elif hash_ != last_hash:
            report.add(f"{where}: the chain head does not match link {last}: edited")
    if anchored is None:
        return
    if anchored.position > last:
        report.add(
            f"{where}: the anchor of {anchored.day} has position {anchored.position} but the "
            f"links end at {last}: ratings were removed with their links"
        )
    elif anchored_hash != anchored.hash:
        report.add(
            f"{where} position {anchored.position}: the link is not the one anchored on "
            f"{anchored.day}: the chain was rewritten"
        )


def _unlinked(conn: Connection, report: VerifyReport) -> None:
    orphans = RAW.outerjoin(CHAIN, CHAIN.c.rating_id == RAW.c.id)
    q = select(RAW.c.id, RAW.c.device_id, RAW.c.seq).select_from(orphans)
    q = q.where(CHAIN.c.rating_id.is_(None))
    count = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    order = (RAW.c.device_id, RAW.c.received_at, RAW.c.seq, RAW.c.id)
    for rating_id, device, seq in conn.execute(q.order_by(*order).limit(MAX_LISTED)):
        report.add(
            f"device {device!r} rating {rating_id!r} (seq {seq}) has no link: it was inserted "
            "outside the server"
        )
    report.problem_count += max(0, count - MAX_LISTED)


def verify(engine: Engine, key: bytes, progress: Progress | None = None) -> VerifyReport:
    """Prove every rating is as the server stored it (`verify_in`), in one consistent snapshot;
    memory grows with devices, not ratings."""
    report = VerifyReport()
    with snapshot(engine) as conn:
        verify_in(conn, key, report, progress)
    return report


def verify_in(
    conn: Connection, key: bytes, report: VerifyReport, progress: Progress | None = None
) -> None:
    """Recompute every device's chain from the ratings, compare its end with the MACed head
    and the anchors, and look for ratings without a link; problems go to `report`."""
    _check_key(conn, key)
    total = conn.execute(select(func.count()).select_from(RAW)).scalar_one()
    heads = {
        d: (p, h, m)
        for d, p, h, m in conn.execute(
            select(HEAD.c.device_id, HEAD.c.position, HEAD.c.hash, HEAD.c.mac)
        )
    }
    if _seal_event(conn) is None and (total or heads):
        report.add(
            "the audit log has no chain.sealed event: start the server once to seal the "
            "ratings stored before the chain; if it has run, the chain was removed by hand"
        )
    anchored = _anchored_heads(conn, key, report)
    _heads_reported_behind(conn, report)
    linked = {d for (d,) in conn.execute(select(CHAIN.c.device_id).distinct())}
    devices = sorted(linked | set(heads) | set(anchored))
    walked = 0

    def on_page(n: int) -> None:
        nonlocal walked
        walked += n
        if progress and n:
            progress(walked, total)

    for device in devices:
        _walk(conn, key, device, heads.get(device), anchored.get(device), report, on_page)
    report.devices = len(devices)
    _unlinked(conn, report)
