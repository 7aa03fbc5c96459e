"""The audit log: who did what, when and from where, for every write, export and login.

Rows are only ever added (the database refuses UPDATE and DELETE on `audit_event`), in the same
transaction as the change they describe, so a change and its record commit or fail together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from server.models import AuditEvent

SYSTEM = "system"  # the actor of what the server does by itself (chain anchors, alerts)


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
    """Add one event to the session; the caller commits it with the change it describes."""
    event = AuditEvent(
        at=at or datetime.now(UTC),
        actor=actor[:64],
        role=role,
        action=action[:64],
        target=None if target is None else target[:200],
        client=None if client is None else client[:64],
        detail=json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
    )
    session.add(event)
    return event
