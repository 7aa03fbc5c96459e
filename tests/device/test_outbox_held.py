"""Held ratings in the outbox (for reasons, for true time, or both): durable and counted, not
sent until released; old files migrate."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from device.outbox import Outbox
from hailong.protocol import Rating
from tests.device.test_outbox import rating_maker

TRUE = datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=7)))


def unsynced(boot_id: str, mono_ms: int, score: int = 3) -> Callable[[int], Rating]:
    make = rating_maker(score=score)

    def unsynced_make(seq: int) -> Rating:
        update = {"clock_synced": False, "boot_id": boot_id, "mono_ms": mono_ms}
        return make(seq).model_copy(update=update)

    return unsynced_make


def to_true_time(rating: Rating) -> Rating:
    return rating.model_copy(update={"pressed_at": TRUE, "clock_synced": True})


def test_a_held_rating_is_counted_but_not_sent_until_released(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    first = outbox.add(rating_maker())
    held = outbox.add(rating_maker(score=1), held=True)
    assert outbox.count() == 2
    assert [e.id for e in outbox.pending(10)] == [first.id]
    assert outbox.get([held.id]) == []
    assert [(e.id, e.seq) for e in outbox.held()] == [(held.id, 2)]

    finished = held.model_copy(update={"reasons": ["wait_time"]})
    assert outbox.release(finished)
    assert not outbox.release(finished)  # only once
    assert outbox.held() == []
    entries = outbox.pending(10)
    assert [e.seq for e in entries] == [1, 2]
    assert entries[1].payload == finished.to_payload()
    assert outbox.get([held.id])[0].payload == finished.to_payload()
    outbox.close()


def test_release_must_name_the_held_rating(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    held = outbox.add(rating_maker(score=1), held=True)
    assert not outbox.release(held.model_copy(update={"seq": 7}))
    other = Outbox(tmp_path / "outbox.sqlite3", "unit-2")
    with pytest.raises(ValueError):
        other.release(held)
    assert len(outbox.held()) == 1
    other.close()
    outbox.close()


def test_a_held_rating_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, "unit-1")
    held = outbox.add(rating_maker(score=1), held=True)
    outbox.close()
    outbox = Outbox(path, "unit-1")
    assert [e.id for e in outbox.held()] == [held.id]
    assert outbox.release(held)
    assert [e.id for e in outbox.pending(10)] == [held.id]
    outbox.close()


def test_an_outbox_from_before_held_ratings_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    rating = rating_maker()(3)
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE seq_counter (device_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
            CREATE TABLE outbox (
                device_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,
                payload BLOB NOT NULL, PRIMARY KEY (device_id, seq)
            );
            INSERT INTO seq_counter VALUES ('unit-1', 3);
            """
        )
        old.execute(
            "INSERT INTO outbox VALUES ('unit-1', 3, ?, ?)", (rating.id, rating.to_payload())
        )
    outbox = Outbox(path, "unit-1")
    assert [e.id for e in outbox.pending(10)] == [rating.id]
    assert outbox.held() == []
    assert outbox.add(rating_maker(), held=True).seq == 4
    assert outbox.add(unsynced("boot-a", 5), time_boot="boot-a").seq == 5
    assert outbox.waiting_for_time().keys() == {"boot-a"}
    outbox.close()
    Outbox(path, "unit-1").close()  # and opening it again does not migrate twice


def test_an_outbox_with_held_ratings_gains_the_wait_for_time(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    held = rating_maker(score=1)(2)
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE seq_counter (device_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
            CREATE TABLE outbox (
                device_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,
                payload BLOB NOT NULL, held INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (device_id, seq)
            );
            INSERT INTO seq_counter VALUES ('unit-1', 2);
            """
        )
        old.execute(
            "INSERT INTO outbox VALUES ('unit-1', 2, ?, ?, 1)", (held.id, held.to_payload())
        )
    outbox = Outbox(path, "unit-1")
    assert [e.id for e in outbox.held()] == [held.id]
    assert outbox.waiting_for_time() == {}
    assert outbox.release(held)
    assert [e.id for e in outbox.pending(10)] == [held.id]
    outbox.close()


def test_a_rating_waiting_for_time_is_sent_only_once_dated(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    waiting = outbox.add(unsynced("boot-a", 1500), time_boot="boot-a")
    other_boot = outbox.add(unsynced("boot-b", 900), time_boot="boot-b")
    ready = outbox.add(rating_maker())
    assert outbox.count() == 3
    assert [e.id for e in outbox.pending(10)] == [ready.id]
    assert outbox.get([waiting.id, other_boot.id]) == []
    assert outbox.held() == []  # the reasons page's hold is another thing

    (dated,) = outbox.date("boot-a", to_true_time)
    assert (dated.id, dated.seq, dated.pressed_at, dated.clock_synced) == (
        waiting.id,
        1,
        TRUE,
        True,
    )
    assert (dated.boot_id, dated.mono_ms) == ("boot-a", 1500)
    assert outbox.date("boot-a", to_true_time) == []  # only once
    assert [e.id for e in outbox.pending(10)] == [waiting.id, ready.id]
    assert outbox.pending(10)[0].payload == dated.to_payload()
    assert list(outbox.waiting_for_time()) == ["boot-b"]
    outbox.close()


def test_dating_may_change_only_the_time(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    waiting = outbox.add(unsynced("boot-a", 10), time_boot="boot-a")
    with pytest.raises(ValueError):
        outbox.date("boot-a", lambda r: to_true_time(r).model_copy(update={"score": 4}))
    assert outbox.waiting_for_time()["boot-a"][0].payload == waiting.to_payload()
    outbox.close()


def test_a_low_score_before_true_time_waits_for_both_reasons_and_time(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    low = outbox.add(unsynced("boot-a", 10, score=1), held=True, time_boot="boot-a")
    assert outbox.date("boot-a", to_true_time)[0].pressed_at == TRUE
    assert outbox.pending(10) == []  # still on the reasons page
    assert outbox.release(low.model_copy(update={"reasons": ["wait_time"]}))
    (sent,) = outbox.pending(10)
    rating = Rating.model_validate_json(sent.payload)
    assert (rating.reasons, rating.pressed_at, rating.clock_synced) == (["wait_time"], TRUE, True)

    other = outbox.add(unsynced("boot-a", 20, score=1), held=True, time_boot="boot-a")
    assert outbox.release(other.model_copy(update={"reasons": ["attitude"]}))
    assert [e.id for e in outbox.pending(10)] == [low.id]  # still waits for time
    outbox.date("boot-a", to_true_time)
    assert [e.id for e in outbox.pending(10)] == [low.id, other.id]
    outbox.close()


def test_the_ratings_of_a_past_boot_go_as_pressed(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    past = outbox.add(unsynced("boot-a", 10), time_boot="boot-a")
    current = outbox.add(unsynced("boot-b", 10), time_boot="boot-b")
    assert [e.id for e in outbox.release_boots_other_than("boot-b")] == [past.id]
    (sent,) = outbox.pending(10)
    assert sent.payload == past.to_payload()  # clock_synced false, its own time
    assert list(outbox.waiting_for_time()) == ["boot-b"]
    assert outbox.release_boots_other_than("boot-b") == []
    assert outbox.waiting_for_time()["boot-b"][0].id == current.id
    outbox.close()
