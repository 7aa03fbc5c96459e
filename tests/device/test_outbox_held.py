"""Held ratings in the outbox: durable and counted, not sent until released; old files migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from device.outbox import Outbox
from tests.device.test_outbox import rating_maker


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
    outbox.close()
    Outbox(path, "unit-1").close()  # and opening it again does not migrate twice
