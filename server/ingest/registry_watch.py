"""Registry writes made by another process, seen by the ingest so the units' Configs follow
within seconds.

In a province's layout the API runs without ingest (`HAILONG_INGEST=false`) beside separate
ingest processes, so a device registered or an officer moved through the API cannot ask the
ingest to republish Configs, and units waited for the ingest's periodic refresh (a minute).
Every registry write is audited in the same transaction, so the audit log is the signal: the
ingest reads the events added since it last looked (a primary-key range, a handful of rows) and
refreshes when one of them is a registry write. No new table, and nothing to keep in step.
"""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from server.storage.models import AuditEvent

# Audit actions of registry writes (server/web/api/, the dashboard's forms, the import).
REGISTRY_PREFIXES = (
    "unit.",
    "field.",
    "officer.",
    "counter.",
    "assignment.",
    "device.",
    "rota.",
    "absence.",
    "registry.",
)
log = logging.getLogger("hailong.ingest")
MAX_ROWS = 5000  # read at most this many new events per look; more is surely a change


class RegistryWatch:
    """Says whether the registry was written since the last look; the first look says yes, as
    writes made between the process's start and that look would otherwise go unseen."""

    def __init__(self) -> None:
        self.seen: int | None = None

    def changed(self, session: Session) -> bool:
        if self.seen is None:
            self.seen = int(session.exec(select(func.max(AuditEvent.id))).one() or 0)
            return True
        rows = session.exec(
            select(AuditEvent.id, AuditEvent.action)
            .where(col(AuditEvent.id) > self.seen)
            .order_by(col(AuditEvent.id))
            .limit(MAX_ROWS)
        ).all()
        if not rows:
            return False
        self.seen = int(rows[-1][0] or self.seen)
        return len(rows) == MAX_ROWS or any(
            action.startswith(REGISTRY_PREFIXES) for _, action in rows
        )

    def written(self, engine: Engine) -> bool:
        """`changed`, in its own session; a database that is down is logged and says no (the
        periodic refresh still comes)."""
        try:
            with Session(engine) as session:
                return self.changed(session)
        except SQLAlchemyError as exc:
            log.error("could not read the audit log for registry writes: %s", type(exc).__name__)
            return False
