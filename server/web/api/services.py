"""The queue system's services, posted by an administrator's integration (admin role)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, status

from hailong.errors import NotFound
from server.access import audit
from server.ingest.services import ServicesIn, record_services
from server.web.api.deps import AdminUser, SessionDep, client_address

services_api = APIRouter(prefix="/api/v1")


@services_api.post("/services")
def post_services(
    data: ServicesIn, session: SessionDep, access: AdminUser, request: Request
) -> dict[str, int]:
    """Tickets the queue system called, for the response rate; a ticket already posted for the
    same counter and Vietnam day is counted as a duplicate, so an export can be sent again."""
    try:
        result = record_services(session, data.services, datetime.now(UTC))
    except NotFound as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    audit.record_access(
        session,
        access,
        "services.import",
        client=client_address(request),
        detail={"stored": result.stored, "duplicates": result.duplicates},
    )
    session.commit()
    return {"stored": result.stored, "duplicates": result.duplicates}
