"""The queue system's route: its ticket events, or an export of the tickets it served, posted
with an API token of the `services` scope (or by an admin user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hailong.errors import NotFound
from server.access import audit
from server.access.roles import Access
from server.access.tokens import Machine
from server.channels.queue import (
    QueuePost,
    apply_events,
    check_unit_limit,
    counters_of,
    tell_units,
)
from server.ingest.services import record_services
from server.web.api.deps import NowDep, QueueCaller, SessionDep, SettingsDep, client_address

services_api = APIRouter(prefix="/api/v1")
# Two requests made the same new ticket at once; nothing of this one was stored.
SAME_MOMENT = (
    "một yêu cầu khác vừa ghi cùng số thứ tự; hãy gửi lại, không có gì bị ghi trùng / another "
    "request stored the same ticket at the same moment; send this one again (it is safe)"
)


@services_api.post("/services")
def post_services(
    data: QueuePost,
    session: SessionDep,
    settings: SettingsDep,
    caller: QueueCaller,
    request: Request,
    now: NowDep,
) -> dict[str, Any]:
    """`events`: ticket events (issued, called, served), answered per event with the ticket's
    state, its rating link and whether the unit was told; `services`: tickets the queue system
    served, for the response rate. Either may be sent again: what is known already is kept.
    An unknown counter, unit or officer refuses the whole request (422), nothing written."""
    machine = caller if isinstance(caller, Machine) else None
    limit_unit = machine.unit_id if machine else None
    try:
        if data.events is None:
            items = data.services or []
            if limit_unit is not None:
                counters = counters_of(session, {i.counter_id for i in items})
                check_unit_limit(limit_unit, counters, set())
            result = record_services(session, items, now)
            stored = {"stored": result.stored, "duplicates": result.duplicates}
            _audit(request, session, caller, "services.import", stored, now)
            session.commit()
            return stored
        outcomes = apply_events(
            session,
            data.events,
            now=now,
            base_url=settings.public_url or str(request.base_url),
            link_days=settings.rating_link_days,
            limit_unit=limit_unit,
            token_id=machine.token_id if machine else None,
        )
        refused = sum(1 for o in outcomes if o.error)
        detail = {"events": len(data.events), "refused": refused}
        _audit(request, session, caller, "services.events", detail, now)
        session.commit()
    except NotFound as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, SAME_MOMENT) from None
    ingest = getattr(request.app.state, "ingest", None)
    tell_units(outcomes, ingest.publish_service if ingest is not None else None)
    return {
        "events": [o.answer() for o in outcomes],
        "errors": [{"index": o.index, "detail": o.error} for o in outcomes if o.error],
    }


def _audit(
    request: Request,
    session: Session,
    caller: Machine | Access,
    action: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """A token's writes are audited under `token:<name>`, a user's under their login."""
    if isinstance(caller, Machine):
        actor, role = caller.actor, None
    else:
        actor, role = caller.username, caller.role
    client = client_address(request)
    audit.record(session, actor, action, role=role, client=client, detail=detail, at=now)
