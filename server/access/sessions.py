"""Logins that end before their token expires: logging out lists the token's id (`jti`) as
revoked, every authenticated request refuses a listed token, and an hourly job forgets the ids
of tokens that have expired anyway (an expired token is refused by its signature check)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from server.jobs import Job
from server.storage.models import RevokedToken

log = logging.getLogger("hailong.access")
PRUNE_EVERY_S = 3600.0


def new_token_id() -> str:
    """A fresh token id: 128 random bits, so no two logins share one."""
    return secrets.token_urlsafe(16)


def revoke(session: Session, token_id: str, expires_at: datetime) -> None:
    """List a token as logged out until `expires_at`; logging out twice is harmless. Added to
    the session: the caller commits."""
    if session.get(RevokedToken, token_id) is None:
        session.add(RevokedToken(jti=token_id, expires_at=expires_at))


def is_revoked(session: Session, token_id: str) -> bool:
    return session.get(RevokedToken, token_id) is not None


def prune(session: Session, now: datetime) -> int:
    """Forget the revoked tokens that have expired by `now`; commits, returns how many."""
    gone = session.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) <= now))
    session.commit()
    return int(getattr(gone, "rowcount", 0) or 0)


def prune_job() -> Job:
    """Hourly; safe in several processes at once (a row deleted twice is deleted once)."""

    def run(session: Session, now: datetime) -> None:
        gone = prune(session, now)
        if gone:
            log.info("forgot %d revoked login token(s) that have expired", gone)

    return Job("sessions.prune", PRUNE_EVERY_S, run)
