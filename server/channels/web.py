"""The citizen's phone: what a rating link (`/r/<token>`) shows and the one rating it takes.

A ticket's link is worth one rating: the invite is marked used by a conditional UPDATE (…
WHERE rating_id IS NULL) in the same transaction that stores the rating, so a second
submission, even one racing the first, changes no row and is refused; so is a ticket the
citizen already rated at the counter's unit (its rating carries the same ticket). The rating
goes to the counter and officer the ticket was called to (when the queue system named no
officer, whoever the roster had there when it was served), with the ticket's code.

A counter's printed card has no ticket, so anyone at the counter (or with a photo of the card)
can rate through it: its ratings are flagged `web_unverified`, go to the officer on duty at the
counter now, and one address may give only `per_address` of them per counter and Vietnam day.
The address is kept in `web_submission` for that count alone; it is never written to the audit
log, which records only that a phone rating was taken, for which counter and ticket.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import CursorResult, func, or_, update
from sqlmodel import Session, col, select

from hailong.errors import HailongError
from hailong.protocol import SCALES
from server.access import audit
from server.channels.ratings import ChannelRating, officer_on_duty, store_channel_ratings
from server.ingest.store import IngestRules
from server.storage.channels import WEB_DEVICE, RatingInvite, WebSubmission
from server.storage.models import Counter, Officer, Rating, Unit
from server.storage.reasons import REASONS, reason_codes
from server.timeutil import utc, vn_day, vn_day_start

SCALE = "vn4"  # the unit's scale: 1 Không hài lòng · 2 Bình thường · 3 Hài lòng · 4 Rất hài lòng
COMMENT_MAX = 500
CARD_FLAG = "web_unverified"
ACTOR = WEB_DEVICE  # the audit log's actor for a phone rating: no person is known


class LinkRefused(HailongError):
    """Why a link shows no rating form or refused a rating, in words for the citizen
    (Vietnamese, then English) and the HTTP status the page is sent with."""

    def __init__(self, kind: str, status: int, vi: str, en: str) -> None:
        super().__init__(f"{vi} · {en}")
        self.kind = kind
        self.status = status
        self.vi = vi
        self.en = en


def unknown() -> LinkRefused:
    return LinkRefused(
        "unknown",
        404,
        "Không tìm thấy liên kết đánh giá này. Xin quý khách kiểm tra lại địa chỉ hoặc quét "
        "lại mã QR.",
        "This rating link was not found. Please check the address or scan the QR code again.",
    )


def expired() -> LinkRefused:
    return LinkRefused(
        "expired",
        410,
        "Liên kết đã hết hạn. Quý khách có thể đánh giá bằng thiết bị tại quầy hoặc mã QR "
        "dán tại quầy.",
        "This link has expired. You can rate on the device at the counter or with the QR "
        "card on the counter.",
    )


def used() -> LinkRefused:
    return LinkRefused(
        "used",
        409,
        "Giao dịch này đã được đánh giá. Xin cảm ơn!",
        "This transaction has already been rated. Thank you!",
    )


def over_limit(per_address: int) -> LinkRefused:
    return LinkRefused(
        "limit",
        429,
        f"Hôm nay quý khách đã gửi {per_address} đánh giá qua mã QR của quầy này. "
        "Xin cảm ơn, mời quý khách quay lại vào ngày khác.",
        f"You have already sent {per_address} ratings through this counter's QR card today. "
        "Thank you; please come back another day.",
    )


def invalid(vi: str, en: str) -> LinkRefused:
    return LinkRefused("invalid", 422, vi, en)


@dataclass(frozen=True)
class Invitation:
    """What the page shows above the buttons."""

    token: str
    unit_name: str
    counter_name: str
    ticket: str | None  # None: a counter's printed card
    officer_name: str | None

    @property
    def card(self) -> bool:
        return self.ticket is None


@dataclass(frozen=True)
class Answer:
    """The citizen's answer, checked: a level of the scale, known reason codes, a comment."""

    score: int
    reasons: tuple[str, ...] = ()
    comment: str | None = None


def _usable(invite: RatingInvite | None, now: datetime) -> RatingInvite:
    if invite is None:
        raise unknown()
    if invite.revoked_at is not None:
        raise expired()
    if invite.expires_at is not None and utc(invite.expires_at) <= now:
        raise expired()
    if invite.rating_id is not None:
        raise used()
    return invite


def rated_at_counter(session: Session, invite: RatingInvite, now: datetime) -> str | None:
    """The id of a rating the citizen already gave for this ticket at the counter's unit, if
    any: one transaction is rated once, whichever way, or the response rate (rated ÷ served)
    would count it twice. Read through the counter's days since the link was made, which the
    (counter_id, day) index serves."""
    if invite.ticket is None:
        return None
    made = utc(invite.created_at)
    found = session.exec(
        select(Rating.id)
        .where(Rating.counter_id == invite.counter_id)
        .where(col(Rating.day) >= vn_day(made - timedelta(days=1)))
        .where(col(Rating.day) <= vn_day(now))
        .where(Rating.ticket == invite.ticket)
        .where(Rating.input != "web")
    ).first()
    return found


def invitation(session: Session, token: str, now: datetime) -> Invitation:
    """The link's page facts; refused when unknown, revoked or expired, or a used ticket
    (rated through this link or at the counter's unit)."""
    invite = _usable(session.get(RatingInvite, token), now)
    if rated_at_counter(session, invite, now) is not None:
        raise used()
    unit = session.get(Unit, invite.unit_id)
    counter = session.get(Counter, invite.counter_id)
    officer_name = None
    if invite.ticket is not None and invite.officer_id is not None:
        officer = session.get(Officer, invite.officer_id)
        officer_name = officer.name if officer else None
    return Invitation(
        token=invite.token,
        unit_name=unit.name if unit else invite.unit_id,
        counter_name=counter.name if counter else invite.counter_id,
        ticket=invite.ticket,
        officer_name=officer_name,
    )


def needs_reasons(score: int) -> bool:
    """Không hài lòng and Bình thường ask for reasons, as on the unit."""
    return not SCALES[SCALE].is_satisfied(score)


def parse_score(score: str | None) -> int:
    """The level the citizen tapped; refused when it is not one of the scale's."""
    size = SCALES[SCALE].size
    text = (score or "").strip()
    level = int(text) if text.isdigit() and len(text) < 3 else 0
    if not 1 <= level <= size:
        raise invalid(
            f"Xin quý khách chọn một mức đánh giá từ 1 đến {size}.",
            f"Please choose a rating from 1 to {size}.",
        )
    return level


def parse_answer(level: int, reasons: list[str], comment: str | None) -> Answer:
    """The reasons page's fields with the level; refused with what to do when one is wrong."""
    unknown_codes = [code for code in reasons if code not in reason_codes()]
    if unknown_codes:
        raise invalid(
            "Lý do không có trong danh sách; xin quý khách chọn lại.",
            "A reason is not on the list; please choose again.",
        )
    text = (comment or "").replace("\r\n", "\n").strip()
    if len(text) > COMMENT_MAX:
        raise invalid(
            f"Góp ý dài quá {COMMENT_MAX} ký tự ({len(text)}); xin quý khách rút gọn.",
            f"The comment is longer than {COMMENT_MAX} characters ({len(text)}); "
            "please shorten it.",
        )
    if any(not (ch.isprintable() or ch == "\n") for ch in text):
        raise invalid(
            "Góp ý có ký tự không in được; xin quý khách viết lại.",
            "The comment has characters that cannot be printed; please write it again.",
        )
    ordered = tuple(r.code for r in REASONS if r.code in set(reasons))
    return Answer(level, ordered, text or None)


def _mark_used(session: Session, token: str, rating_id: str, now: datetime) -> bool:
    """Claim the ticket's one rating; False when another submission already has it."""
    claim = (
        update(RatingInvite)
        .where(col(RatingInvite.token) == token)
        .where(col(RatingInvite.rating_id).is_(None))
        .where(col(RatingInvite.revoked_at).is_(None))
        .where(or_(col(RatingInvite.expires_at).is_(None), col(RatingInvite.expires_at) > now))
        .values(rating_id=rating_id)
    )
    result: CursorResult[tuple[()]] = session.exec(claim)
    return result.rowcount == 1


def card_ratings_today(session: Session, counter_id: str, address: str, now: datetime) -> int:
    since = vn_day_start(vn_day(now)).astimezone(UTC)
    found = session.exec(
        select(func.count())
        .select_from(WebSubmission)
        .where(WebSubmission.counter_id == counter_id)
        .where(WebSubmission.address == address)
        .where(col(WebSubmission.at) >= since)
    ).one()
    return int(found)


def take_rating(
    session: Session,
    rules: IngestRules,
    token: str,
    answer: Answer,
    *,
    address: str,
    now: datetime,
    per_address: int,
) -> str:
    """Store the link's rating and return its id; the caller commits. Refused (nothing
    stored) when the link cannot take it: unknown, expired, a ticket already rated, or a card
    over its limit for this address today."""
    now = now.astimezone(UTC)
    invite = _usable(session.get(RatingInvite, token), now)
    rating_id = str(uuid.uuid4())
    if invite.ticket is not None:
        if rated_at_counter(session, invite, now) is not None:
            raise used()
        if not _mark_used(session, token, rating_id, now):
            raise used()
        reported = invite.officer_id
        # a queue system that does not know officers: whoever sat at the counter when served
        served = utc(invite.served_at or invite.created_at)
        officer_id = reported or officer_on_duty(session, invite.counter_id, served)
        flags: tuple[str, ...] = ()
    else:
        address = address[:64]
        if card_ratings_today(session, invite.counter_id, address, now) >= per_address:
            raise over_limit(per_address)
        submission = WebSubmission(
            counter_id=invite.counter_id, address=address, at=now, rating_id=rating_id
        )
        session.add(submission)
        officer_id = officer_on_duty(session, invite.counter_id, now)
        reported = None  # the card names nobody
        flags = (CARD_FLAG,)
    rating = ChannelRating(
        id=rating_id,
        input="web",
        unit_id=invite.unit_id,
        counter_id=invite.counter_id,
        rated_at=now,
        scale=SCALE,
        score=answer.score,
        officer_id=officer_id,
        reported_officer_id=reported,
        ticket=invite.ticket,
        reasons=answer.reasons,
        comment=answer.comment,
        flags=flags,
    )
    store_channel_ratings(session, rules, [rating], now)
    audit.record(
        session,
        ACTOR,
        "rating.web",
        target=rating_id,
        detail={"counter_id": invite.counter_id, "ticket": invite.ticket},
        at=now,
    )
    return rating_id
