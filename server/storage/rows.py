"""A stored rating as one typed row: what attribution makes and the chain, the rollups and the
bulk insert read.

Its fields are the columns of the `rating` table (server/storage/models.py), in their order,
typed; a test fails when the two differ, and everything else that needs the columns (the
chain's encoding, the bulk insert, the benches) takes them from `COLUMNS`. A frozen dataclass
with slots rather than the model: the ingest makes one per rating, and a plain row costs a
fraction of a SQLModel instance.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any


@dataclass(frozen=True, slots=True)
class RatingRow:
    """Every column of one stored rating, as the server decided them."""

    id: str
    device_id: str
    seq: int
    pressed_at: datetime
    device_pressed_at: str
    received_at: datetime
    day: date
    scale: str
    score: int
    officer_id: str | None
    counter_id: str | None
    unit_id: str | None
    reported_officer_id: str | None
    reported_counter_id: str | None
    ticket: str | None
    reasons: str
    comment: str | None
    input: str
    clock_synced: bool
    flags: str
    boot_id: str | None
    mono_ms: int | None

    def as_dict(self) -> dict[str, Any]:
        """Column → value, as a many-row INSERT takes it."""
        return dict(zip(COLUMNS, _values(self), strict=True))


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RatingRow))
_values = attrgetter(*COLUMNS)
