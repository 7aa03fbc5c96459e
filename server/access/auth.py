"""Users, password hashes (Argon2), login tokens (signed JWTs that expire) and the login
slow-down, which counts the failures in the audit log so that it holds across processes."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
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

# Failed logins slow down the next attempt, per username and per client address, by a delay that
# doubles with each recent failure: 0, 0, 1, 2, 4 … s per user, capped, so that an outsider can
# slow the real admin down by at most MAX_LOGIN_DELAY but never lock them out. An address gets
# more free failures because a whole commune office may share one. "Recent" is within the window.
FREE_FAILURES_PER_USER = 2
FREE_FAILURES_PER_CLIENT = 5
MAX_LOGIN_DELAY = timedelta(seconds=30)
FAILED_LOGIN_WINDOW = timedelta(minutes=15)


class AuthError(Exception):
    """A login or token that is not good; the message is safe to show."""


class TooManyLogins(AuthError):
    """Refused without looking at the password: the delay after recent failures has not passed
    (HTTP 429)."""

    def __init__(self, whose: str, retry_after: timedelta) -> None:
        self.whose = whose  # "for this user" or "from this address"
        self.retry_after_s = max(1, math.ceil(retry_after.total_seconds()))
        seconds = self.retry_after_s
        super().__init__(
            f"too many failed logins {whose}; try again in {seconds} "
            f"second{'s' if seconds != 1 else ''}"
        )


def login_delay(failures: int, free: int) -> timedelta:
    """How long after the last of `failures` recent failures the next attempt must wait:
    nothing for the first `free`, then 1, 2, 4 … s, at most MAX_LOGIN_DELAY."""
    if failures <= free:
        return timedelta(0)
    doublings = min(failures - free - 1, 16)  # 2**16 s is far past the cap
    return min(MAX_LOGIN_DELAY, timedelta(seconds=2**doublings))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of no one's password, made with the hasher's own cost, checked for a name that is
    no user's so that it takes as long as a known one and does not tell which names exist."""
    return hasher.hash(secrets.token_urlsafe(16))


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    unit_id: str | None = None,
    officer_id: str | None = None,
    *,
    full_name: str | None = None,
) -> User:
    """Add a user or reset an existing one; an officer's login takes the officer's unit.
    `full_name` None keeps a reset user's name ("" clears it). Commits, with whatever the
    caller added to the session (its audit event)."""
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
    if full_name is not None:
        user.full_name = full_name.strip() or None
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(
    session: Session, username: str, password: str, hasher: PasswordHasher = _hasher
) -> User:
    """The user with this name and password; one Argon2 verification whether the name is known
    or not."""
    user = session.exec(select(User).where(User.username == username)).first()
    try:
        hasher.verify(_dummy_hash(hasher) if user is None else user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        raise AuthError("wrong username or password") from None
    if user is None:  # only if someone guessed the random dummy password
        raise AuthError("wrong username or password")
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


# Failures past the free ones after which the delay is at its cap: older ones change nothing.
_CAPPED_AFTER = next(n for n in range(1, 64) if login_delay(n, 0) >= MAX_LOGIN_DELAY)


def unknown_name_mark(username: str, secret_key: str) -> str:
    """What a failed login with a name that is no user's records as its target: a keyed digest,
    so that such a name is slowed down like a known one (else the delay would tell which names
    exist) without the log keeping the name, which is often a password typed in the wrong box."""
    digest = hmac.new(secret_key.encode(), username.encode(), hashlib.sha256).hexdigest()
    return f"name:{digest[:24]}"


def _refuse_if_throttled(
    session: Session, whose_name: ColumnElement[bool], client: str | None, now: datetime
) -> None:
    checks = [("for this user", FREE_FAILURES_PER_USER, whose_name)]
    if client is not None:
        checks.append(
            ("from this address", FREE_FAILURES_PER_CLIENT, col(AuditEvent.client) == client)
        )
    for whose, free, matching in checks:
        failures = _failures(session, now - FAILED_LOGIN_WINDOW, matching, free + _CAPPED_AFTER)
        if failures:
            allowed_at = failures[0] + login_delay(len(failures), free)
            if now < allowed_at:
                raise TooManyLogins(whose, allowed_at - now)


def login(
    session: Session,
    username: str,
    password: str,
    *,
    client: str | None,
    now: datetime,
    secret_key: str,
    hasher: PasswordHasher = _hasher,
) -> User:
    """Check a login and commit its audit event (`login.ok`, `login.failed`, or
    `login.throttled` when refused because the delay after recent failures has not passed;
    never the password).

    A failure counts for FAILED_LOGIN_WINDOW from when it happened, whatever happens after: a
    success does not wipe it, so a guesser who also knows one good password cannot use it to
    reset the count of another account or of their address. A refused attempt is not a
    failure: it checks no password, so it does not lengthen the delay. A correct password
    once the delay has passed always logs in, so nobody can lock another user out.

    A name that is no user's is recorded as UNKNOWN_USER: it is often a password typed into
    the wrong box. It is counted by its keyed digest (unknown_name_mark), so it is slowed down
    and checked exactly as a known name is and answers give away no list of users."""
    known = session.exec(select(User.id).where(User.username == username)).first() is not None
    mark = None if known else unknown_name_mark(username, secret_key)
    whose_name = (
        col(AuditEvent.actor) == username
        if known
        else (col(AuditEvent.actor) == audit.UNKNOWN_USER) & (col(AuditEvent.target) == mark)
    )
    try:
        _refuse_if_throttled(session, whose_name, client, now)
        user = authenticate(session, username, password, hasher)
    except AuthError as exc:
        action = audit.LOGIN_THROTTLED if isinstance(exc, TooManyLogins) else audit.LOGIN_FAILED
        actor = username if known else audit.UNKNOWN_USER
        audit.record(session, actor, action, target=mark, client=client, at=now)
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
