"""Writing the chain: a link for every rating as it is stored, the seal of the ratings stored
before the chain, and the daily anchor of its heads in the audit log.

Appending locks the heads of a batch's devices, so two ingest processes extend a device's chain
one after the other; a head found behind its links is recorded for `verify`, not trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.access import audit
from server.integrity.encoding import (
    ANCHOR,
    CHAIN,
    EVENT,
    GENESIS,
    HEAD,
    HEAD_BEHIND,
    PAGE,
    RAW,
    SEALED,
    ChainError,
    Progress,
    anchor_mac,
    head_mac,
    link_hash,
)
from server.integrity.key import check_key, ensure_key, fingerprint, key_path, load_key, seal_event
from server.jobs import Job
from server.settings import Settings
from server.storage import bulk
from server.storage.models import AuditEvent
from server.storage.rows import RatingRow
from server.timeutil import vn_day, vn_day_start

log = logging.getLogger("hailong.chain")

ANCHOR_EVERY_S = 300.0
# Heads changed this long before the previous anchor are anchored again: a batch that read the
# clock before that anchor but committed after it must not be missed, whatever the clock skew.
ANCHOR_OVERLAP = timedelta(hours=1)
SEAL_LOCK = 0x4A1_C5A1  # PostgreSQL advisory locks: any constants, the same in every process
ANCHOR_LOCK = 0x4A1_A4C4


# appending --------------------------------------------------------------------------------------


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


def append(session: Session, key: bytes, rows: Sequence[RatingRow], now: datetime) -> None:
    """Link `rows`, the ratings this transaction has just inserted (every column), in order.

    A head found behind its links is not trusted to say where the chain ends: the new links
    follow the last link, and an audit event keeps what was found for `verify` to report, rather
    than refusing a device's ratings for ever because its head was edited."""
    if not rows:
        return
    conn = session.connection()
    tips = _lock_heads(conn, key, sorted({r.device_id for r in rows}), now)
    for device, (head, position, hash_) in _links_past_heads(conn, tips).items():
        log.error("the chain head of %s is at %d but its links go to %d", device, head, position)
        detail = {"head_position": head, "last_link": position}
        audit.record(session, audit.SYSTEM, HEAD_BEHIND, target=device, detail=detail, at=now)
        tips[device] = (position, hash_)
    links = []
    for row in rows:
        device = row.device_id
        position, prev = tips[device]
        position += 1
        hash_ = link_hash(key, prev, device, position, row)
        links.append(
            {"device_id": device, "position": position, "rating_id": row.id, "hash": hash_}
        )
        tips[device] = (position, hash_)
    stored = bulk.upsert(session, CHAIN, links, "nothing", returning="rating_id")
    if len(stored) != len(links):
        raise ChainError(f"{len(links) - len(stored)} link(s) collided with existing ones")
    _put_heads(conn, key, tips, now)


# sealing ----------------------------------------------------------------------------------------


def _lock(session: Session, lock: int) -> None:
    """Make the rest of the transaction run alone among processes: a transaction-scoped
    advisory lock on PostgreSQL; on SQLite BEGIN IMMEDIATE, so it must be the first statement."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock})")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _chain_begun(conn: Connection) -> bool:
    return (
        seal_event(conn) is not None
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


def seal_unchained(engine: Engine, key: bytes, progress: Progress | None = None) -> int:
    """Chain the ratings stored before the chain existed, once ever: only while there is neither
    a seal nor a head. After that a rating without a link is one `verify` must report as
    inserted, never one to seal. Returns how many were sealed (0 when it was done before)."""
    with Session(engine) as session:
        _lock(session, SEAL_LOCK)
        conn = session.connection()
        check_key(conn, key)
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
        check_key(conn, key, path)
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
