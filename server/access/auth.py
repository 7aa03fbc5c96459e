"""Users, password hashes (Argon2), login tokens (signed JWTs that expire) and the login
rate limit, which counts the failures in the audit log so that it holds across processes."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from hailong.errors import NotFound, RegistryError
from server.access import audit, sessions
from server.storage.models import ROLES, AuditEvent, Officer, Unit, User, user_scope_problem

_hasher = PasswordHasher()
ALGORITHM = "HS256"

# At most this many failed logins within FAILED_LOGIN_WINDOW, per username and per client address;
# the address limit is higher because a whole commune office may share one.
MAX_FAILED_LOGINS_PER_USER = 5
MAX_FAILED_LOGINS_PER_CLIENT = 20
FAILED_LOGIN_WINDOW = timedelta(minutes=15)


class AuthError(Exception):
    """A login or token that is not good; the message is safe to show."""


class TooManyLogins(AuthError):
    """Refused without looking at the password: too many recent failures (HTTP 429)."""

    def __init__(self, whose: str, retry_after: timedelta) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after.total_seconds()))
        minutes = math.ceil(self.retry_after_s / 60)
        super().__init__(
            f"too many failed logins {whose}; try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    unit_id: str | None = None,
    officer_id: str | None = None,
) -> User:
    """Add a user or reset an existing one; an officer's login takes the officer's unit.
    Commits, with whatever the caller added to the session (its audit event)."""
    if role not in ROLES:
        raise RegistryError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < 8:
        raise RegistryError("the password must have at least 8 characters")
    problem = user_scope_problem(role, unit_id, officer_id, unit="--unit", officer="--officer")
    if problem is not None:
        raise RegistryError(problem)
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFound(f"unknown unit {unit_id!r}; create the unit first")
    if officer_id is not None:
        officer = session.get(Officer, officer_id)
        if officer is None:
            raise NotFound(f"unknown officer {officer_id!r}; create the officer first")
        unit_id = officer.unit_id
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, password_hash="", role=role, created_at=datetime.now(UTC))
    user.password_hash = hash_password(password)
    user.role = role
    user.unit_id = unit_id
    user.officer_id = officer_id
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    try:
        if user is None:
            raise VerifyMismatchError
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        raise AuthError("wrong username or password") from None
    return user


def _failures(
    session: Session, since: datetime, whose: ColumnElement[bool], limit: int
) -> list[datetime]:
    """When the last `limit` failed logins since `since` that `whose` matches happened."""
    query = (
        select(AuditEvent.at)
        .where(AuditEvent.action == audit.LOGIN_FAILED, col(AuditEvent.at) > since, whose)
        .order_by(col(AuditEvent.at).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def _refuse_if_throttled(
    session: Session, username: str | None, client: str | None, now: datetime
) -> None:
    limits = []
    if username is not None:
        limits.append(
            ("for this user", MAX_FAILED_LOGINS_PER_USER, col(AuditEvent.actor) == username)
        )
    if client is not None:
        limits.append(
            ("from this address", MAX_FAILED_LOGINS_PER_CLIENT, col(AuditEvent.client) == client)
        )
    for whose, limit, matching in limits:
        failures = _failures(session, now - FAILED_LOGIN_WINDOW, matching, limit)
        if len(failures) == limit:
            # allowed again once the oldest of these ages out of the window
            raise TooManyLogins(whose, failures[-1] + FAILED_LOGIN_WINDOW - now)


def login(
    session: Session, username: str, password: str, *, client: str | None, now: datetime
) -> User:
    """Check a login and commit its audit event (`login.ok`, `login.failed`, or
    `login.throttled` when refused by the rate limit; never the password).

    A failure counts against the limit for FAILED_LOGIN_WINDOW from when it happened, whatever
    happens after: a success does not wipe it. So the rule stays one sentence (at most 5
    failures per user and 20 per address in any 15 minutes), and a guesser who also knows one
    good password cannot use it to reset the count of another account or of their address.

    A name that is no user's is recorded as UNKNOWN_USER: it is often a password typed into
    the wrong box. Such names have no count of their own, only their address's."""
    known = session.exec(select(User.id).where(User.username == username)).first() is not None
    try:
        _refuse_if_throttled(session, username if known else None, client, now)
        user = authenticate(session, username, password)
    except AuthError as exc:
        action = audit.LOGIN_THROTTLED if isinstance(exc, TooManyLogins) else audit.LOGIN_FAILED
        actor = username if known else audit.UNKNOWN_USER
        audit.record(session, actor, action, client=client, at=now)
        session.commit()
        raise
    audit.record(session, user.username, audit.LOGIN_OK, role=user.role, client=client, at=now)
    session.commit()
    return user


def _password_mark(user: User) -> str:
    """Changes with the password, so a reset ends the logins made with the old one; a digest of
    the (salted) hash, useless for guessing the password."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue_token(user: User, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "pwd": _password_mark(user),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "jti": sessions.new_token_id(),  # what logging out revokes
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _claims(token: str, secret: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "jti"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the login has expired; log in again") from None
    except jwt.MissingRequiredClaimError:
        # issued before logins could be ended by logging out
        raise AuthError("this login token is from an older version; log in again") from None
    except jwt.InvalidTokenError:
        raise AuthError("not a valid login token") from None
    if not isinstance(claims["jti"], str):
        raise AuthError("not a valid login token")
    return claims


def user_from_token(session: Session, token: str, secret: str) -> User:
    claims = _claims(token, secret)
    if sessions.is_revoked(session, claims["jti"]):
        raise AuthError("this login has been logged out; log in again")
    user = session.exec(select(User).where(User.username == claims.get("sub"))).first()
    if user is None:
        raise AuthError("the user of this token no longer exists")
    if claims.get("pwd") != _password_mark(user):
        raise AuthError("the password has changed since this login; log in again")
    return user


def logout(session: Session, token: str, secret: str, *, client: str | None) -> str | None:
    """End the login of `token` on the server, for every holder of a copy, and audit it
    (`logout`); commits. The username, or None for a token that is no valid login anyway."""
    try:
        claims = _claims(token, secret)
    except AuthError:
        return None
    expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    sessions.revoke(session, claims["jti"], expires_at)
    username = str(claims.get("sub", ""))
    audit.record(session, username, audit.LOGOUT, client=client)
    session.commit()
    return username
