"""Users, password hashes (Argon2) and login tokens (signed JWTs that expire)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlmodel import Session, select

from hailong.errors import NotFound, RegistryError
from server.models import ROLES, Unit, User

_hasher = PasswordHasher()
ALGORITHM = "HS256"


class AuthError(Exception):
    """A login or token that is not good; the message is safe to show."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(
    session: Session, username: str, password: str, role: str, unit_id: str | None = None
) -> User:
    if role not in ROLES:
        raise RegistryError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < 8:
        raise RegistryError("the password must have at least 8 characters")
    if role == "unit_head" and unit_id is None:
        raise RegistryError("a unit_head needs --unit UNIT_ID")
    if role == "admin" and unit_id is not None:
        raise RegistryError("an admin is not limited to a unit: leave --unit out")
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFound(f"unknown unit {unit_id!r}; create the unit first")
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, password_hash="", role=role, created_at=datetime.now(UTC))
    user.password_hash = hash_password(password)
    user.role = role
    user.unit_id = unit_id
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


def issue_token(user: User, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "role": user.role,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def user_from_token(session: Session, token: str, secret: str) -> User:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.ExpiredSignatureError:
        raise AuthError("the login has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise AuthError("not a valid login token") from None
    user = session.exec(select(User).where(User.username == claims.get("sub"))).first()
    if user is None:
        raise AuthError("the user of this token no longer exists")
    return user
