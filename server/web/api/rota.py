"""The duty schedule's routes: rota rows, absences and the resolved roster.

Thin routes over server/registry/rota_writes.py and roster.py; every write is audited and
followed by a Config refresh, as the registry's other writes (server/web/api/routes.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from sqlmodel import SQLModel

from server.registry import rota_writes
from server.registry.roster import RosterShift, RosterSpanError, roster
from server.storage.models import Moment
from server.storage.schedule import Absence, AbsenceCreate, RotaCreate, RotaPublic
from server.web.api.deps import AdminUser, ReportUser, SessionDep
from server.web.api.routes import ID_MAX, UnitFilter, _record, _registry_call

rota_api = APIRouter(prefix="/api/v1")
RowId = Annotated[int, Path(ge=1, le=ID_MAX)]


class RotaPut(SQLModel):
    outcome: str  # "created", "updated" or "unchanged"
    rota: RotaPublic


@rota_api.post(
    "/rota",
    status_code=201,
    responses={
        200: {
            "description": "the row with the same counter, officer and `from` "
            "was updated, or was already the same (`outcome` says which)"
        }
    },
)
def put_rota(
    data: RotaCreate, session: SessionDep, access: AdminUser, request: Request, response: Response
) -> RotaPut:
    """Create a rota row, or update the one with the same counter, officer and `from`: sending
    the same row again changes nothing. 409 names the clash (an officer at two counters, a
    counter under two rotas) in Vietnam time."""
    target = f"{data.counter_id}/{data.officer_id}/{data.from_day.isoformat()}"
    _record(
        request, session, access, "rota.put", target, data.model_dump(mode="json", by_alias=True)
    )
    row, outcome = _registry_call(request, rota_writes.put_rota, session, data)
    if outcome != "created":
        response.status_code = status.HTTP_200_OK
    return RotaPut(outcome=outcome, rota=rota_writes.rota_public(row))


@rota_api.get("/rota")
def list_rota(
    session: SessionDep,
    access: ReportUser,
    unit_id: UnitFilter = None,
    counter_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[RotaPublic]:
    rows = rota_writes.list_rota(session, access.unit_scope(unit_id), counter_id)
    return [rota_writes.rota_public(r) for r in rows]


@rota_api.delete("/rota/{rota_id}")
def delete_rota(
    rota_id: RowId, session: SessionDep, access: AdminUser, request: Request
) -> RotaPublic:
    """Removes the row with its past shifts; to stop a rota from a day on, send it again with
    that day as `to`."""
    _record(request, session, access, "rota.delete", str(rota_id))
    return rota_writes.rota_public(
        _registry_call(request, rota_writes.delete_rota, session, rota_id)
    )


@rota_api.post("/absences", status_code=201)
def add_absence(
    data: AbsenceCreate, session: SessionDep, access: AdminUser, request: Request
) -> Absence:
    """Leave (`officer_id`), a unit's day off (`unit_id`) or a public holiday (neither): rota
    shifts inside it do not happen; one-off assignments still do."""
    target = data.officer_id or data.unit_id or "*"
    _record(request, session, access, "absence.create", target, data.model_dump(mode="json"))
    return _registry_call(request, rota_writes.add_absence, session, data)


@rota_api.get("/absences")
def list_absences(
    session: SessionDep, access: ReportUser, unit_id: UnitFilter = None
) -> list[Absence]:
    return list(rota_writes.list_absences(session, access.unit_scope(unit_id)))


@rota_api.delete("/absences/{absence_id}")
def delete_absence(
    absence_id: RowId, session: SessionDep, access: AdminUser, request: Request
) -> Absence:
    _record(request, session, access, "absence.delete", str(absence_id))
    return _registry_call(request, rota_writes.delete_absence, session, absence_id)


@rota_api.get("/roster")
def get_roster(
    session: SessionDep,
    access: ReportUser,
    start: Annotated[Moment, Query(description="from this moment (with offset)")],
    end: Annotated[Moment, Query(description="to this moment (with offset), at most 62 days on")],
    unit_id: UnitFilter = None,
) -> list[RosterShift]:
    """Who is at each of the unit's counters between start and end: one-off assignments over
    rota shifts, less leave, days off and holidays; `source` says which."""
    scope = access.unit_scope(unit_id)
    if scope is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "unit_id: chọn một đơn vị; give the unit whose roster you want",
        )
    try:
        return roster(session, scope, start, end)
    except RosterSpanError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
