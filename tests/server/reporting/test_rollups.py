"""Rollups: the counts reports read always equal a GROUP BY over the ratings, on both databases."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from server.ingest.store import Incoming, store_batch
from server.reporting import reading, recount, tally
from server.storage import rollups
from server.storage.db import alembic_config, make_engine, migrate
from server.storage.models import Assignment, Device, Officer, Rating, Unit
from server.storage.models import Counter as CounterRow
from server.timeutil import VN_TZ, vn_day
from tests.server.factories import RULES, rating_payload, stored_row

COUNTED = RULES.misuse.count

# pure ----------------------------------------------------------------------------------------


def _covered(parts: list[reading.Part]) -> list[date]:
    days: list[date] = []
    for part in parts:
        first = part.first
        while first <= part.last:
            if part.level == "day":
                last = first
            elif part.level == "month":
                last = rollups.month_end(first)
            else:
                last = date(first.year, 12, 31)
            days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
            first = last + timedelta(days=1)
    return days


def test_split_range_covers_every_day_exactly_once_in_order() -> None:
    rng = random.Random(4)
    base = date(2027, 11, 1)
    cases = [(date(2027, 1, 1), date(2027, 12, 31)), (date(2028, 2, 1), date(2028, 2, 29))]
    cases += [(date(2027, 3, 5), date(2027, 3, 4)), (date(2027, 3, 31), date(2027, 4, 1))]
    cases += [(date(2024, 12, 31), date(2027, 1, 1)), (date(2025, 1, 1), date(2025, 12, 30))]
    for _ in range(3000):
        start = base + timedelta(days=rng.randint(-900, 400))
        cases.append((start, start + timedelta(days=rng.randint(0, 1200))))
    for start, end in cases:
        parts = reading.split_range(start, end)
        expected = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        assert _covered(parts) == expected, (start, end, parts)
        for part in parts:
            if part.level == "year":
                assert (part.first.month, part.first.day) == (1, 1) == (part.last.month, 1)
            if part.level == "month":
                assert part.first.day == 1 and part.last.day == 1
        assert sum(p.level == "day" for p in parts) <= 2
        assert sum(p.level == "year" for p in parts) <= 1


def test_years_then_months_then_days() -> None:
    P = reading.Part
    assert reading.split_range(date(2026, 1, 1), date(2026, 12, 31)) == [
        P("year", date(2026, 1, 1), date(2026, 1, 1))
    ]
    assert reading.split_range(date(2024, 11, 15), date(2027, 2, 3)) == [
        P("day", date(2024, 11, 15), date(2024, 11, 30)),
        P("month", date(2024, 12, 1), date(2024, 12, 1)),
        P("year", date(2025, 1, 1), date(2026, 1, 1)),
        P("month", date(2027, 1, 1), date(2027, 1, 1)),
        P("day", date(2027, 2, 1), date(2027, 2, 3)),
    ]
    assert reading.split_range(date(2026, 5, 2), date(2026, 5, 30)) == [
        P("day", date(2026, 5, 2), date(2026, 5, 30))
    ]


def test_tally_counts_no_officer_under_its_own_key_with_flags_and_tickets() -> None:
    day = date(2026, 3, 2)
    base = {"day": day, "counter_id": "Q1", "scale": "vn4", "unit_id": "U", "ticket": None}
    columns = [
        {**base, "officer_id": "A", "score": 4, "flags": "", "ticket": "T1"},
        {**base, "officer_id": "A", "score": 4, "flags": "clock_unsynced,burst", "ticket": "T2"},
        {**base, "officer_id": "A", "score": 4, "flags": "clock_unsynced"},
        {**base, "officer_id": None, "score": 1, "flags": "no_officer"},
    ]
    rows = [stored_row(NOW, **c) for c in columns]
    # (n, flagged, ticketed): the burst is flagged, so its ticket is not a rated service
    assert tally.tally(rows, COUNTED) == {
        (day, "Q1", "A", "vn4", 4, "U"): (3, 1, 1),
        (day, "Q1", "", "vn4", 1, "U"): (1, 1, 0),
    }
    assert tally.tally(rows, ()) == {
        (day, "Q1", "A", "vn4", 4, "U"): (3, 0, 2),
        (day, "Q1", "", "vn4", 1, "U"): (1, 0, 0),
    }


def test_tally_reasons_counts_each_reason_of_a_rating() -> None:
    day = date(2026, 3, 2)
    base = {"day": day, "counter_id": "Q1", "officer_id": "A", "unit_id": "U"}
    columns = [
        {**base, "reasons": "slow,rude", "flags": ""},
        {**base, "reasons": "slow", "flags": "cooldown"},
        {**base, "reasons": "", "flags": ""},
    ]
    rows = [stored_row(NOW, **c) for c in columns]
    assert tally.tally_reasons(rows, COUNTED) == {
        (day, "Q1", "A", "rude", "U"): (1, 0),
        (day, "Q1", "A", "slow", "U"): (2, 1),
    }


def test_compare_lists_missing_and_different_rows() -> None:
    k1 = (date(2026, 1, 1), "Q", "A", "vn4", 4, "U")
    k2 = (date(2026, 1, 2), "Q", "A", "vn4", 3, "U")
    k3 = (date(2026, 1, 3), "Q", "A", "vn4", 2, "U")
    names = ("n", "flagged", "ticketed")
    found = recount.compare(
        "rollup_day",
        names,
        {k1: (2, 0, 0), k2: (1, 0, 0)},
        {k1: (2, 0, 0), k2: (5, 0, 0), k3: (1, 1, 0)},
    )
    assert [(m.key, m.raw, m.stored) for m in found] == [
        (k2, (1, 0, 0), (5, 0, 0)),
        (k3, (0, 0, 0), (1, 1, 0)),
    ]
    assert "raw rows say n 1, flagged 0, ticketed 0; rollup says n 5" in found[0].describe()


# on a database -------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
OFFICERS = ("CB-1", "CB-2", "CB-3")


def _seed(session: Session) -> None:
    session.add(Unit(id="U1", name="Xã Một", kind="commune"))
    session.add(Unit(id="U2", name="Phường Hai", kind="ward"))
    session.commit()
    for i, officer in enumerate(OFFICERS):
        unit = "U1" if i < 2 else "U2"
        session.add(Officer(id=officer, name=f"Cán bộ {i}", unit_id=unit))
        session.add(CounterRow(id=f"Q{i}", name=f"Quầy {i}", unit_id=unit))
    session.commit()
    for i, officer in enumerate(OFFICERS):
        session.add(Device(id=f"dev-{i}", counter_id=f"Q{i}", created_at=NOW))
        # CB-3's counter has nobody before March: those ratings are attributed to no officer
        start = datetime(2026, 3, 1, tzinfo=UTC) if i == 2 else datetime(2025, 1, 1, tzinfo=UTC)
        session.add(Assignment(officer_id=officer, counter_id=f"Q{i}", start=start))
    session.commit()


def _messages(rng: random.Random, count: int) -> list[Incoming]:
    batch = []
    for seq in range(count):
        device = rng.randrange(3)
        pressed = NOW - timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 600))
        payload = rating_payload(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            device_id=f"dev-{device}",
            seq=seq + 1,
            pressed_at=pressed.isoformat(),
            score=rng.randint(1, 4),
            officer_id=None,
            counter_id=None,
        )
        batch.append(Incoming(f"hailong/v1/devices/dev-{device}/ratings", payload))
    return batch


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        _seed(session)
    yield engine
    engine.dispose()


def _store(engine, batch: list[Incoming]) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        store_batch(session, batch, NOW, RULES)
        session.commit()


def _raw(session: Session, start: date, end: date, by: str | None) -> Counter[tuple]:  # type: ignore[type-arg]
    group = [col(getattr(Rating, by))] if by else []
    q = (
        select(*group, col(Rating.scale), col(Rating.score), func.count())
        .where(col(Rating.day) >= start, col(Rating.day) <= end)
        .group_by(*group, col(Rating.scale), col(Rating.score))
    )
    if by == "officer_id":
        q = q.where(col(Rating.officer_id).is_not(None))
    return Counter({tuple(r[:-1]): r[-1] for r in session.execute(q)})


def test_rollups_equal_a_raw_group_by_for_any_range(engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    batch = _messages(rng, 1500)
    _store(engine, batch[:700])
    _store(engine, batch[500:])  # 200 redelivered: stored and counted once
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Rating)) == 1500
        today = vn_day(NOW)
        ranges = [(today - timedelta(days=365), today), (date(2026, 2, 14), date(2026, 6, 3))]
        ranges += [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 7, 9), date(2026, 7, 9))]
        ranges += [(date(2026, 1, 1), date(2026, 12, 31)), (date(2025, 6, 1), date(2026, 12, 31))]
        ranges += [(date(2025, 1, 1), date(2027, 12, 31))]
        for _ in range(20):
            start = today - timedelta(days=rng.randint(0, 320))
            ranges.append((start, start + timedelta(days=rng.randint(0, 200))))
        for start, end in ranges:
            for by in ("officer_id", "counter_id", "unit_id", "day", None):
                got = reading.counts(session, start, end, [by] if by else [])  # type: ignore[list-item]
                assert Counter({tuple(r[:-1]): r[-1] for r in got}) == _raw(
                    session, start, end, by
                ), (start, end, by)
        one = reading.counts(session, today - timedelta(days=365), today, [], officer_id="CB-1")
        assert sum(n for *_, n in one) == session.scalar(
            select(func.count()).select_from(Rating).where(Rating.officer_id == "CB-1")
        )
    assert recount.check(engine, COUNTED) == []


def test_no_officer_ratings_count_in_totals_but_not_for_any_officer(engine) -> None:  # type: ignore[no-untyped-def]
    pressed = datetime(2026, 2, 10, 2, tzinfo=UTC)
    _store(
        engine,
        [
            Incoming(
                "hailong/v1/devices/dev-2/ratings",
                rating_payload(device_id="dev-2", pressed_at=pressed.isoformat(), score=1),
            )
        ],
    )
    with Session(engine) as session:
        day = vn_day(pressed)
        assert reading.counts(session, day, day, []) == [("vn4", 1, 1)]
        assert reading.counts(session, day, day, ["officer_id"]) == []


def test_check_finds_tampering_and_rebuild_repairs_it(engine) -> None:  # type: ignore[no-untyped-def]
    _store(engine, _messages(random.Random(3), 400))
    with engine.begin() as conn:
        conn.execute(text("UPDATE rollup_day SET n = n + 5 WHERE officer_id = 'CB-1'"))
        conn.execute(text("DELETE FROM rollup_month WHERE officer_id = 'CB-2'"))
        conn.execute(text("UPDATE rollup_year SET n = n - 1 WHERE officer_id = 'CB-3'"))
    found = recount.check(engine, COUNTED)
    assert {m.table for m in found} == {"rollup_day", "rollup_month", "rollup_year"}
    assert all(m.stored[0] == m.raw[0] + 5 for m in found if m.table == "rollup_day")
    assert any(m.stored == (0, 0, 0) and m.key[2] == "CB-2" for m in found)
    seen: list[tuple[int, int]] = []
    assert (
        recount.rebuild(engine, COUNTED, lambda done, total, _m: seen.append((done, total))) == 400
    )
    assert seen and seen[-1][0] == seen[-1][1]
    assert recount.check(engine, COUNTED) == []


def test_ratings_are_append_only_in_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    _store(engine, _messages(random.Random(5), 3))
    for statement in ("UPDATE rating SET score = 4", "DELETE FROM rating"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Rating)) == 3


def test_upgrading_counts_the_ratings_already_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0001")
    day = date(2026, 4, 6)
    pressed = datetime.combine(day, time(9), VN_TZ)
    with engine.begin() as conn:
        for i, (officer, score, ticket, reasons, flags) in enumerate(
            [
                ("A", 4, "T-1", "", ""),
                ("A", 4, None, "", "clock_unsynced"),
                ("B", 2, "T-2", "wait_time", ""),
                (None, 1, "T-3", "wait_time,attitude", "no_officer"),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO rating (id, device_id, seq, pressed_at, device_pressed_at, "
                    "received_at, day, scale, score, officer_id, counter_id, unit_id, reasons, "
                    "input, clock_synced, flags, ticket) VALUES (:id, 'd', :seq, :at, '', :at, "
                    ":day, 'vn4', :score, :officer, 'Q', 'U', :reasons, 'button', true, :flags, "
                    ":ticket)"
                ),
                {"id": f"r{i}", "seq": i, "at": pressed, "day": day, "score": score,
                 "officer": officer, "ticket": ticket, "reasons": reasons, "flags": flags},
            )  # fmt: skip
    migrate(engine)
    assert recount.check(engine, COUNTED) == []
    with Session(engine) as session:
        got = reading.counts(session, day, day, ["officer_id"])
        assert sorted(got) == [("A", "vn4", 4, 2), ("B", "vn4", 2, 1)]
        for start, end in [
            (date(2026, 4, 1), date(2026, 4, 30)),
            (date(2026, 1, 1), date(2026, 12, 31)),
        ]:
            assert sorted(reading.counts(session, start, end, [])) == [
                ("vn4", 1, 1),
                ("vn4", 2, 1),
                ("vn4", 4, 2),
            ]
            # (n, flagged, ticketed): the no-officer rating is flagged, so not a rated service
            assert sorted(reading.tallies(session, rollups.RATINGS, start, end, [])) == [
                ("vn4", 1, 1, 1, 0),
                ("vn4", 2, 1, 0, 1),
                ("vn4", 4, 2, 0, 1),
            ]
            assert sorted(reading.tallies(session, rollups.REASONS, start, end, [])) == [
                ("attitude", 1, 1),
                ("wait_time", 2, 1),
            ]
    engine.dispose()


def test_cli_check_and_rebuild(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hailong.db'}"
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        _seed(session)
    _store(engine, _messages(random.Random(9), 200))
    with engine.begin() as conn:
        conn.execute(text("UPDATE rollup_day SET n = n + 1 WHERE officer_id = 'CB-3'"))
    engine.dispose()

    def hailong(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "system.cli", *args, "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin"},
        )

    checked = hailong("rollups", "check")
    assert checked.returncode == 1, checked.stderr
    assert "officer=CB-3" in checked.stdout and "rollups rebuild" in checked.stdout
    assert "months" in checked.stderr  # progress
    rebuilt = hailong("rollups", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt from 200 ratings" in rebuilt.stdout
    again = hailong("rollups", "check")
    assert again.returncode == 0 and "match" in again.stdout


def test_cli_says_clearly_when_the_database_is_unreachable(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "system.cli", "rollups", "check"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "HAILONG_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/x",
        },
    )
    assert done.returncode == 2
    assert "cannot use the database" in done.stderr
    assert "Traceback" not in done.stderr
