"""Turning broker messages into stored ratings, exactly once, and acknowledging them after commit.

`store_batch` is the whole rule book applied to a batch inside one transaction: the contract and
the registry here, then the time and flags (server/ingest/dating.py) and the attribution
(server/ingest/attribution.py); it touches no network, so it is tested without a broker. What
fails the contract is kept as rejected. The Ack for a device is built from its result and sent
only once the transaction has committed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlmodel import Session

from hailong import protocol
from hailong.protocol import Ack, AckRejection, ContractError, Rating
from server.ingest import connections, ordering, rejected, signins
from server.ingest.attribution import Registry, attribute
from server.ingest.dating import Valid, date_presses, flag_late, flag_misuse, flag_order
from server.integrity.write import append
from server.policy import ChannelRules, MisuseRules
from server.reporting.tally import tally, tally_channels, tally_flags, tally_reasons
from server.storage import bulk, rollups
from server.storage.models import Device, RejectedMessage
from server.storage.models import Rating as StoredRating
from server.storage.reasons import reason_codes
from server.storage.rows import RatingRow

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
    (server/integrity/): no rating is stored without its link, so there is no key-less
    default. A server's are made from its settings and policy by server/runtime.py."""

    chain_key: bytes | None = None
    max_age: timedelta = timedelta(days=400)
    future_tolerance: timedelta = timedelta(minutes=5)
    # A rating whose time is unknown goes to the officer it names, if assigned to its counter
    # within this span before its receipt (docs/protocol.md, "Attribution").
    unknown_time_officer_span: timedelta = timedelta(days=7)
    misuse: MisuseRules = field(default_factory=MisuseRules)
    channels: ChannelRules = field(default_factory=ChannelRules)
    rejected_per_device: int = 1000
    signin: signins.SignInRules = field(default_factory=signins.SignInRules)


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
    configs_changed: bool = False  # a sign-in moved an officer: the units' Configs are refreshed

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
        self.configs_changed |= other.configs_changed


class _AckBuilder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.accepted: dict[str, list[str]] = defaultdict(list)
        self.duplicate: dict[str, list[str]] = defaultdict(list)
        self.rejected: dict[str, list[AckRejection]] = defaultdict(list)
        self.answered: set[str] = set()  # devices owed an Ack, empty if need be

    def answer(self, device_id: str, answer: signins.Answer) -> None:
        if answer.verdict == "rejected":
            self.rejected[device_id].append(AckRejection(id=answer.id, error=answer.reason))
        else:
            getattr(self, answer.verdict)[device_id].append(answer.id)

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


def printable(text: str, limit: int) -> str:
    """Text safe for any database column: no NUL, no lone surrogates, at most `limit` long."""
    text = text.replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def store_rows(
    session: Session, rows: Sequence[RatingRow], rules: IngestRules, now: datetime
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
    values = [row.as_dict() for row in rows]
    inserted = set(bulk.upsert(session, table, values, "nothing", returning="id"))
    new = [row for row in rows if row.id in inserted]
    append(session, rules.chain_key, new, now)
    received: dict[str, set[int]] = defaultdict(set)
    for row in new:
        if not row.device_id.startswith("~"):  # the server's own channels have no seq gaps
            received[row.device_id].add(row.seq)
    ordering.record_received(session, received)
    counted, apart = rules.misuse.count, rules.channels.officer_excluded
    rollups.add(session, rollups.RATINGS, tally(new, counted, apart))
    rollups.add(session, rollups.REASONS, tally_reasons(new, counted, apart))
    rollups.add(session, rollups.FLAGS, tally_flags(new, apart))
    rollups.add(session, rollups.CHANNELS, tally_channels(new, counted, apart))
    return inserted


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
    registry: Registry, device_id: str, msg: Incoming, received_at: datetime, acks: _AckBuilder
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
    claimed = rejected.claimed_id(msg.payload)
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
    registry = Registry(session, device_ids)
    valid: list[Valid] = []
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
            if kind == "signin":
                device = registry.devices.get(device_id)
                answer = signins.handle(
                    session, device, device_id, msg.payload, received_at, rules.signin
                )
                acks.answer(device_id, answer)
                result.configs_changed |= answer.changed
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
            valid.append(Valid(device_id, rating, device, received_at, msg.live_since))
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
        date_presses(session, valid, rules.max_age, rules.future_tolerance)
        flag_order(session, valid)
        flag_late(session, valid)
        registry.load_assignments(valid, rules.unknown_time_officer_span)
        flag_misuse(session, valid, rules.misuse)
    rows = [attribute(v, registry, rules.unknown_time_officer_span) for v in valid]
    inserted = store_rows(session, rows, rules, now)
    for row in rows:
        if row.id in inserted:
            acks.accepted[row.device_id].append(row.id)
        else:
            acks.duplicate[row.device_id].append(row.id)
            result.duplicates += 1
    result.stored = len(inserted)
    result.acks = acks.build()
    return result
