"""Attribution: the counter, unit and officer each rating goes to, and the row it is stored as.

A rating goes to the counter its device is registered at, and to the officer on duty there at its
press, by one-off assignment or rota (server/registry/duty.py); a rating whose time is unknown
goes to the officer it names, if on duty there in the span before its receipt, else to nobody
(docs/protocol.md, "Attribution"). Disagreements with what the unit reported are flagged, never
corrected away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from server.ingest.dating import Valid
from server.registry.duty import officer_at, officer_named, shifts_between
from server.registry.roster import Shift
from server.storage.models import Counter, Device
from server.storage.rows import RatingRow
from server.timeutil import vn_day


class Registry:
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
        self._assignments: dict[str, list[Shift]] = defaultdict(list)

    def load_assignments(self, valid: Sequence[Valid], unknown_time_span: timedelta) -> None:
        """The shifts of the batch's counters over every moment `attribute` will look at."""
        moments = [v.pressed_at for v in valid]
        unknown = [v.received_at for v in valid if not v.dated.known]
        moments += [*unknown, *(at - unknown_time_span for at in unknown)]
        found = shifts_between(self.session, self._units, min(moments), max(moments))
        self._assignments.update(found)

    def assignments(self, counter_id: str) -> list[Shift]:
        return self._assignments.get(counter_id, [])

    def unit_of(self, counter_id: str) -> str | None:
        return self._units.get(counter_id) or None


def attribute(v: Valid, registry: Registry, unknown_time_span: timedelta) -> RatingRow:
    """The row to store for a dated and flagged rating, with the attribution's own flags."""
    rating, flags, pressed_at = v.rating, v.flags, v.pressed_at
    counter_id = v.device.counter_id
    shifts = registry.assignments(counter_id)
    if v.dated.known:
        officer_id = officer_at(shifts, pressed_at)
    else:
        since = v.received_at - unknown_time_span
        officer_id = officer_named(shifts, rating.officer_id, since, v.received_at)
    if officer_id is None:
        flags.append("no_officer")
    if rating.counter_id is not None and rating.counter_id != counter_id:
        flags.append("counter_mismatch")
    if rating.officer_id is not None and rating.officer_id != officer_id:
        flags.append("officer_mismatch")
    return RatingRow(
        id=rating.id,
        device_id=v.device_id,
        seq=rating.seq,
        pressed_at=pressed_at,
        device_pressed_at=rating.pressed_at.isoformat(),
        received_at=v.received_at,
        day=vn_day(pressed_at),
        scale=rating.scale,
        score=rating.score,
        officer_id=officer_id,
        counter_id=counter_id,
        unit_id=registry.unit_of(counter_id),
        reported_officer_id=rating.officer_id,
        reported_counter_id=rating.counter_id,
        ticket=rating.ticket,
        reasons=",".join(rating.reasons),
        comment=rating.comment,
        input=rating.input,
        clock_synced=rating.clock_synced,
        flags=",".join(flags),
        boot_id=rating.boot_id,
        mono_ms=rating.mono_ms,
    )
