"""The citizen's phone rating, as plain service functions on each database backend: a ticket's
link takes one rating (a racing second one too is refused) attributed to the ticket's counter
and officer; a counter card's ratings are flagged, go to the officer on duty and are limited per
address and day; expired, revoked and unknown links say so; the answer is checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from server.channels import web
from server.channels.links import card_invite, ticket_invite
from server.channels.web import Answer, LinkRefused
from server.ingest.store import store_rows
from server.storage.channels import WEB_DEVICE, QueueTicket, RatingInvite, WebSubmission
from server.storage.models import AuditEvent, Counter, Rating
from server.timeutil import vn_day
from tests.server.factories import RULES, stored_row

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
ADDRESS = "203.0.113.9"


def served_ticket(
    session: Session, code: str = "A-0153", officer_id: str | None = "CB-0042"
) -> str:
    ticket = QueueTicket(
        unit_id="DH",
        day=vn_day(NOW),
        ticket=code,
        state="served",
        called_at=NOW - timedelta(minutes=10),
        served_at=NOW - timedelta(minutes=2),
        counter_id="DH-Q1",
        officer_id=officer_id,
    )
    session.add(ticket)
    session.commit()
    token = ticket_invite(session, ticket, NOW - timedelta(minutes=2), days=7).token
    session.commit()
    return token


def take(session: Session, token: str, answer: Answer, **kwargs: object) -> str:
    options: dict = {"address": ADDRESS, "now": NOW, "per_address": 3, **kwargs}
    rating_id = web.take_rating(session, RULES, token, answer, **options)
    session.commit()
    return rating_id


def web_ratings(session: Session) -> list[Rating]:
    return list(
        session.exec(
            select(Rating).where(Rating.device_id == WEB_DEVICE).order_by(col(Rating.seq))
        ).all()
    )


def refusal(kind: str, call: object) -> LinkRefused:
    assert callable(call)
    with pytest.raises(LinkRefused) as caught:
        call()
    assert caught.value.kind == kind, caught.value
    return caught.value


def test_a_ticket_link_takes_one_rating_for_its_counter_and_officer(session: Session) -> None:
    token = served_ticket(session)
    shown = web.invitation(session, token, NOW)
    assert (shown.unit_name, shown.counter_name, shown.ticket, shown.officer_name) == (
        "Phường Diên Hồng",
        "Quầy Tư pháp",
        "A-0153",
        "Nguyễn Thị Lan",
    )
    rating_id = take(session, token, Answer(1, ("wait_time", "attitude"), "Chờ 40 phút"))
    [rating] = web_ratings(session)
    assert rating.id == rating_id
    assert (rating.input, rating.ticket, rating.counter_id, rating.unit_id) == (
        "web",
        "A-0153",
        "DH-Q1",
        "DH",
    )
    assert (rating.officer_id, rating.reported_officer_id) == ("CB-0042", "CB-0042")
    assert (rating.scale, rating.score, rating.reasons, rating.comment) == (
        "vn4",
        1,
        "wait_time,attitude",
        "Chờ 40 phút",
    )
    assert rating.flags == ""
    assert session.get(RatingInvite, token).rating_id == rating_id  # type: ignore[union-attr]

    used = refusal("used", lambda: take(session, token, Answer(4)))
    assert used.vi == "Giao dịch này đã được đánh giá. Xin cảm ơn!"
    refusal("used", lambda: web.invitation(session, token, NOW))
    assert len(web_ratings(session)) == 1


def test_a_ticket_without_an_officer_goes_to_whoever_sat_there_when_served(
    session: Session,
) -> None:
    token = served_ticket(session, officer_id=None)
    assert web.invitation(session, token, NOW).officer_name is None
    take(session, token, Answer(3))
    [rating] = web_ratings(session)
    assert (rating.officer_id, rating.reported_officer_id) == ("CB-0042", None)


def test_a_ticket_already_rated_at_the_unit_takes_no_second_rating(session: Session) -> None:
    """One transaction is rated once, whichever way: else rated ÷ served counts it twice."""
    token = served_ticket(session)
    pressed = NOW - timedelta(minutes=5)
    store_rows(session, [stored_row(pressed, ticket="A-0153", score=3)], RULES, pressed)
    session.commit()
    refusal("used", lambda: web.invitation(session, token, NOW))
    refusal("used", lambda: take(session, token, Answer(4)))
    assert web_ratings(session) == []
    other = served_ticket(session, code="A-0154")  # another ticket of the counter is not
    take(session, other, Answer(4))
    assert [r.ticket for r in web_ratings(session)] == ["A-0154"]


def test_a_racing_second_submission_is_refused_by_the_claim(session: Session) -> None:
    """Both submissions read the link unused; the second's conditional UPDATE changes no row."""
    token = served_ticket(session)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with Session(engine) as late:
        seen = late.get(RatingInvite, token)  # held, so `late` keeps reading it unused
        assert seen is not None and seen.rating_id is None
        first = take(session, token, Answer(4))
        refusal("used", lambda: take(late, token, Answer(2)))
        late.rollback()
    assert [r.id for r in web_ratings(session)] == [first]


def test_expired_revoked_and_unknown_links_are_refused(session: Session) -> None:
    token = served_ticket(session)
    later = NOW + timedelta(days=7)
    refusal("expired", lambda: web.invitation(session, token, later))
    refusal("expired", lambda: take(session, token, Answer(3), now=later))
    invite = session.get(RatingInvite, token)
    assert invite is not None
    invite.revoked_at = NOW
    session.add(invite)
    session.commit()
    gone = refusal("expired", lambda: web.invitation(session, token, NOW))
    assert gone.vi.startswith("Liên kết đã hết hạn")
    assert refusal("unknown", lambda: web.invitation(session, "nope", NOW)).status == 404
    assert web_ratings(session) == []


def test_a_card_link_is_flagged_given_to_the_officer_on_duty_and_limited(
    session: Session,
) -> None:
    token = card_invite(session, "DH-Q1", "DH", NOW).token
    session.commit()
    shown = web.invitation(session, token, NOW)
    assert (shown.card, shown.ticket, shown.officer_name) == (True, None, None)
    take(session, token, Answer(4), per_address=2)
    take(session, token, Answer(2, ("guidance",)), per_address=2)
    over = refusal("limit", lambda: take(session, token, Answer(3), per_address=2))
    assert over.status == 429 and "2 đánh giá" in over.vi
    session.rollback()
    ratings = web_ratings(session)
    assert [r.score for r in ratings] == [4, 2]
    assert {(r.flags, r.officer_id, r.reported_officer_id, r.ticket, r.input) for r in ratings} == {
        ("web_unverified", "CB-0042", None, None, "web")
    }
    # another address, and the same address on the next Vietnam day, may rate again
    take(session, token, Answer(3), address="198.51.100.7", per_address=2)
    tomorrow = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 00:00 on 4 December in Vietnam
    take(session, token, Answer(3), now=tomorrow, per_address=2)
    assert len(web_ratings(session)) == 4
    assert session.exec(select(WebSubmission)).all()[0].address == ADDRESS


def test_nobody_on_duty_leaves_a_card_rating_to_the_counter(session: Session) -> None:
    session.add(Counter(id="DH-Q2", name="Quầy 2", unit_id="DH"))
    session.commit()
    token = card_invite(session, "DH-Q2", "DH", NOW).token
    session.commit()
    take(session, token, Answer(3))
    [rating] = web_ratings(session)
    assert (rating.counter_id, rating.officer_id, rating.flags) == ("DH-Q2", None, "web_unverified")


def test_the_audit_log_records_the_rating_but_no_address(session: Session) -> None:
    take(session, served_ticket(session), Answer(4))
    card = card_invite(session, "DH-Q1", "DH", NOW).token
    session.commit()
    take(session, card, Answer(3))
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "rating.web")).all()
    assert len(events) == 2
    assert {e.actor for e in events} == {WEB_DEVICE}
    assert all(ADDRESS not in f"{e.detail} {e.target} {e.client}" for e in events)


def test_the_answer_is_checked() -> None:
    assert web.parse_score("1") == 1 and web.parse_score(" 4 ") == 4
    for bad in (None, "", "0", "5", "x", "-1", "1e3"):
        refusal("invalid", lambda bad=bad: web.parse_score(bad))
    answer = web.parse_answer(2, ["guidance", "wait_time"], "  Cần thêm ghế\r\nchờ  ")
    assert answer == Answer(2, ("wait_time", "guidance"), "Cần thêm ghế\nchờ")  # the list's order
    assert web.parse_answer(4, [], "   ") == Answer(4)
    refusal("invalid", lambda: web.parse_answer(1, ["bribe"], None))
    refusal("invalid", lambda: web.parse_answer(1, [], "x" * 501))
    refusal("invalid", lambda: web.parse_answer(1, [], "a\x00b"))
    assert web.parse_answer(1, [], "x" * 500).comment == "x" * 500
    assert [web.needs_reasons(level) for level in (1, 2, 3, 4)] == [True, True, False, False]
