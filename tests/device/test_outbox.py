"""The outbox: seq per device from 1, strictly increasing, durable across reopen and deletes."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from device.outbox import Outbox
from hailong.protocol import Rating


def rating_maker(device_id: str = "unit-1", score: int = 3) -> Callable[[int], Rating]:
    def make(seq: int) -> Rating:
        return Rating.model_validate(
            {
                "id": str(uuid.uuid4()),
                "device_id": device_id,
                "seq": seq,
                "pressed_at": "2026-11-23T08:00:00.000+07:00",
                "score": score,
            }
        )

    return make


def test_seq_starts_at_one_and_survives_reopen_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, "unit-1")
    assert [outbox.add(rating_maker()).seq for _ in range(3)] == [1, 2, 3]
    outbox.close()

    outbox = Outbox(path, "unit-1")
    assert outbox.count() == 3
    assert outbox.add(rating_maker()).seq == 4
    outbox.delete(e.id for e in outbox.pending(10))
    assert outbox.count() == 0
    outbox.close()

    outbox = Outbox(path, "unit-1")
    assert outbox.add(rating_maker()).seq == 5
    assert outbox.last_seq() == 5
    outbox.close()


def test_the_rating_is_committed_when_add_returns(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    rating = outbox.add(rating_maker())
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as other:
        stored = other.execute("SELECT payload FROM outbox WHERE id = ?", (rating.id,)).fetchone()
    assert stored is not None and bytes(stored[0]) == rating.to_payload()
    outbox.close()


def test_pending_is_oldest_first_and_delete_forgets(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    ratings = [outbox.add(rating_maker()) for _ in range(5)]
    assert [e.seq for e in outbox.pending(3)] == [1, 2, 3]
    assert [e.seq for e in outbox.pending(10, after_seq=3)] == [4, 5]
    assert outbox.delete([ratings[1].id, ratings[3].id, "not-stored"]) == 2
    assert [e.seq for e in outbox.pending(10)] == [1, 3, 5]
    assert [e.seq for e in outbox.get([ratings[4].id, ratings[0].id, ratings[1].id])] == [1, 5]
    assert outbox.count() == 3
    outbox.close()


def test_a_rating_that_fails_to_build_uses_no_seq(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    with pytest.raises(ValueError):
        outbox.add(rating_maker(score=9))
    with pytest.raises(ValueError):
        outbox.add(rating_maker(device_id="unit-2"))
    assert outbox.count() == 0
    assert outbox.add(rating_maker()).seq == 1
    outbox.close()


def test_seq_is_kept_per_device(tmp_path: Path) -> None:
    one = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    two = Outbox(tmp_path / "outbox.sqlite3", "unit-2")
    assert one.add(rating_maker("unit-1")).seq == 1
    assert two.add(rating_maker("unit-2")).seq == 1
    assert one.add(rating_maker("unit-1")).seq == 2
    assert one.count() == 2 and two.count() == 1
    one.close()
    two.close()


def test_threads_share_one_outbox(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "unit-1")
    seqs: list[int] = []
    lock = threading.Lock()

    def press_many() -> None:
        for _ in range(50):
            seq = outbox.add(rating_maker()).seq
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=press_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs) == list(range(1, 201))

    deleter = threading.Thread(target=lambda: outbox.delete(e.id for e in outbox.pending(500)))
    deleter.start()
    assert outbox.wait_empty(timeout=60)
    deleter.join()
    outbox.close()
