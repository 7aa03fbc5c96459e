"""API tokens for machine clients (a queue system), never for people: each opens only the
routes of its scope, may be limited to one unit, and is revoked at once.

The plain token is shown once, when it is made: `hlt_` and 32 random bytes, so a log line shows
it is a machine token and it is never taken for a login JWT. Only its SHA-256 is stored: the
token is random, so a fast hash is enough, and a copy of the database gives no working token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hailong.errors import NotFound, RegistryError
from server.access import audit
from server.storage.channels import TOKEN_SCOPES, ApiToken
from server.storage.models import Unit
from server.timeutil import utc

PREFIX = "hlt_"
# The routes each scope opens, as (method, path); every other route answers its token 403.
SCOPE_ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "services": (("POST", "/api/v1/services"),),
}
USED_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class TokenError(RegistryError):
    """A token that cannot be made as asked (its name or scope); the message says why."""


class TokenNameTaken(TokenError):
    """A token of that name exists (revoked ones too: a name stays in the audit log)."""


@dataclass(frozen=True)
class Machine:
    """Who a request carrying a valid token is: the token's name, scope and unit."""

    token_id: int
    name: str
    scope: str
    unit_id: str | None

    @property
    def actor(self) -> str:
        """The audit log's actor for what this token does."""
        return f"token:{self.name}"

    def routes_text(self) -> str:
        return ", ".join(f"{m} {p}" for m, p in SCOPE_ROUTES[self.scope])

    def allows(self, method: str, path: str) -> bool:
        return (method.upper(), path.rstrip("/") or "/") in SCOPE_ROUTES[self.scope]


def is_machine_token(value: str) -> bool:
    return value.startswith(PREFIX)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(
    session: Session,
    name: str,
    scope: str,
    unit_id: str | None,
    *,
    created_by: str,
    now: datetime,
    client: str | None = None,
    role: str | None = None,
) -> tuple[ApiToken, str]:
    """Make a token and commit it with its audit event; returns the row and the plain token,
    which is not kept anywhere and cannot be shown again."""
    if not NAME_RE.match(name):
        raise TokenError(
            f"tên mã truy cập {name!r} không hợp lệ: 1-64 ký tự A-Z a-z 0-9 . _ - / "
            "the token's name must be 1 to 64 characters of A-Z a-z 0-9 . _ -"
        )
    if scope not in TOKEN_SCOPES:
        raise TokenError(
            f"phạm vi {scope!r} không có; chọn một trong {', '.join(TOKEN_SCOPES)} / "
            f"unknown scope {scope!r}: use one of {', '.join(TOKEN_SCOPES)}"
        )
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFound(
            f"không có đơn vị {unit_id!r}; hãy tạo đơn vị trước / "
            f"unknown unit {unit_id!r}; create the unit first"
        )
    if session.exec(select(ApiToken.id).where(ApiToken.name == name)).first() is not None:
        raise TokenNameTaken(
            f"đã có mã truy cập tên {name!r}; thu hồi nó hoặc chọn tên khác / "
            f"a token named {name!r} exists already; revoke it or choose another name"
        )
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        scope=scope,
        unit_id=unit_id,
        token_hash=token_hash(plain),
        created_at=now,
        created_by=created_by,
    )
    session.add(row)
    audit.record(
        session,
        created_by,
        "api_token.create",
        role=role,
        target=name,
        client=client,
        detail={"scope": scope, "unit_id": unit_id},
        at=now,
    )
    session.commit()
    session.refresh(row)
    return row, plain


def list_tokens(session: Session) -> Sequence[ApiToken]:
    """Every token, newest first; the stored hash is the caller's to leave out."""
    return session.exec(select(ApiToken).order_by(col(ApiToken.created_at).desc())).all()


def revoke_token(
    session: Session,
    name: str,
    *,
    revoked_by: str,
    now: datetime,
    client: str | None = None,
    role: str | None = None,
) -> ApiToken:
    """Revoke a token from this moment (the next request with it gets 401); commits with its
    audit event. Revoking one already revoked keeps the first moment."""
    row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if row is None:
        raise NotFound(f"không có mã truy cập tên {name!r} / no token named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
        audit.record(
            session, revoked_by, "api_token.revoke", role=role, target=name, client=client, at=now
        )
        session.commit()
        session.refresh(row)
    return row


def machine_for(session: Session, token: str, now: datetime) -> Machine | None:
    """The machine a token is, None for one unknown or revoked; notes when it was used (at
    most once a minute, so a busy queue system does not write on every request)."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None or row.id is None:
        return None
    if row.last_used_at is None or now - utc(row.last_used_at) >= USED_EVERY:
        row.last_used_at = now
        session.add(row)
        session.commit()
    return Machine(row.id, row.name, row.scope, row.unit_id)
