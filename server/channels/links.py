"""The citizen's rating links: one per served ticket (one rating, then it expires) and one per
counter for its printed QR card (no ticket, so its ratings are flagged `web_unverified`).

A link is `<base>/r/<token>`, the token 22 random URL-safe characters: ticket codes are
sequential (A-0153, A-0154 …), so a link made from them could be guessed and a stranger could
spend someone else's one rating.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from server.storage.channels import QueueTicket, RatingInvite

PATH = "/r/"  # where server/web/ serves the rating page of a token


def new_token() -> str:
    return secrets.token_urlsafe(16)


def rating_url(base: str, token: str) -> str:
    """The link as printed or sent: `base` is the public address (Settings.public_url) or,
    when that is empty, the address the request came to."""
    return f"{base.rstrip('/')}{PATH}{token}"


def ticket_invite(session: Session, ticket: QueueTicket, now: datetime, days: int) -> RatingInvite:
    """The ticket's link, made at the first call for it (when the queue system calls or serves
    it) and the same one after; the caller commits. It expires `days` after it was made, and
    carries the counter and officer the ticket was called to, which a phone rating takes."""
    if ticket.id is None:
        raise ValueError("store the ticket before making its link")
    found = session.exec(
        select(RatingInvite).where(col(RatingInvite.queue_ticket_id) == ticket.id)
    ).first()
    if found is not None:
        if ticket.counter_id and found.counter_id != ticket.counter_id:
            found.counter_id = ticket.counter_id
        if ticket.officer_id and found.officer_id != ticket.officer_id:
            found.officer_id = ticket.officer_id
        if ticket.served_at is not None:
            found.served_at = ticket.served_at
        session.add(found)
        return found
    if ticket.counter_id is None:
        raise ValueError("a ticket's link needs the counter that served it")
    invite = RatingInvite(
        token=new_token(),
        counter_id=ticket.counter_id,
        unit_id=ticket.unit_id,
        ticket=ticket.ticket,
        queue_ticket_id=ticket.id,
        officer_id=ticket.officer_id,
        served_at=ticket.served_at,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invite)
    return invite


def card_invite(session: Session, counter_id: str, unit_id: str, now: datetime) -> RatingInvite:
    """The counter's printed-card link: made once, the same on every reprint; the caller
    commits. Revoking it (a card stolen or misused) and printing again makes a new one."""
    found = session.exec(
        select(RatingInvite)
        .where(RatingInvite.counter_id == counter_id)
        .where(col(RatingInvite.ticket).is_(None))
        .where(col(RatingInvite.revoked_at).is_(None))
    ).first()
    if found is not None:
        return found
    invite = RatingInvite(token=new_token(), counter_id=counter_id, unit_id=unit_id, created_at=now)
    session.add(invite)
    return invite
