"""Misuse rules at ingest: flagged ratings are stored and shown, and counted apart in the
rollups so that scores leave them out unless asked (real SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from server.ingest.store import Incoming, IngestRules, store_batch
from server.policy import MisuseRules
from server.reporting import reading, recount
from server.storage import rollups
from server.storage.models import Rating as StoredRating
from tests.server import factories
from tests.server.factories import RATINGS_TOPIC, RULES

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
_seq = iter(range(1, 10_000))


def press(seconds: float, **overrides: object) -> bytes:
    at = T0 + timedelta(seconds=seconds)
    return factories.rating_payload(pressed_at=at.isoformat(), seq=next(_seq), **overrides)


def store(session: Session, *payloads: bytes, rules: IngestRules = RULES) -> None:
    store_batch(session, [Incoming(RATINGS_TOPIC, p) for p in payloads], NOW, rules)
    session.commit()


def flags_of(session: Session, payload: bytes) -> str:
    row = session.get(StoredRating, json.loads(payload)["id"])
    assert row is not None
    return row.flags


def test_a_second_press_inside_the_cooldown_is_flagged_in_one_batch_or_two(
    session: Session,
) -> None:
    first, close, later = press(0), press(2.9), press(6)
    store(session, first, close)
    apart = press(8.5)  # 2.5 s after `later`, stored in a batch of its own
    store(session, later)
    store(session, apart)
    assert [flags_of(session, p) for p in (first, close, later, apart)] == [
        "",
        "cooldown",
        "",
        "cooldown",
    ]


def test_the_fifth_press_within_a_minute_is_a_burst_and_a_resend_does_not_count(
    session: Session,
) -> None:
    presses = [press(s) for s in (0, 10, 20, 30)]
    store(session, *presses)
    store(session, presses[3])  # the unit sends the fourth again: still four presses
    fifth_late = press(60)  # the window is (0, 60]: the press at 0 is outside it
    store(session, fifth_late)
    fifth = press(65)  # 10, 20, 30, 60 and 65 are five within (5, 65]
    store(session, fifth)
    assert [flags_of(session, p) for p in (*presses, fifth_late, fifth)] == [
        "",
        "",
        "",
        "",
        "",
        "burst",
    ]


def test_a_rating_without_a_ticket_is_outside_service_only_when_the_policy_requires_it(
    session: Session,
) -> None:
    strict = replace(RULES, misuse=MisuseRules(require_service=True))
    with_ticket, without = press(0, ticket="A-015"), press(100)
    store(session, with_ticket, without, rules=strict)
    lenient = press(200)
    store(session, lenient)
    assert [flags_of(session, p) for p in (with_ticket, without, lenient)] == [
        "",
        "outside_service",
        "",
    ]


def test_flagged_ratings_are_counted_apart_in_the_rollups(session: Session) -> None:
    store(session, press(0, score=4, ticket="A-1"), press(1, score=1, ticket="A-2"))
    store(
        session,
        press(30, score=2, reasons=["wait_time"]),
        press(31, score=1, reasons=["wait_time"]),
    )
    day = T0.date()
    got = reading.tallies(session, rollups.RATINGS, day, day, ["officer_id"])
    # (officer, scale, score, n, flagged, ticketed): the cooldown press at 1 s has a ticket, but
    # a flagged rating is never a rated service
    assert sorted(got) == [
        ("CB-0042", "vn4", 1, 2, 2, 0),
        ("CB-0042", "vn4", 2, 1, 0, 0),
        ("CB-0042", "vn4", 4, 1, 0, 1),
    ]
    reasons = reading.tallies(session, rollups.REASONS, day, day, [])
    assert reasons == [("wait_time", 2, 1)]
    assert recount.check(session.get_bind(), RULES.misuse.count) == []  # type: ignore[arg-type]


def test_without_a_chain_key_nothing_is_stored(session: Session) -> None:
    with pytest.raises(ValueError, match="chain key"):
        store(session, press(0), rules=IngestRules())
    session.rollback()
    assert session.exec(select(StoredRating)).all() == []
