"""The fleet API: each unit's status and since when, who is on duty there, its backlog and
missing ratings, with the counts of each status (server/ingest/fleet.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from server.access.roles import SEE_FLEET, Access
from server.ingest.fleet import FleetView, fleet_view
from server.registry.fleet_status import STATUSES
from server.web.api.deps import NowDep, SessionDep, require_role
from server.web.api.routes import UnitFilter

fleet_api = APIRouter(prefix="/api/v1", tags=["fleet"])

FleetReader = Annotated[Access, Depends(require_role(SEE_FLEET))]


@fleet_api.get("/fleet")
def get_fleet(
    session: SessionDep,
    access: FleetReader,
    now: NowDep,
    unit_id: UnitFilter = None,
    status_: Annotated[
        str | None, Query(alias="status", description=f"only this status: {' | '.join(STATUSES)}")
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=200,
            description="device id, counter id or name, officer on duty; case and accents "
            "ignored (nguyen finds Nguyễn)",
        ),
    ] = None,
) -> FleetView:
    """Admin and hr see every unit, a unit_head their own (asking for another is refused);
    officers and viewers are refused: the view names who is on duty. `counts` stay those of the
    whole unit scope while `status` and `search` narrow the rows."""
    try:
        return fleet_view(
            session, now, unit_id=access.unit_scope(unit_id), status=status_, search=search
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
