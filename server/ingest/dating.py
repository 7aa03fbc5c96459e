"""When each rating was pressed, and what its flags say about it, before it is attributed.

A rating that passed the contract becomes a `Valid`: the time rule dates it
(server/ingest/press_time.py), then its flags are added, each rule judging it against the
device's stored ratings and those before it in the batch: order (server/ingest/ordering.py),
lateness while online (server/ingest/connections.py) and the policy's misuse rules
(server/policy/).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, and_, col, or_

from hailong.protocol import Rating
from server.ingest import connections, ordering
from server.ingest.press_time import Dated, date_press
from server.policy import MisuseRules, Press, lookback, misuse_flags
from server.storage.models import Device
from server.storage.models import Rating as StoredRating


@dataclass
class Valid:
    """A rating that passed the contract, on its way to a row: its time and flags so far."""

    device_id: str
    rating: Rating
    device: Device
    received_at: datetime
    live_since: datetime | None
    dated: Dated = field(init=False)
    pressed_at: datetime = field(init=False)  # dated.pressed_at, read a dozen times a rating
    flags: list[str] = field(default_factory=list)


def date_presses(
    session: Session, valid: Sequence[Valid], max_age: timedelta, future_tolerance: timedelta
) -> None:
    """The time rule (server/ingest/press_time.py), with the boot marks of the batch's presses."""
    keys = {
        (v.device_id, v.rating.boot_id)
        for v in valid
        if v.rating.boot_id is not None and v.rating.mono_ms is not None
    }
    marks = connections.boot_marks(session, keys)
    for v in valid:
        r = v.rating
        mark = marks.get((v.device_id, r.boot_id)) if r.boot_id is not None else None
        v.dated = date_press(
            r.pressed_at,
            r.clock_synced,
            r.mono_ms,
            mark,
            v.received_at,
            max_age,
            future_tolerance,
        )
        v.pressed_at = v.dated.pressed_at
        v.flags.extend(v.dated.flags)


def flag_order(session: Session, valid: Sequence[Valid]) -> None:
    """`seq_reused` and `out_of_order` (server/ingest/ordering.py), judging each rating in arrival
    order against the stored ones and those before it in the batch, as if each came alone."""
    spans: dict[str, tuple[int, int]] = {}
    for v in valid:
        lo, hi = spans.get(v.device_id, (v.rating.seq, v.rating.seq))
        spans[v.device_id] = (min(lo, v.rating.seq), max(hi, v.rating.seq))
    orders = ordering.load_order(session, spans)
    for v in valid:
        order = orders[v.device_id]
        v.flags += order.flags(v.rating.seq, v.rating.id, v.pressed_at, v.dated.known)
        order.add(v.rating.seq, v.rating.id, v.pressed_at, ordering.trusted(v.flags))


def flag_late(session: Session, valid: Sequence[Valid]) -> None:
    """`late_while_online` (server/ingest/connections.py); the history is read only for ratings that
    came late while the server was live, which an honest unit's never do."""
    late = [
        v
        for v in valid
        if v.dated.known
        and v.live_since is not None
        and v.live_since <= v.pressed_at
        and v.received_at - v.pressed_at > connections.LATE_AFTER
    ]
    by_device: dict[str, list[Valid]] = defaultdict(list)
    for v in late:
        by_device[v.device_id].append(v)
    for device_id, found in sorted(by_device.items()):
        first = min(v.pressed_at for v in found)
        last = max(v.received_at for v in found)
        events = connections.history(session, device_id, first, last)
        for v in found:
            if connections.late_while_online(v.pressed_at, v.received_at, events, v.live_since):
                v.flags.append(connections.LATE_WHILE_ONLINE)


def flag_misuse(session: Session, valid: Sequence[Valid], rules: MisuseRules) -> None:
    """Add the policy's misuse flags (cooldown, burst, outside service) to each new rating,
    judged against its device's earlier presses, stored or in this batch; the gap between two
    presses of one boot is measured by their mono_ms (server/policy/ `Press`). Presses are
    keyed by rating id, so a rating sent again is never counted twice towards a burst."""
    back = lookback(rules)
    spans: dict[str, tuple[datetime, datetime]] = {}
    for v in valid:
        first, last = spans.get(v.device_id, (v.pressed_at, v.pressed_at))
        spans[v.device_id] = (min(first, v.pressed_at), max(last, v.pressed_at))
    # One window per device: a batch mixing a month-old backlog with live presses must not
    # read every device's month.
    windows = [
        and_(
            col(StoredRating.device_id) == device_id,
            col(StoredRating.pressed_at) >= first - back,
            col(StoredRating.pressed_at) <= last,
        )
        for device_id, (first, last) in sorted(spans.items())
    ]
    stored = session.execute(
        sa.select(
            col(StoredRating.device_id),
            col(StoredRating.id),
            col(StoredRating.pressed_at),
            col(StoredRating.boot_id),
            col(StoredRating.mono_ms),
        ).where(or_(*windows))
    ).all()
    # Each device's presses in (time, mono_ms) order: presses dated by their receipt share one
    # time, and their mono_ms then says which came last.
    keys: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    presses: dict[str, list[Press]] = defaultdict(list)  # the presses, in the same order
    seen: dict[str, set[str]] = defaultdict(set)
    for device_id, rating_id, at, boot_id, mono_ms in sorted(
        stored,
        key=lambda r: (r.device_id, _aware(r.pressed_at), -1 if r.mono_ms is None else r.mono_ms),
    ):
        keys[device_id].append((_aware(at), -1 if mono_ms is None else mono_ms))
        presses[device_id].append(Press(_aware(at), boot_id, mono_ms))
        seen[device_id].add(rating_id)
    # Only the last few presses before each one decide its flags; so a device that floods the
    # server costs it a bisection per rating, not a scan of its flood.
    keep = max(1, rules.burst_count - 1)
    for v in sorted(valid, key=lambda v: (v.device_id, v.pressed_at, v.rating.seq)):
        if v.rating.id in seen[v.device_id]:
            continue  # stored already: this copy is a duplicate and will not be stored again
        known, pressed = keys[v.device_id], presses[v.device_id]
        mono = v.rating.mono_ms
        key = (v.pressed_at, -1 if mono is None else mono)
        press = Press(v.pressed_at, v.rating.boot_id, mono)
        low = bisect_left(known, (v.pressed_at - back, -1))
        high = bisect_right(known, key)
        earlier = pressed[max(low, high - keep) : high]
        v.flags += misuse_flags(earlier, press, v.rating.ticket is not None, rules)
        known.insert(high, key)
        pressed.insert(high, press)
        seen[v.device_id].add(v.rating.id)


def _aware(moment: datetime) -> datetime:
    """Stored times come back naive UTC from SQLite; the batch's are aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
