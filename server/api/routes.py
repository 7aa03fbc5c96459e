"""The HTTP API: thin routes over registry, auth and report functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import AwareDatetime
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from hailong.errors import BrokerError, NotFound, RegistryError, UnknownId
from server import registry, reports
from server.api.deps import AdminUser, ReportUser, SessionDep, SettingsDep
from server.auth import AuthError, authenticate, issue_token
from server.models import (
    AssignmentCreate,
    AssignmentPublic,
    AssignmentUpdate,
    CounterCreate,
    CounterPublic,
    Device,
    DeviceCreate,
    DeviceProvisioned,
    Officer,
    OfficerCreate,
    OfficerUpdate,
    RejectedMessage,
    ServiceField,
    ServiceFieldCreate,
    Unit,
    UnitCreate,
    User,
    UserCreate,
    UserPublic,
)

router = APIRouter()
api = APIRouter(prefix="/api/v1")

UnitFilter = Annotated[
    str | None, Query(description="only this unit's (a unit_head always sees only their own)")
]


@contextmanager
def _registry_errors() -> Iterator[None]:
    """The path's record missing: 404; a reference in the body missing: 422; a rule: 409."""
    try:
        yield
    except UnknownId as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except NotFound as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except RegistryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except BrokerError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


def _registry_call(request: Request, fn: Any, *args: Any) -> Any:
    """A registry write; once it succeeded, the units' Configs are refreshed."""
    with _registry_errors():
        result = fn(*args)
    ingest = getattr(request.app.state, "ingest", None)
    if ingest is not None:
        ingest.request_config_refresh()
    return result


def _unit_scope(user: User, unit_id: str | None) -> str | None:
    """A unit_head reads only their own unit; admin and hr read any, or all."""
    if user.role != "unit_head":
        return unit_id
    if unit_id is not None and unit_id != user.unit_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"unit_id: a unit_head sees only their own unit, {user.unit_id!r}",
        )
    return user.unit_id


@router.get("/healthz")
def healthz(request: Request, session: SessionDep) -> dict[str, str]:
    try:
        session.connection().execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    ingest = getattr(request.app.state, "ingest", None)
    if ingest is None:
        mqtt = "not in this process"  # HAILONG_INGEST=false: `hailong ingest` stores ratings
    elif ingest.subscribe_error:
        mqtt = "subscription refused"
    else:
        mqtt = "connected" if ingest.connected.is_set() else "disconnected"
    return {"status": "ok" if database == "ok" else "degraded", "database": database, "mqtt": mqtt}


@api.post("/auth/token")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, str]:
    try:
        user = authenticate(session, form.username, form.password)
    except AuthError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None
    return {
        "access_token": issue_token(user, settings.secret_key, settings.token_minutes),
        "token_type": "bearer",
    }


@api.post("/units", status_code=201)
def create_unit(data: UnitCreate, session: SessionDep, _: AdminUser, request: Request) -> Unit:
    return _registry_call(request, registry.create_unit, session, data)


@api.get("/units")
def list_units(session: SessionDep, user: ReportUser) -> list[Unit]:
    return list(registry.list_units(session, _unit_scope(user, None)))


@api.post("/fields", status_code=201)
def create_field(
    data: ServiceFieldCreate, session: SessionDep, _: AdminUser, request: Request
) -> ServiceField:
    return _registry_call(request, registry.create_field, session, data)


@api.get("/fields")
def list_fields(session: SessionDep, _: ReportUser) -> list[ServiceField]:
    return list(registry.list_fields(session))


@api.post("/officers", status_code=201)
def create_officer(
    data: OfficerCreate, session: SessionDep, _: AdminUser, request: Request
) -> Officer:
    return _registry_call(request, registry.create_officer, session, data)


@api.patch("/officers/{officer_id}")
def update_officer(
    officer_id: str, data: OfficerUpdate, session: SessionDep, _: AdminUser, request: Request
) -> Officer:
    return _registry_call(request, registry.update_officer, session, officer_id, data)


@api.get("/officers")
def list_officers(
    session: SessionDep,
    user: ReportUser,
    unit_id: UnitFilter = None,
    active: Annotated[bool | None, Query(description="only active (or inactive) ones")] = None,
) -> list[Officer]:
    return list(registry.list_officers(session, _unit_scope(user, unit_id), active))


@api.post("/counters", status_code=201)
def create_counter(
    data: CounterCreate, session: SessionDep, _: AdminUser, request: Request
) -> CounterPublic:
    return _registry_call(request, registry.create_counter, session, data)


@api.get("/counters")
def list_counters(
    session: SessionDep, user: ReportUser, unit_id: UnitFilter = None
) -> list[CounterPublic]:
    return registry.list_counters(session, _unit_scope(user, unit_id))


@api.post("/assignments", status_code=201, response_model=AssignmentPublic)
def create_assignment(
    data: AssignmentCreate, session: SessionDep, _: AdminUser, request: Request
) -> Any:
    return _registry_call(request, registry.create_assignment, session, data)


@api.patch("/assignments/{assignment_id}", response_model=AssignmentPublic)
def end_assignment(
    assignment_id: int, data: AssignmentUpdate, session: SessionDep, _: AdminUser, request: Request
) -> Any:
    return _registry_call(request, registry.end_assignment, session, assignment_id, data)


@api.get("/assignments", response_model=list[AssignmentPublic])
def list_assignments(
    session: SessionDep,
    user: ReportUser,
    counter_id: str | None = None,
    officer_id: str | None = None,
    at: Annotated[
        AwareDatetime | None, Query(description="only those running at this moment (with offset)")
    ] = None,
) -> Any:
    return registry.list_assignments(
        session, counter_id, officer_id, at, unit_id=_unit_scope(user, None)
    )


@api.post("/devices", status_code=201)
def create_device(
    data: DeviceCreate, session: SessionDep, _: AdminUser, request: Request
) -> DeviceProvisioned:
    accounts = request.app.state.accounts
    return _registry_call(
        request,
        registry.register_device,
        session,
        data,
        accounts.put_device,
        accounts.device_target,
    )


@api.post("/devices/{device_id}/revoke")
def revoke_device(
    device_id: Annotated[str, Path(description="the device to cut off")],
    session: SessionDep,
    _: AdminUser,
    request: Request,
) -> Device:
    """Disconnects the unit at once and refuses its ratings from now on; it cannot be undone."""
    accounts = request.app.state.accounts
    return _registry_call(
        request, registry.revoke_device, session, device_id, accounts.disable_device
    )


@api.get("/devices")
def list_devices(
    session: SessionDep,
    user: ReportUser,
    unit_id: UnitFilter = None,
    counter_id: str | None = None,
) -> list[Device]:
    """`outbox` is the unit's backlog of unsent ratings, `ignored_presses` its missed presses."""
    return list(registry.list_devices(session, _unit_scope(user, unit_id), counter_id))


@api.post("/users", status_code=201)
def create_user(data: UserCreate, session: SessionDep, _: AdminUser) -> UserPublic:
    with _registry_errors():
        return registry.create_user(session, data)


@api.get("/users")
def list_users(session: SessionDep, _: AdminUser) -> list[UserPublic]:
    return registry.list_users(session)


@api.get("/rejected")
def rejected_messages(
    session: SessionDep,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first")] = 100,
) -> list[dict[str, Any]]:
    """Messages the ingest refused, with the reason, so a unit's fault can be found and fixed."""
    rows = session.exec(
        select(RejectedMessage).order_by(col(RejectedMessage.id).desc()).limit(limit)
    ).all()
    return [
        {
            "received_at": r.received_at.isoformat(),
            "topic": r.topic,
            "field": r.field,
            "reason": r.reason,
            "rating_id": r.rating_id,
            "payload": r.payload.decode("utf-8", errors="replace"),
        }
        for r in rows
    ]


@api.get("/reports/officers")
def officers_report(
    session: SessionDep,
    user: ReportUser,
    start: Annotated[date, Query(description="First day, YYYY-MM-DD, Vietnam time")],
    end: Annotated[date, Query(description="Last day (inclusive), YYYY-MM-DD")],
) -> dict[str, Any]:
    if end < start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end: must not be before start")
    unit_scope = user.unit_id if user.role == "unit_head" else None
    rows = reports.officer_report(session, start, end, unit_id=unit_scope)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "officers": [row.as_dict() for row in rows],
    }
