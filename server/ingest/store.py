"""Turning broker messages into stored ratings, exactly once, and acknowledging them after commit.

`store_batch` is the whole rule book (contract, registry, time, attribution) applied to a batch
inside one transaction; it touches no network, so it is tested without a broker. The Ack for a
device is built from its result and sent only once the transaction has committed.
"""

from __future__ import annotations

import json
import logging
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlmodel import Session, and_, col, or_, select

from hailong import protocol
from hailong.protocol import Ack, AckRejection, ContractError, Rating
from server.ingest import connections, ordering, rejected
from server.ingest.press_time import Dated, date_press
from server.integrity import chain
from server.policy import MisuseRules, Press, lookback, misuse_flags
from server.reporting import rollups
from server.storage import bulk
from server.storage.models import Assignment, Counter, Device, RejectedMessage
from server.storage.models import Rating as StoredRating
from server.storage.reasons import reason_codes
from server.timeutil import vn_day

log = logging.getLogger("hailong.ingest")


@dataclass(frozen=True)
class Incoming:
    """One message as the server's MQTT client got it. `received_at`: when (None: the batch's
    time); `live_since`: since when the server's subscription had been live then (None: the
    message may be backlog, see server/ingest/connections.py); `retained`: a retained copy."""

    topic: str
    payload: bytes
    received_at: datetime | None = None
    live_since: datetime | None = None
    retained: bool = False

    @property
    def live(self) -> bool:
        return self.live_since is not None and not self.retained


@dataclass(frozen=True)
class IngestRules:
    """The server's rules for a rating, and the key of the ratings' hash chain
    (server/integrity/chain.py): no rating is stored without its link, so there is no key-less
    default. A server's are made from its settings and policy by server/runtime.py."""

    chain_key: bytes | None = None
    max_age: timedelta = timedelta(days=400)
    future_tolerance: timedelta = timedelta(minutes=5)
    # A rating whose time is unknown goes to the officer it names, if assigned to its counter
    # within this span before its receipt (docs/protocol.md, "Attribution").
    unknown_time_officer_span: timedelta = timedelta(days=7)
    misuse: MisuseRules = field(default_factory=MisuseRules)
    rejected_per_device: int = 1000


# Acks are split so that none comes near the contract's 16 KiB payload limit: Mosquitto refuses a
# bigger publish and disconnects the server. Rejections carry text, so size counts, not entries.
ACK_IDS_PER_MESSAGE = 200
ACK_BYTES = 12 * 1024
ACK_ERROR_CHARS = 300
MAX_SEQ = 2**31 - 1  # the database column is a 32-bit INTEGER; a unit makes a few per minute


@dataclass
class BatchResult:
    acks: dict[str, list[Ack]] = field(default_factory=dict)
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    statuses: int = 0

    def merge(self, other: BatchResult) -> None:
        """Take in the Acks and counts of another part of the same work."""
        for device_id, acks in other.acks.items():
            self.acks.setdefault(device_id, []).extend(acks)
        self.add_counts(other)

    def add_counts(self, other: BatchResult) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.statuses += other.statuses


class _AckBuilder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.accepted: dict[str, list[str]] = defaultdict(list)
        self.duplicate: dict[str, list[str]] = defaultdict(list)
        self.rejected: dict[str, list[AckRejection]] = defaultdict(list)
        self.answered: set[str] = set()  # devices owed an Ack, empty if need be

    def build(self) -> dict[str, list[Ack]]:
        """Acks per device, split so that no message exceeds the payload limit; each carries
        the server's time (the sender stamps it again as it sends)."""
        devices = set(self.accepted) | set(self.duplicate) | set(self.rejected) | self.answered
        return {d: self._split(d) for d in sorted(devices)}

    def _split(self, device_id: str) -> list[Ack]:
        named: list[tuple[str, str | AckRejection]] = [
            *(("accepted", i) for i in self.accepted[device_id]),
            *(("duplicate", i) for i in self.duplicate[device_id]),
            *(("rejected", r) for r in self.rejected[device_id]),
        ]
        parts: list[list[tuple[str, str | AckRejection]]] = [[]]
        size = 0
        for entry in named:
            cost = _ack_entry_bytes(entry[1])
            if parts[-1] and (len(parts[-1]) >= ACK_IDS_PER_MESSAGE or size + cost > ACK_BYTES):
                parts.append([])
                size = 0
            parts[-1].append(entry)
            size += cost
        return [
            Ack(
                accepted=[str(i) for kind, i in part if kind == "accepted"],
                duplicate=[str(i) for kind, i in part if kind == "duplicate"],
                rejected=[r for kind, r in part if isinstance(r, AckRejection)],
                server_time=self.now,
            )
            for part in parts
            if part or parts == [[]]
        ]


def _ack_entry_bytes(entry: str | AckRejection) -> int:
    """An upper bound of what one entry adds to the Ack's JSON (escapes can double a byte)."""
    if isinstance(entry, AckRejection):
        return 40 + 2 * len(entry.id.encode()) + 2 * len(entry.error.encode())
    return 4 + 2 * len(entry.encode())


def _claimed_id(payload: bytes) -> str | None:
    """The id of a rejected rating, when one can be read, so the device can stop resending it.
    Only a UUID is claimed: anything else could not be a rating id the unit holds."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        uuid.UUID(value)
    except ValueError:
        return None
    return value


def printable(text: str, limit: int) -> str:
    """Text safe for any database column: no NUL, no lone surrogates, at most `limit` long."""
    text = text.replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def store_rows(
    session: Session, rows: Sequence[Mapping[str, Any]], rules: IngestRules, now: datetime
) -> set[str]:
    """Insert the rating rows whose id is not stored yet, link exactly those into their
    devices' hash chains and count them into the rollups, in the caller's transaction; returns
    the ids this call inserted.

    The one way ratings enter the database (ingest, demo seeds, tests), so the rollups and the
    chain always agree with the ratings.

    INSERT … ON CONFLICT DO NOTHING RETURNING id: a rating that another ingest process stored a
    moment ago (a shared-subscription redelivery) is neither doubled nor counted twice in the
    rollups, because only the rows this statement really inserted come back.
    """
    if rules.chain_key is None:
        raise ValueError("no chain key: ratings cannot be stored without their hash chain")
    if not rows:
        return set()
    table = StoredRating.__table__  # type: ignore[attr-defined]
    inserted = set(bulk.upsert(session, table, rows, "nothing", returning="id"))
    new = [r for r in rows if r["id"] in inserted]
    chain.append(session, rules.chain_key, new, now)
    received: dict[str, set[int]] = defaultdict(set)
    for row in new:
        received[str(row["device_id"])].add(int(row["seq"]))
    ordering.record_received(session, received)
    counted = rules.misuse.count
    rollups.add(session, rollups.RATINGS, rollups.tally(new, counted))
    rollups.add(session, rollups.REASONS, rollups.tally_reasons(new, counted))
    rollups.add(session, rollups.FLAGS, rollups.tally_flags(new))
    return inserted


class _Registry:
    """The registry rows one batch needs, read in two queries per batch: fresh enough that a
    unit registered or a shift changed by another server process a moment ago is seen."""

    def __init__(self, session: Session, device_ids: set[str]) -> None:
        self.session = session
        found = session.exec(
            select(Device, Counter.unit_id)
            .join(Counter, col(Counter.id) == col(Device.counter_id))
            .where(col(Device.id).in_(device_ids))
        ).all()
        self.devices = {d.id: d for d, _ in found}
        self._units = {d.counter_id: unit_id for d, unit_id in found}
        self._assignments: dict[str, list[Assignment]] = defaultdict(list)

    def load_assignments(self, first: datetime, last: datetime) -> None:
        self._assignments.update(shifts_between(self.session, self._units, first, last))

    def assignments(self, counter_id: str) -> list[Assignment]:
        return self._assignments.get(counter_id, [])

    def unit_of(self, counter_id: str) -> str | None:
        return self._units.get(counter_id) or None


def shifts_between(
    session: Session, counter_ids: Iterable[str], first: datetime, last: datetime
) -> dict[str, list[Assignment]]:
    """The counters' shifts that overlap first..last: a counter gathers thousands of shifts
    over the years, and every batch would otherwise read them all."""
    ids = list(counter_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(Assignment)
        .where(col(Assignment.counter_id).in_(ids))
        .where(col(Assignment.start) <= last)
        .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > first))
    ).all()
    found: dict[str, list[Assignment]] = defaultdict(list)
    for a in rows:
        found[a.counter_id].append(a)
    return dict(found)


def officer_at(assignments: Sequence[Assignment], moment: datetime) -> str | None:
    """The officer assigned at `moment` (start inclusive, end exclusive), if any."""
    for a in assignments:
        if a.start <= moment and (a.end is None or moment < a.end):
            return a.officer_id
    return None


def officer_named(
    assignments: Sequence[Assignment], officer_id: str | None, first: datetime, last: datetime
) -> str | None:
    """`officer_id` if that officer was assigned at some moment of first..last, else None."""
    for a in assignments:
        if a.officer_id == officer_id and a.start <= last and (a.end is None or a.end > first):
            return officer_id
    return None


@dataclass
class _Valid:
    """A rating that passed the contract, on its way to a row: its time and flags so far."""

    device_id: str
    rating: Rating
    device: Device
    received_at: datetime
    live_since: datetime | None
    dated: Dated = field(init=False)
    pressed_at: datetime = field(init=False)  # dated.pressed_at, read a dozen times a rating
    flags: list[str] = field(default_factory=list)


def _date(session: Session, valid: Sequence[_Valid], rules: IngestRules) -> None:
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
            rules.max_age,
            rules.future_tolerance,
        )
        v.pressed_at = v.dated.pressed_at
        v.flags.extend(v.dated.flags)


def _flag_order(session: Session, valid: Sequence[_Valid]) -> None:
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


def _flag_late(session: Session, valid: Sequence[_Valid]) -> None:
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
    by_device: dict[str, list[_Valid]] = defaultdict(list)
    for v in late:
        by_device[v.device_id].append(v)
    for device_id, found in sorted(by_device.items()):
        first = min(v.pressed_at for v in found)
        last = max(v.received_at for v in found)
        events = connections.history(session, device_id, first, last)
        for v in found:
            if connections.late_while_online(v.pressed_at, v.received_at, events, v.live_since):
                v.flags.append(connections.LATE_WHILE_ONLINE)


def _row(v: _Valid, registry: _Registry, rules: IngestRules) -> dict[str, object]:
    """The attribution rule: the counter the device is registered at, and the officer assigned
    there at the press; for a rating whose time is unknown, the officer it names if assigned
    there in the span before its receipt, else nobody."""
    rating, flags, pressed_at = v.rating, v.flags, v.pressed_at
    counter_id = v.device.counter_id
    shifts = registry.assignments(counter_id)
    if v.dated.known:
        officer_id = officer_at(shifts, pressed_at)
    else:
        since = v.received_at - rules.unknown_time_officer_span
        officer_id = officer_named(shifts, rating.officer_id, since, v.received_at)
    if officer_id is None:
        flags.append("no_officer")
    if rating.counter_id is not None and rating.counter_id != counter_id:
        flags.append("counter_mismatch")
    if rating.officer_id is not None and rating.officer_id != officer_id:
        flags.append("officer_mismatch")
    return {
        "id": rating.id,
        "device_id": v.device_id,
        "seq": rating.seq,
        "pressed_at": pressed_at,
        "device_pressed_at": rating.pressed_at.isoformat(),
        "received_at": v.received_at,
        "day": vn_day(pressed_at),
        "scale": rating.scale,
        "score": rating.score,
        "officer_id": officer_id,
        "counter_id": counter_id,
        "unit_id": registry.unit_of(counter_id),
        "reported_officer_id": rating.officer_id,
        "reported_counter_id": rating.counter_id,
        "ticket": rating.ticket,
        "reasons": ",".join(rating.reasons),
        "comment": rating.comment,
        "input": rating.input,
        "clock_synced": rating.clock_synced,
        "flags": ",".join(flags),
        "boot_id": rating.boot_id,
        "mono_ms": rating.mono_ms,
    }


def _flag_misuse(session: Session, valid: Sequence[_Valid], rules: MisuseRules) -> None:
    """Add the policy's misuse flags (cooldown, burst, outside service) to each new rating,
    judged against its device's earlier presses, stored or in this batch; the gap between two
    presses of one boot is measured by their mono_ms (server/policy.py `Press`). Presses are
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
        stored, key=lambda r: (r[0], _aware(r[2]), -1 if r[4] is None else r[4])
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


def _check_storable(name: str, text: str | None) -> None:
    """Free text the contract allows but no database column holds: NUL, lone surrogates."""
    if text is None:
        return
    if "\x00" in text:
        raise ContractError(name, "contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractError(name, "is not valid Unicode (a lone surrogate)") from None


def _check_registry(rating: Rating, device: Device | None) -> None:
    """Never the time: a rating with any time is stored, and the time rule dates it."""
    if device is None:
        raise ContractError("device_id", f"unknown device {rating.device_id!r}")
    if device.revoked_at is not None:
        raise ContractError("device_id", f"device {rating.device_id!r} is revoked")
    if rating.seq > MAX_SEQ:
        raise ContractError("seq", f"{rating.seq} is beyond {MAX_SEQ}, which the server stores")
    for name in ("ticket", "comment"):
        _check_storable(name, getattr(rating, name))
    unknown = [code for code in rating.reasons if code not in reason_codes()]
    if unknown:
        raise ContractError("reasons", f"unknown reason code(s) {', '.join(unknown)}")


def _apply_status(
    registry: _Registry, device_id: str, msg: Incoming, received_at: datetime, acks: _AckBuilder
) -> None:
    """A live online Status is answered with an Ack, empty if need be: its server_time is how a
    unit without NTP learns the time."""
    status = protocol.decode_status(msg.payload)
    device = registry.devices.get(device_id)
    if device is None:
        raise ContractError("topic", f"status from unknown device {device_id!r}")
    connections.record_status(registry.session, device, status, received_at, msg.live)
    device.state = status.state
    device.firmware = status.firmware
    device.outbox = status.outbox
    device.ignored_presses = status.ignored_presses
    device.last_seen_at = received_at
    registry.session.add(device)
    if msg.live and status.state == connections.ONLINE:
        acks.answered.add(device_id)


def _reject(
    session: Session,
    msg: Incoming,
    device_id: str | None,
    exc: ContractError,
    now: datetime,
    acks: _AckBuilder,
) -> None:
    claimed = _claimed_id(msg.payload)
    session.add(
        RejectedMessage(
            received_at=now,
            device_id=device_id or "",
            topic=printable(msg.topic, 300),
            payload=msg.payload[: protocol.MAX_PAYLOAD_BYTES],
            rating_id=claimed,
            field=exc.field,
            reason=printable(str(exc), 1000),
        )
    )
    if device_id is not None and claimed is not None:
        error = printable(str(exc), ACK_ERROR_CHARS)
        acks.rejected[device_id].append(AckRejection(id=claimed, error=error))


DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError)


def store_separately(
    new_session: Callable[[], Session],
    batch: Sequence[Incoming],
    now: datetime,
    rules: IngestRules | None = None,
) -> BatchResult:
    """When a batch fails for a reason other than the database being down, each message is
    stored in its own transaction, and one the database refuses (a value it cannot hold) is
    kept as rejected: one odd rating must not hold up every unit's ratings forever.
    Errors of a database that is down are raised, for the caller to pause and retry."""
    total = BatchResult()
    for msg in batch:
        with new_session() as session:
            try:
                result = store_batch(session, [msg], now, rules)
                session.commit()
            except DATABASE_DOWN:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever it is, the message is kept
                session.rollback()
                result = reject_unstorable(session, msg, exc, now, rules)
                session.commit()
        total.merge(result)
    return total


def reject_unstorable(
    session: Session, msg: Incoming, exc: Exception, now: datetime, rules: IngestRules | None
) -> BatchResult:
    """Keep a message the database refused to store as rejected, in the caller's transaction."""
    log.warning("the database refused a message on %s: %r", msg.topic[:300], exc)
    acks = _AckBuilder(now)
    device_id = device_of(msg.topic)
    reason = ContractError(None, f"the database could not store it ({exc!r})")
    _reject(session, msg, device_id, reason, now, acks)
    quota = (rules or IngestRules()).rejected_per_device
    rejected.trim_to_quota(session, [device_id or ""], quota)
    return BatchResult(acks=acks.build(), rejected=1)


def device_of(topic: str) -> str | None:
    try:
        return protocol.parse_topic(topic)[0]
    except ContractError:
        return None


def store_batch(
    session: Session, batch: Sequence[Incoming], now: datetime, rules: IngestRules | None = None
) -> BatchResult:
    """Apply the contract's server rules to a batch; the caller commits, then sends `acks`."""
    rules = rules or IngestRules()
    result = BatchResult()
    acks = _AckBuilder(now)
    device_ids = {d for d in map(device_of, (m.topic for m in batch)) if d is not None}
    registry = _Registry(session, device_ids)
    valid: list[_Valid] = []
    seen: set[str] = set()
    refused_from: set[str] = set()
    for msg in batch:
        device_id: str | None = None
        received_at = msg.received_at or now
        try:
            device_id, kind = protocol.parse_topic(msg.topic)
            if kind == "status":
                _apply_status(registry, device_id, msg, received_at, acks)
                result.statuses += 1
                continue
            if kind != "ratings":
                raise ContractError("topic", f"the server does not accept {kind!r} messages")
            rating = protocol.decode_rating(msg.topic, msg.payload)
            device = registry.devices.get(device_id)
            _check_registry(rating, device)
            assert device is not None
            if rating.id in seen:
                acks.duplicate[device_id].append(rating.id)
                result.duplicates += 1
                continue
            seen.add(rating.id)
            valid.append(_Valid(device_id, rating, device, received_at, msg.live_since))
        except (ContractError, ValueError, RecursionError) as exc:
            # ValueError/RecursionError: a payload the rules did not foresee. It is kept with
            # its bytes like any rejection, rather than stopping ingest for every unit.
            if not isinstance(exc, ContractError):
                log.exception("unforeseen payload on %s", msg.topic[:300])
                exc = ContractError(None, f"server could not read it: {exc}")
            _reject(session, msg, device_id, exc, now, acks)
            refused_from.add(device_id or "")
            result.rejected += 1
    rejected.trim_to_quota(session, refused_from, rules.rejected_per_device)
    if valid:
        _date(session, valid, rules)
        _flag_order(session, valid)
        _flag_late(session, valid)
        moments = [v.pressed_at for v in valid]
        unknown = [v.received_at for v in valid if not v.dated.known]
        moments += [*unknown, *(at - rules.unknown_time_officer_span for at in unknown)]
        registry.load_assignments(min(moments), max(moments))
        _flag_misuse(session, valid, rules.misuse)
    candidates = [(v.device_id, _row(v, registry, rules)) for v in valid]
    inserted = store_rows(session, [row for _, row in candidates], rules, now)
    for device_id, row in candidates:
        rid = str(row["id"])
        if rid in inserted:
            acks.accepted[device_id].append(rid)
        else:
            acks.duplicate[device_id].append(rid)
            result.duplicates += 1
    result.stored = len(inserted)
    result.acks = acks.build()
    return result
