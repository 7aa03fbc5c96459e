"""The order rules of a unit's ratings, and the seq values it never delivered.

A unit numbers its presses 1, 2, 3 … and never reuses a number, so `seq` and press time rise
together. Someone with the unit's password can publish ratings, but not unpublish the ones the
unit already delivered: a made-up rating dated last month either reuses a seq (`seq_reused`) or
takes a new one whose press time falls before the ratings with lower seqs (`out_of_order`).

Only ratings whose time is trusted are references for `out_of_order`: one dated by its receipt,
or flagged by an order rule itself, would let a forged rating vouch for the next one.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from server.ingest.press_time import CLOCK_TOLERANCE, UNKNOWN_TIME_FLAGS
from server.storage.models import Rating, SeqGap

SEQ_REUSED = "seq_reused"
OUT_OF_ORDER = "out_of_order"
ORDER_FLAGS = (SEQ_REUSED, OUT_OF_ORDER, "late_while_online")
UNTRUSTED_FLAGS = (*UNKNOWN_TIME_FLAGS, *ORDER_FLAGS)


def trusted(flags: Iterable[str]) -> bool:
    """Whether a rating's press time may judge the order of another."""
    return not any(f in UNTRUSTED_FLAGS for f in flags)


@dataclass
class DeviceOrder:
    """One device's received seqs (with their rating ids) and trusted press times, stored or
    earlier in the batch, as far as the batch needs them."""

    ids_by_seq: dict[int, set[str]] = field(default_factory=dict)
    seqs: list[int] = field(default_factory=list)  # sorted seqs with a trusted press time
    times: dict[int, datetime] = field(default_factory=dict)

    def add(self, seq: int, rating_id: str, pressed_at: datetime, is_trusted: bool) -> None:
        self.ids_by_seq.setdefault(seq, set()).add(rating_id)
        if is_trusted and seq not in self.times:
            insort(self.seqs, seq)
            self.times[seq] = pressed_at

    def flags(self, seq: int, rating_id: str, pressed_at: datetime, time_known: bool) -> list[str]:
        """`seq_reused` when another id holds this seq; `out_of_order` when the press is more
        than 2 minutes before the nearest lower seq's, or after the nearest higher seq's."""
        found: list[str] = []
        if self.ids_by_seq.get(seq, set()) - {rating_id}:
            found.append(SEQ_REUSED)
        if time_known:
            at = bisect_left(self.seqs, seq)
            lower = self.seqs[at - 1] if at > 0 else None
            higher_at = at + 1 if at < len(self.seqs) and self.seqs[at] == seq else at
            higher = self.seqs[higher_at] if higher_at < len(self.seqs) else None
            if (lower is not None and pressed_at < self.times[lower] - CLOCK_TOLERANCE) or (
                higher is not None and pressed_at > self.times[higher] + CLOCK_TOLERANCE
            ):
                found.append(OUT_OF_ORDER)
        return found


_TRUSTED_SQL = " AND ".join(f"flags NOT LIKE '%{f}%'" for f in UNTRUSTED_FLAGS)
_COLUMNS = "SELECT id, seq, pressed_at, flags FROM rating WHERE device_id = :device AND seq"
_NEAREST = f"SELECT * FROM ({_COLUMNS} {{}} AND {_TRUSTED_SQL} ORDER BY seq {{}} LIMIT 1) AS {{}}"
_RATING = Rating.__table__  # type: ignore[attr-defined]
# One statement a device, compiled once: its stored ratings within the batch's seqs, and the
# nearest trusted ones below and above them. Each part walks the (device_id, seq) index from the
# batch's seqs outwards, never reading a device's history: a unit stores a rating a minute for
# years.
AROUND = sa.text(
    " UNION ALL ".join(
        (
            f"{_COLUMNS} BETWEEN :lo AND :hi",
            _NEAREST.format("< :lo", "DESC", "below"),
            _NEAREST.format("> :hi", "", "above"),
        )
    )
).columns(_RATING.c.id, _RATING.c.seq, _RATING.c.pressed_at, _RATING.c.flags)


def load_order(session: Session, spans: dict[str, tuple[int, int]]) -> dict[str, DeviceOrder]:
    """Per device, the stored ratings with a seq within its span (lowest..highest seq of the
    batch), and the nearest trusted ones below and above it."""
    orders = {device_id: DeviceOrder() for device_id in spans}
    conn = session.connection()
    for device_id, (lo, hi) in spans.items():
        for rating_id, seq, pressed_at, flags in conn.execute(
            AROUND, {"device": device_id, "lo": lo, "hi": hi}
        ):
            orders[device_id].add(seq, rating_id, pressed_at, trusted(flags.split(",")))
    return orders


# --- missing seqs ---------------------------------------------------------------------------

Gap = tuple[int, int | None]  # first..last missing seq; last None: from first on, none received


def remove_seqs(gaps: Sequence[Gap], seqs: Iterable[int]) -> list[Gap]:
    """The gaps left once `seqs` are received: a seq inside a gap splits it (or shortens it at
    an end); a seq in no gap was received before and changes nothing."""
    result = sorted(gaps)
    for seq in sorted(set(seqs)):
        for index, (first, last) in enumerate(result):
            if first <= seq and (last is None or seq <= last):
                pieces: list[Gap] = []
                if first < seq:
                    pieces.append((first, seq - 1))
                if last is None or seq < last:
                    pieces.append((seq + 1, last))
                result[index : index + 1] = pieces
                break
    return result


# Every gap of the batch's devices that may hold one of its seqs; a device's open gap (last_seq
# NULL, above its highest seq) always, so that a device with no row is one that received nothing.
_GAPS = sa.text(
    "SELECT device_id, first_seq, last_seq FROM seq_gap WHERE device_id IN :devices "
    "AND (last_seq IS NULL OR (first_seq <= :hi AND last_seq >= :lo))"
).bindparams(sa.bindparam("devices", expanding=True))
_DELETE_GAP = sa.text("DELETE FROM seq_gap WHERE device_id = :device AND first_seq = :first")


def record_received(session: Session, seqs_by_device: dict[str, set[int]]) -> None:
    """Take the newly stored seqs out of their devices' gaps, in a few statements whatever the
    number of devices. Called after the chain's `append` in the same transaction, which holds the
    devices' chain heads locked: two ingest processes update one device's gaps one after the
    other. A device without any gap row has received nothing yet: all of 1.. is missing."""
    if not seqs_by_device:
        return
    spans = {d: (min(seqs), max(seqs)) for d, seqs in seqs_by_device.items()}
    bounds = {
        "devices": sorted(spans),
        "lo": min(lo for lo, _ in spans.values()),
        "hi": max(hi for _, hi in spans.values()),
    }
    before: dict[str, list[Gap]] = {d: [] for d in spans}
    known: set[str] = set()
    conn = session.connection()
    for device_id, first, last in conn.execute(_GAPS, bounds):
        known.add(device_id)
        lo, hi = spans[device_id]
        if first <= hi and (last is None or last >= lo):
            before[device_id].append((first, last))
    stale: list[dict[str, object]] = []
    fresh: list[dict[str, object]] = []
    for d, seqs in sorted(seqs_by_device.items()):
        gaps = before[d] if d in known else [(1, None)]
        after = remove_seqs(gaps, seqs)
        if after == sorted(gaps):
            continue
        stale += [{"device": d, "first": gap_first} for gap_first, _ in before[d]]
        fresh += [{"device_id": d, "first_seq": a, "last_seq": b} for a, b in after]
    if stale:
        conn.execute(_DELETE_GAP, stale)
    if fresh:
        session.execute(sa.insert(SeqGap), fresh)


# A unit whose seqs were scattered (or an attacker's) could have thousands of gaps: the count
# is always whole, the ranges listed stop here.
MAX_RANGES = 100


@dataclass(frozen=True)
class Missing:
    """A device's seqs never received, below the highest one received: how many, and the
    first MAX_RANGES ranges of them (first, last)."""

    count: int
    ranges: list[tuple[int, int]]


def missing_seqs(session: Session, device_ids: Sequence[str]) -> dict[str, Missing]:
    rows = session.exec(
        select(SeqGap)
        .where(col(SeqGap.device_id).in_(list(device_ids)))
        .where(col(SeqGap.last_seq).is_not(None))
        .order_by(col(SeqGap.device_id), col(SeqGap.first_seq))
    ).all()
    ranges: dict[str, list[tuple[int, int]]] = {d: [] for d in device_ids}
    for r in rows:
        assert r.last_seq is not None
        ranges[r.device_id].append((r.first_seq, r.last_seq))
    return {
        d: Missing(sum(last - first + 1 for first, last in found), found[:MAX_RANGES])
        for d, found in ranges.items()
    }
