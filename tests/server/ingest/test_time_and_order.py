"""The time, order, late and attribution rules of a rating (docs/protocol.md, "Server rules for a
Rating"), and the seq values a unit never delivered: store_batch on real SQLite and PostgreSQL,
with the receipt and liveness of each message given as the MQTT side gives them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from dashboard import queries
from dashboard.pages import devices
from dashboard.sources import Sources
from hailong import protocol
from server.access.roles import Access
from server.ingest import ordering
from server.ingest.connections import Liveness
from server.ingest.store import BatchResult, Incoming, store_batch
from server.storage.db import alembic_config, make_engine
from server.storage.models import Assignment, DeviceBoot, DeviceConnection, Officer
from server.storage.models import Rating as StoredRating
from tests.server import factories
from tests.server.factories import RATINGS_TOPIC, RULES, seed_registry
from tests.server.web.test_api import api_app, login

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
LIVE_SINCE = NOW - timedelta(hours=2)  # the server's subscription has been live since 08:00
STATUS_TOPIC = "hailong/v1/devices/dev-dh-q1/status"
DEVICE = "dev-dh-q1"


def status(state: str = "online", boot_id: str = "boot-1", mono_ms: int = 0) -> bytes:
    return protocol.Status(
        state=state,  # type: ignore[arg-type]
        firmware="1.0",
        outbox=0,
        uptime_s=mono_ms // 1000,
        at=NOW,
        boot_id=boot_id,
        mono_ms=mono_ms,
    ).to_payload()


def rating(seq: int, pressed_at: datetime, **extra: object) -> bytes:
    return factories.rating_payload(seq=seq, pressed_at=pressed_at.isoformat(), **extra)


def got(
    payload: bytes,
    at: datetime = NOW,
    *,
    live_since: datetime | None = LIVE_SINCE,
    retained: bool = False,
    topic: str = RATINGS_TOPIC,
) -> Incoming:
    """A message as the server's MQTT client received it at `at`."""
    return Incoming(topic, payload, at, live_since, retained)


def got_status(payload: bytes, at: datetime, **kwargs: object) -> Incoming:
    return got(payload, at, topic=STATUS_TOPIC, **kwargs)  # type: ignore[arg-type]


def store(session: Session, *messages: Incoming, now: datetime = NOW) -> BatchResult:
    result = store_batch(session, list(messages), now, RULES)
    session.commit()
    return result


def row_of(session: Session, payload: bytes) -> StoredRating:
    row = session.get(StoredRating, json.loads(payload)["id"])
    assert row is not None
    return row


def flags_of(session: Session, payload: bytes) -> set[str]:
    return set(filter(None, row_of(session, payload).flags.split(",")))


# --- time -------------------------------------------------------------------------------------


def test_a_rating_a_day_ahead_is_dated_from_the_live_status_of_its_boot(session: Session) -> None:
    """The unit's clock is a day ahead. Before, the rating was rejected and the unit deleted it;
    counted at its own time it would go to tomorrow's officer. The live Status of its boot dates
    it: received at 09:50 with mono_ms 10 min, so a press at mono_ms 15 min was at 09:55."""
    shift = session.exec(select(Assignment)).one()
    shift.end = NOW + timedelta(hours=12)
    session.add(shift)
    session.add(Officer(id="CB-0043", name="Trần Văn Bình", unit_id="DH"))
    session.commit()
    session.add(
        Assignment(officer_id="CB-0043", counter_id="DH-Q1", start=NOW + timedelta(hours=12))
    )
    session.commit()
    store(session, got_status(status(mono_ms=600_000), NOW - timedelta(minutes=10)))
    true_time = NOW - timedelta(minutes=5)
    ahead = rating(1, true_time + timedelta(days=1), boot_id="boot-1", mono_ms=900_000)
    close = rating(2, true_time + timedelta(seconds=90), boot_id="boot-1", mono_ms=900_500)
    result = store(session, got(ahead), got(close))
    assert result.stored == 2 and result.rejected == 0
    row = row_of(session, ahead)
    assert row.pressed_at == true_time
    assert flags_of(session, ahead) == {"clock_corrected"}
    assert row.officer_id == "CB-0042", "the officer on duty at the true time"
    assert row.device_pressed_at.startswith("2026-11-22")
    assert (row.boot_id, row.mono_ms) == ("boot-1", 900_000)
    near = row_of(session, close)
    assert near.pressed_at == true_time + timedelta(seconds=90), "within 2 minutes: kept as sent"
    assert flags_of(session, close) == set()


def test_only_a_live_online_status_dates_presses(session: Session) -> None:
    """A retained copy, a Status of the backlog (received before the server's marker) and a Last
    Will (whose mono_ms was written at connect) say nothing of when they were received."""
    ago = NOW - timedelta(minutes=2)
    store(
        session,
        got_status(status(boot_id="retained", mono_ms=1), ago, retained=True),
        got_status(status(boot_id="backlog", mono_ms=1), ago, live_since=None),
        got_status(status("offline", boot_id="will", mono_ms=1), ago),
        got_status(status(boot_id="live", mono_ms=1), ago),
    )
    assert [b.boot_id for b in session.exec(select(DeviceBoot)).all()] == ["live"]
    ahead = NOW + timedelta(days=1)
    payloads = [
        rating(seq, ahead, boot_id=boot, mono_ms=1000)
        for seq, boot in enumerate(("retained", "backlog", "will", "live"), 1)
    ]
    store(session, *(got(p, NOW + timedelta(minutes=i)) for i, p in enumerate(payloads)))
    assert [flags_of(session, p) for p in payloads] == [
        {"time_unknown"},
        {"time_unknown"},
        {"time_unknown"},
        {"clock_corrected"},
    ]
    assert row_of(session, payloads[0]).pressed_at == NOW, "unknown time: dated by receipt"
    assert row_of(session, payloads[3]).pressed_at == ago + timedelta(milliseconds=999)


def test_the_first_live_status_of_a_boot_is_the_one_kept(session: Session) -> None:
    first = NOW - timedelta(minutes=30)
    store(session, got_status(status(mono_ms=5_000), first))
    store(session, got_status(status(mono_ms=1_000_000_000), NOW))
    mark = session.exec(select(DeviceBoot)).one()
    assert (mark.received_at, mark.mono_ms) == (first, 5_000)


def test_an_implausible_estimate_is_no_estimate(session: Session) -> None:
    """A Status claiming a mono_ms of years cannot send presses back years: the press is dated
    as if there were no Status of its boot."""
    store(session, got_status(status(mono_ms=3 * 365 * 86_400_000), NOW))
    synced = rating(1, NOW - timedelta(minutes=1), boot_id="boot-1", mono_ms=0)
    unsynced = rating(2, NOW, boot_id="boot-1", mono_ms=1, clock_synced=False)
    store(session, got(synced), got(unsynced, NOW + timedelta(minutes=1)))
    assert flags_of(session, synced) == set()
    assert row_of(session, synced).pressed_at == NOW - timedelta(minutes=1)
    assert flags_of(session, unsynced) == {"time_unknown"}
    assert row_of(session, unsynced).pressed_at == NOW + timedelta(minutes=1)


def test_unknown_time_goes_to_the_named_officer_assigned_within_7_days(session: Session) -> None:
    """The named officer is taken only if assigned at the counter in the 7 days before receipt."""
    session.add(Officer(id="CB-OLD", name="Lê Thị Cũ", unit_id="DH"))
    session.commit()
    ended = NOW - timedelta(days=8)
    session.add(
        Assignment(
            officer_id="CB-OLD", counter_id="DH-Q1", start=ended - timedelta(days=30), end=ended
        )
    )
    session.commit()
    on_duty = rating(1, NOW, clock_synced=False, officer_id="CB-0042")
    gone = rating(2, NOW, clock_synced=False, officer_id="CB-OLD")
    nobody = rating(3, NOW, clock_synced=False, officer_id=None)
    minute = timedelta(minutes=1)
    store(session, got(on_duty), got(gone, NOW + minute), got(nobody, NOW + 2 * minute))
    assert row_of(session, on_duty).officer_id == "CB-0042"
    assert flags_of(session, on_duty) == {"time_unknown"}
    assert row_of(session, gone).officer_id is None
    assert flags_of(session, gone) == {"time_unknown", "no_officer", "officer_mismatch"}
    assert row_of(session, nobody).officer_id is None
    assert flags_of(session, nobody) == {"time_unknown", "no_officer"}


# --- Acks -------------------------------------------------------------------------------------


def test_a_live_online_status_is_answered_and_every_ack_carries_server_time(
    session: Session,
) -> None:
    result = store(session, got_status(status(), NOW))
    assert [a.model_dump() for a in result.acks[DEVICE]] == [
        {"schema_": 1, "accepted": [], "duplicate": [], "rejected": [], "server_time": NOW}
    ]
    for quiet in (
        got_status(status(), NOW, live_since=None),
        got_status(status(), NOW, retained=True),
        got_status(status("offline"), NOW),
    ):
        assert store(session, quiet).acks == {}
    press = rating(1, NOW - timedelta(seconds=5))
    ack = store(session, got(press)).acks[DEVICE][0]
    assert ack.accepted == [json.loads(press)["id"]] and ack.server_time == NOW


# --- order ------------------------------------------------------------------------------------


def test_a_seq_stored_under_another_id_is_seq_reused_in_one_batch_or_two(
    session: Session,
) -> None:
    at = NOW - timedelta(minutes=30)
    minute = timedelta(minutes=1)
    first, fresh = rating(5, at), rating(6, at + 2 * minute)
    store(session, got(first))
    again = rating(5, at + minute)
    twin_a, twin_b = rating(7, at + 3 * minute), rating(7, at + 4 * minute)
    store(session, got(again), got(fresh), got(twin_a), got(twin_b), got(first))
    assert [flags_of(session, p) for p in (first, again, fresh, twin_a, twin_b)] == [
        set(),
        {"seq_reused"},
        set(),
        set(),
        {"seq_reused"},
    ]


def test_a_press_time_against_the_order_of_seqs_beyond_2_minutes_is_out_of_order(
    session: Session,
) -> None:
    nine = NOW - timedelta(hours=1)
    store(session, got(rating(10, nine)), got(rating(20, nine + timedelta(minutes=30))))
    between = rating(15, nine + timedelta(minutes=15))
    before_lower = rating(16, nine - timedelta(minutes=3))
    after_higher = rating(17, nine + timedelta(minutes=33))
    just_after_higher = rating(18, nine + timedelta(minutes=31, seconds=59))
    store(session, *(got(p) for p in (between, before_lower, after_higher, just_after_higher)))
    assert [flags_of(session, p) for p in (between, before_lower, after_higher)] == [
        set(),
        {"out_of_order"},
        {"out_of_order"},
    ]
    assert flags_of(session, just_after_higher) == set()
    # within one batch: 31 is pressed 5 minutes before 30
    later, earlier = (
        rating(30, NOW - timedelta(minutes=10)),
        rating(31, NOW - timedelta(minutes=15)),
    )
    store(session, got(later), got(earlier))
    assert (flags_of(session, later), flags_of(session, earlier)) == (set(), {"out_of_order"})


def test_ratings_dated_by_receipt_or_out_of_order_are_no_reference(session: Session) -> None:
    """A rating dated by its receipt (10:00) says nothing of when seq 40 was pressed; a forged
    one flagged out_of_order must not make the next forged one look in order."""
    store(session, got(rating(40, NOW, clock_synced=False)))
    honest = rating(41, NOW - timedelta(minutes=5))
    store(session, got(honest))
    assert flags_of(session, honest) == set()
    month_ago = NOW - timedelta(days=30)
    forged = [rating(42 + i, month_ago + timedelta(days=i)) for i in range(3)]
    store(session, *(got(p) for p in forged))
    assert [flags_of(session, p) for p in forged] == [{"out_of_order"}] * 3


# --- late while online ------------------------------------------------------------------------


def test_a_rating_arriving_late_while_unit_and_server_were_online_is_flagged(
    session: Session,
) -> None:
    store(session, got_status(status(), NOW - timedelta(minutes=50)))
    store(session, got_status(status(mono_ms=60_000), NOW - timedelta(minutes=49)))
    assert len(session.exec(select(DeviceConnection)).all()) == 1, "repeats are not history"
    late = rating(1, NOW - timedelta(minutes=30))
    in_time = rating(2, NOW - timedelta(minutes=9))
    store(session, got(late), got(in_time))
    assert flags_of(session, late) == {"late_while_online"}
    assert flags_of(session, in_time) == set()


def test_a_late_rating_is_not_flagged_when_the_unit_or_the_server_was_away(
    session: Session,
) -> None:
    store(session, got_status(status(), NOW - timedelta(minutes=50)))
    pressed = NOW - timedelta(minutes=30)
    server_came_back = rating(1, pressed)
    store(session, got(server_came_back, live_since=NOW - timedelta(minutes=15)))
    backlog = rating(2, pressed + timedelta(seconds=1))
    store(session, got(backlog, live_since=None))
    # the unit lost its link after the press (its Last Will) and came back
    store(session, got_status(status("offline"), NOW - timedelta(minutes=29)))
    store(session, got_status(status(), NOW - timedelta(seconds=10)))
    unit_away = rating(3, pressed + timedelta(seconds=2))
    store(session, got(unit_away))
    # pressed before the unit's first online Status
    unknown = rating(4, NOW - timedelta(hours=3))
    store(session, got(unknown))
    for p in (server_came_back, backlog, unit_away, unknown):
        assert "late_while_online" not in flags_of(session, p)


# --- missing seqs -----------------------------------------------------------------------------


def test_missing_seqs_are_kept_per_device(session: Session) -> None:
    at = NOW - timedelta(minutes=5)
    store(session, *(got(rating(s, at)) for s in (2, 5, 9)))
    assert ordering.missing_seqs(session, [DEVICE])[DEVICE] == ordering.Missing(
        6, [(1, 1), (3, 4), (6, 8)]
    )
    store(session, got(rating(7, at)), got(rating(1, at)), got(rating(5, at)))
    assert ordering.missing_seqs(session, [DEVICE])[DEVICE] == ordering.Missing(
        4, [(3, 4), (6, 6), (8, 8)]
    )


def test_remove_seqs_splits_and_shortens_gaps() -> None:
    assert ordering.remove_seqs([(1, None)], [1]) == [(2, None)]
    assert ordering.remove_seqs([(1, None)], [3, 4]) == [(1, 2), (5, None)]
    assert ordering.remove_seqs([(3, 8), (10, None)], [3, 5, 8, 12, 9]) == [
        (4, 4),
        (6, 7),
        (10, 11),
        (13, None),
    ]
    assert ordering.remove_seqs([(3, 3)], [3]) == []


# --- misuse by mono_ms ------------------------------------------------------------------------


def test_six_presses_of_an_unsynchronised_unit_are_spaced_by_mono_ms(session: Session) -> None:
    """The issue's case: presses at 09:00, 09:10 … 09:50 on a unit without NTP, sent at 10:00
    with its wrong clock. Before, all six were dated by their receipt and five were flagged
    cooldown/burst. With the unit's live Status they are dated 09:00 … 09:50; without it they
    stay at the receipt, time_unknown, but their mono_ms still keeps them 10 minutes apart."""
    boot_at = NOW - timedelta(hours=1, minutes=5)  # booted at 08:55
    presses = [
        rating(
            k + 1,
            datetime(1970, 1, 1, 0, 5 + 10 * k, tzinfo=UTC),
            clock_synced=False,
            boot_id="boot-1",
            mono_ms=(5 + 10 * k) * 60_000,
        )
        for k in range(6)
    ]
    store(session, got_status(status(mono_ms=65 * 60_000), NOW))
    store(session, *(got(p, NOW + timedelta(seconds=10)) for p in presses))
    for k, p in enumerate(presses):
        assert row_of(session, p).pressed_at == boot_at + timedelta(minutes=5 + 10 * k)
        assert flags_of(session, p) == {"clock_corrected"}

    unsynced = [
        rating(
            k + 7,
            datetime(1970, 1, 1, 0, 5 + 10 * k, tzinfo=UTC),
            clock_synced=False,
            boot_id="boot-2",
            mono_ms=(5 + 10 * k) * 60_000,
        )
        for k in range(6)
    ]
    store(session, *(got(p, NOW + timedelta(minutes=1)) for p in unsynced))
    assert [flags_of(session, p) for p in unsynced] == [{"time_unknown"}] * 6


def test_the_devices_api_lists_each_devices_missing_seqs(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with TestClient(app) as client, Session(app.state.engine) as session:
        seed_registry(session)
        at = NOW - timedelta(minutes=5)
        store(session, *(got(rating(s, at + timedelta(minutes=s))) for s in (1, 4, 5, 9)))
        listed = client.get("/api/v1/devices", headers=login(client, "hr")).json()
    assert [(d["id"], d["missing_seqs"], d["missing_seq_ranges"]) for d in listed] == [
        (DEVICE, 5, [[2, 3], [6, 8]])
    ]


def test_the_devices_page_shows_each_devices_missing_seqs(session: Session) -> None:
    store(session, *(got(rating(s, NOW - timedelta(minutes=10 - s))) for s in (1, 3, 4, 7)))
    (row,) = queries.device_rows(session, Access("admin", "a"))
    assert (row.missing_seqs, row.missing_seq_ranges) == (3, ((2, 2), (5, 6)))
    engine = session.get_bind()
    page = devices.view(Sources(lambda: Session(engine)), Access("admin", "a"))  # type: ignore[arg-type]
    (record,) = page.records
    assert (record["missing"], record["missing_ranges"]) == (3, "2, 5–6")


def test_the_migration_finds_the_seqs_already_missing_and_keeps_ratings_append_only(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    try:
        command.upgrade(cfg, "0005")
        insert = text(
            "INSERT INTO rating (id, device_id, seq, pressed_at, device_pressed_at, received_at,"
            " day, scale, score, reasons, input, clock_synced, flags) VALUES (:id, :device, :seq,"
            " :at, '', :at, :day, 'vn4', 4, '', 'button', true, '')"
        )
        with engine.begin() as conn:
            for device, seq in (("dev-a", 2), ("dev-a", 3), ("dev-a", 7), ("dev-b", 1)):
                row = {"id": f"{device}-{seq}", "device": device, "seq": seq}
                conn.execute(insert, {**row, "at": NOW, "day": NOW.date()})
        command.upgrade(cfg, "head")
        with Session(engine) as session:
            found = ordering.missing_seqs(session, ["dev-a", "dev-b"])
            assert found == {
                "dev-a": ordering.Missing(4, [(1, 1), (4, 6)]),
                "dev-b": ordering.Missing(0, []),
            }
            ordering.record_received(session, {"dev-a": {8, 10}, "dev-b": {2}})
            found = ordering.missing_seqs(session, ["dev-a", "dev-b"])
            assert found["dev-a"] == ordering.Missing(5, [(1, 1), (4, 6), (9, 9)])
            assert found["dev-b"] == ordering.Missing(0, [])
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE rating SET score = 1"))
    finally:
        engine.dispose()


def test_liveness_starts_at_this_connections_marker_only() -> None:
    live = Liveness("hailong-server")
    assert live.topic == "hailong/v1/server/hailong-server/mark"
    old = live.connected()
    live.lost()
    token = live.connected()
    live.marker(old, NOW)  # an earlier connection's marker, left in the backlog
    assert live.since is None
    live.marker(token, NOW)
    live.marker(token, NOW + timedelta(seconds=5))
    assert live.since == NOW
    live.lost()
    assert live.since is None
