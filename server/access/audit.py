"""The audit log: who did what, when and from where, for every write, export and login.

Rows are only ever added (the database refuses UPDATE and DELETE on `audit_event`), in the same
transaction as the change they describe, so a change and its record commit or fail together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.access.roles import Access
from server.storage.models import AuditEvent, AuditEventPublic

SYSTEM = "system"  # the actor of what the server does by itself (chain anchors, alerts)
CONSOLE = "console"  # the actor of `hailong` commands: whoever has a shell on the server

LOGIN_OK = "login.ok"
LOGIN_FAILED = "login.failed"  # the actor is the username tried, or UNKNOWN_USER
UNKNOWN_USER = "(unknown user)"  # a failed login's name that is no user's: maybe a password
LOGIN_THROTTLED = "login.throttled"  # refused by the rate limit before the password was checked
LOGOUT = "logout"  # the login's token is revoked (server/access/sessions.py)

_SECRET_WORDS = ("password", "secret", "token")


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    role: str | None = None,
    target: str | None = None,
    client: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event to the session; the caller commits it with the change it describes.

    A `detail` key that names a password, secret or token is refused: the log is read by every
    admin and kept forever, so no secret may reach it, even by a careless `model_dump()`."""
    event = AuditEvent(
        at=at or datetime.now(UTC),
        actor=actor[:64],
        role=role,
        action=action[:64],
        target=None if target is None else target[:200],
        client=None if client is None else client[:64],
        detail=_encode(detail),
    )
    session.add(event)
    return event


def _encode(detail: Mapping[str, Any] | None) -> str:
    """`detail` as stored: canonical JSON, so equal details are equal text."""
    for key in detail or {}:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise ValueError(f"audit detail {key!r} looks like a secret; leave it out")
    return json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str)


def record_access(
    session: Session,
    access: Access,
    action: str,
    *,
    target: str | None = None,
    client: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """`record` for a logged-in user: their username and role are the actor's."""
    return record(
        session,
        access.username,
        action,
        role=access.role,
        target=target,
        client=client,
        detail=detail,
    )


def record_access_once(
    session: Session,
    access: Access,
    action: str,
    *,
    within: timedelta,
    target: str | None = None,
    client: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """`record_access`, unless this user's same action on the same target with the same detail
    was recorded in the last `within`: then that event, as it is the same thing seen again (a
    screen redrawn, re-sorted or reopened), and the log keeps one event for it."""
    since = datetime.now(UTC) - within
    same = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.action) == action[:64],
            col(AuditEvent.at) >= since,
            col(AuditEvent.actor) == access.username[:64],
            col(AuditEvent.role) == access.role,
            col(AuditEvent.target) == (None if target is None else target[:200]),
            col(AuditEvent.detail) == _encode(detail),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    if same is not None:
        return same
    return record_access(session, access, action, target=target, client=client, detail=detail)


def events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEventPublic]:
    """Newest (highest id) first; `action` is a prefix ("login." for every login), `before_id`
    the smallest id of the previous page."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if action is not None:
        query = query.where(col(AuditEvent.action).startswith(action, autoescape=True))
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    if until is not None:
        query = query.where(col(AuditEvent.at) < until)
    if before_id is not None:
        query = query.where(col(AuditEvent.id) < before_id)
    return [
        AuditEventPublic.model_validate({**event.model_dump(), "detail": json.loads(event.detail)})
        for event in session.exec(query)
    ]
