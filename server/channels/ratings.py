"""Ratings the server takes itself (a citizen's phone, an entered paper form), stored exactly as
the ingest stores a unit's: one row each, linked into a hash chain and counted in the rollups in
the caller's transaction, by the ingest's `store_rows`.

They have no unit and no device: each channel's ratings are chained under a pseudo device
(`~web`, `~paper`, outside the contract's id alphabet so no unit can take the name), numbered in
the order stored. The caller decides attribution (a ticket's officer, the officer written on a
form, the officer on duty) and the flags; this module only writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, select

from server.ingest.store import IngestRules, store_rows
from server.registry.duty import officer_at, shifts_between
from server.storage.channels import PAPER_DEVICE, WEB_DEVICE
from server.storage.models import Rating
from server.storage.rows import RatingRow
from server.timeutil import vn_day

Channel = Literal["web", "paper"]
DEVICE_OF: dict[str, str] = {"web": WEB_DEVICE, "paper": PAPER_DEVICE}


@dataclass(frozen=True)
class ChannelRating:
    """One rating as a server-side channel decided it. `rated_at`: when the citizen rated (a
    phone: the submission; a form: its date); `officer_id`: whom it is attributed to, None for
    nobody; `reported_officer_id`: whom the citizen's link or form named, if anyone."""

    id: str
    input: Channel
    unit_id: str
    counter_id: str | None
    rated_at: datetime
    scale: str
    score: int
    officer_id: str | None = None
    reported_officer_id: str | None = None
    ticket: str | None = None
    reasons: tuple[str, ...] = ()
    comment: str | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)


def officer_on_duty(session: Session, counter_id: str, moment: datetime) -> str | None:
    """The officer the roster puts at `counter_id` at `moment` (the rule a unit's rating uses)."""
    shifts = shifts_between(session, [counter_id], moment, moment).get(counter_id, [])
    return officer_at(shifts, moment)


def _next_seq(session: Session, device_id: str) -> int:
    last = session.exec(select(func.max(Rating.seq)).where(Rating.device_id == device_id)).one()
    return int(last or 0) + 1


def store_channel_ratings(
    session: Session, rules: IngestRules, ratings: Sequence[ChannelRating], now: datetime
) -> set[str]:
    """Store the ratings not stored yet (by id) in the caller's transaction; returns the ids
    inserted. The caller commits, and audits what it entered."""
    rows: list[RatingRow] = []
    seqs: dict[str, int] = {}
    for r in ratings:
        device = DEVICE_OF[r.input]
        if device not in seqs:
            seqs[device] = _next_seq(session, device)
        seq = seqs[device]
        seqs[device] += 1
        rated_at = r.rated_at.astimezone(UTC)
        rows.append(
            RatingRow(
                id=r.id,
                device_id=device,
                seq=seq,
                pressed_at=rated_at,
                device_pressed_at=r.rated_at.isoformat(),
                received_at=now,
                day=vn_day(rated_at),
                scale=r.scale,
                score=r.score,
                officer_id=r.officer_id,
                counter_id=r.counter_id,
                unit_id=r.unit_id,
                reported_officer_id=r.reported_officer_id,
                reported_counter_id=r.counter_id,
                ticket=r.ticket,
                reasons=",".join(r.reasons),
                comment=r.comment,
                input=r.input,
                clock_synced=True,
                flags=",".join(sorted(set(r.flags))),
                boot_id=None,
                mono_ms=None,
            )
        )
    return store_rows(session, rows, rules, now)
