"""Verifying the chain: every rating recomputed into its device's links, in one snapshot, and
the end of each chain compared with its MACed head and the daily anchors.

Problems are named, the first found first, so a person can tell an edited rating from a removed
or an inserted one; memory grows with devices, not ratings.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import Engine

from server.integrity.encoding import (
    ANCHOR,
    CHAIN,
    EVENT,
    GENESIS,
    HEAD,
    HEAD_BEHIND,
    PAGE,
    RAW,
    Progress,
    anchor_mac,
    head_mac,
    json_object,
    link_hash,
)
from server.integrity.key import check_key, seal_event

MAX_LISTED = 100


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
        detail = json_object(text) or {}
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
        detail = json_object(text) or {}
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
    check_key(conn, key)
    total = conn.execute(select(func.count()).select_from(RAW)).scalar_one()
    heads = {
        d: (p, h, m)
        for d, p, h, m in conn.execute(
            select(HEAD.c.device_id, HEAD.c.position, HEAD.c.hash, HEAD.c.mac)
        )
    }
    if seal_event(conn) is None and (total or heads):
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
