"""Demo data: two one-stop offices, six officers with Vietnamese names, a month of ratings.

The offices are two wards of Thành phố Hồ Chí Minh as they are named since 1 July 2025 (the unit
ids keep their old codes, which tests and screenshots use). The officers are satisfied about as
often as in a well-run ward: five between 80 and 93 %, and one at 66 % (the issue's example of an
officer that the shipped policy must not fail for want of a clear gap).

`python -m devtools.dashboard_screenshot` and the dashboard tests seed the same rows, so the
picture in docs/ shows what the tests check. A fixed random seed makes every run identical for one
`now`.
"""

from __future__ import annotations

import random
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.ingest.store import IngestRules, store_rows
from server.storage.db import make_engine, migrate, session_scope
from server.storage.models import Assignment, Counter, Device, Officer, Rating, Unit
from server.storage.rows import RatingRow
from server.timeutil import VN_TZ, vn_day

UNITS = {
    "Q1-MOTCUA": "Bộ phận Một cửa Phường Sài Gòn",
    "BN-MOTCUA": "Bộ phận Một cửa Phường Bến Thành",
}


@dataclass(frozen=True)
class DemoOfficer:
    id: str
    name: str
    unit_id: str
    title: str
    weights: tuple[int, int, int, int]  # how often each vn4 level is pressed


OFFICERS = (
    DemoOfficer("CB-0001", "Nguyễn Thị Hương", "Q1-MOTCUA", "Chuyên viên", (2, 5, 40, 53)),
    DemoOfficer("CB-0002", "Trần Văn Minh", "Q1-MOTCUA", "Chuyên viên", (3, 12, 50, 35)),
    DemoOfficer("CB-0003", "Lê Thị Thu Hà", "Q1-MOTCUA", "Cán sự", (4, 16, 48, 32)),
    DemoOfficer("CB-0004", "Phạm Quốc Bảo", "BN-MOTCUA", "Chuyên viên", (2, 8, 46, 44)),
    DemoOfficer("CB-0005", "Hoàng Thị Mai", "BN-MOTCUA", "Công chức", (12, 22, 40, 26)),
    DemoOfficer("CB-0006", "Đặng Đức Thắng", "BN-MOTCUA", "Công chức", (3, 12, 45, 40)),
)

OPEN_MINUTES = (7 * 60 + 30, 17 * 60)  # counters open 07:30-17:00 Vietnam time
# What a citizen picks after a low score (server/storage/reasons.py), and how often.
REASON_WEIGHTS = {
    "wait_time": 40,
    "guidance": 20,
    "attitude": 15,
    "paperwork": 15,
    "late_result": 6,
    "facilities": 4,
}


def _counter_id(officer: DemoOfficer) -> str:
    return f"Q-{officer.id[-2:]}"


def _device_id(officer: DemoOfficer) -> str:
    return f"HL-{officer.id[-2:]}"


def seed_registry(session: Session, now: datetime) -> None:
    """Units, counters, officers at their counters, and one rating unit per counter."""
    session.add_all(
        Unit(id=unit_id, name=name, kind="ward", province="TP Hồ Chí Minh")
        for unit_id, name in UNITS.items()
    )
    session.flush()
    for i, officer in enumerate(OFFICERS, 1):
        session.add(Counter(id=_counter_id(officer), name=f"Quầy số {i}", unit_id=officer.unit_id))
        session.add(
            Officer(id=officer.id, name=officer.name, unit_id=officer.unit_id, title=officer.title)
        )
    session.flush()
    for i, officer in enumerate(OFFICERS):
        session.add(
            Assignment(
                officer_id=officer.id,
                counter_id=_counter_id(officer),
                start=now - timedelta(days=90),
            )
        )
        offline = i == 4
        session.add(
            Device(
                id=_device_id(officer),
                counter_id=_counter_id(officer),
                created_at=now - timedelta(days=90),
                firmware="1.2.0" if i else "1.1.3",
                state="offline" if offline else "online",
                last_seen_at=now
                - (timedelta(hours=2, minutes=14) if offline else timedelta(minutes=i + 1)),
                outbox=37 if offline else 0,
            )
        )
    session.add(
        Device(
            id="HL-99",
            counter_id=_counter_id(OFFICERS[0]),
            created_at=now - timedelta(days=120),
            revoked_at=now - timedelta(days=85),
            firmware="1.0.0",
            state="offline",
            last_seen_at=now - timedelta(days=85),
            outbox=0,
        )
    )
    session.flush()


def seed_ratings(
    session: Session, now: datetime, rules: IngestRules, days: int = 30, seed: int = 7
) -> int:
    """Ratings in opening hours on the `days` Vietnam days up to `now`; closed on Sundays."""
    rng = random.Random(seed)
    why = random.Random(seed + 1)  # its own stream, so the scores do not depend on the reasons
    today = vn_day(now)
    seqs = dict.fromkeys((o.id for o in OFFICERS), 0)
    rows: list[RatingRow] = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        if day.weekday() == 6:
            continue
        per_officer = (4, 10) if day.weekday() == 5 else (10, 24)
        for officer in OFFICERS:
            for pressed in sorted(_pressed_at(rng, day) for _ in range(rng.randint(*per_officer))):
                if pressed > now:
                    continue
                seqs[officer.id] += 1
                score = rng.choices((1, 2, 3, 4), weights=officer.weights)[0]
                rating_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                rating = _rating(rating_id, officer, pressed, seqs[officer.id], score)
                if score <= 2:
                    rating.reasons = why.choices(
                        list(REASON_WEIGHTS), list(REASON_WEIGHTS.values())
                    )[0]
                rows.append(RatingRow(**rating.model_dump()))
    return len(store_rows(session, rows, rules, now))


def _pressed_at(rng: random.Random, day: date) -> datetime:
    minute = rng.randint(*OPEN_MINUTES)
    local = datetime.combine(day, time(minute // 60, minute % 60, rng.randint(0, 59)), VN_TZ)
    return local.astimezone(UTC)


def _rating(
    rating_id: str, officer: DemoOfficer, pressed: datetime, seq: int, score: int
) -> Rating:
    return Rating(
        id=rating_id,
        device_id=_device_id(officer),
        seq=seq,
        pressed_at=pressed,
        device_pressed_at=pressed.astimezone(VN_TZ).isoformat(timespec="seconds"),
        received_at=pressed + timedelta(seconds=2),
        day=vn_day(pressed),
        scale="vn4",
        score=score,
        officer_id=officer.id,
        counter_id=_counter_id(officer),
        unit_id=officer.unit_id,
    )


def seed_demo(session: Session, now: datetime, rules: IngestRules, days: int = 30) -> int:
    """The registry and a month of ratings, committed; returns how many ratings were made."""
    seed_registry(session, now)
    made = seed_ratings(session, now, rules, days)
    session.commit()
    return made


@contextmanager
def demo_engine(now: datetime, days: int) -> Iterator[Engine]:
    """A throwaway SQLite database (and a throwaway chain key) holding the demo's `days` up to
    `now`, for the pictures and PDFs in docs/; deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="hailong-demo-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/demo.db")
        try:
            migrate(engine)
            with session_scope(engine) as session:
                seed_demo(session, now, IngestRules(chain_key=secrets.token_bytes(32)), days)
            yield engine
        finally:
            engine.dispose()
