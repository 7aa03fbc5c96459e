"""The HTTP API: thin routes over registry, auth and report functions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from hailong.errors import BrokerError, NotFound, RegistryError
from server import registry, reports
from server.api.deps import AdminUser, ReportUser, SessionDep, SettingsDep
from server.auth import AuthError, authenticate, issue_token
from server.models import (
    AssignmentCreate,
    AssignmentPublic,
    Counter,
    CounterCreate,
    DeviceCreate,
    DeviceProvisioned,
    Officer,
    OfficerCreate,
    RejectedMessage,
    Unit,
    UnitCreate,
)

router = APIRouter()
api = APIRouter(prefix="/api/v1")


def _registry_call(request: Request, fn: Any, *args: Any) -> Any:
    try:
        result = fn(*args)
    except NotFound as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except RegistryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except BrokerError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    ingest = getattr(request.app.state, "ingest", None)
    if ingest is not None:
        ingest.request_config_refresh()
    return result


@router.get("/healthz")
def healthz(request: Request, session: SessionDep) -> dict[str, str]:
    try:
        session.connection().execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    ingest = getattr(request.app.state, "ingest", None)
    mqtt = "connected" if ingest is not None and ingest.connected.is_set() else "disconnected"
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


@api.post("/officers", status_code=201)
def create_officer(
    data: OfficerCreate, session: SessionDep, _: AdminUser, request: Request
) -> Officer:
    return _registry_call(request, registry.create_officer, session, data)


@api.post("/counters", status_code=201)
def create_counter(
    data: CounterCreate, session: SessionDep, _: AdminUser, request: Request
) -> Counter:
    return _registry_call(request, registry.create_counter, session, data)


@api.post("/assignments", status_code=201, response_model=AssignmentPublic)
def create_assignment(
    data: AssignmentCreate, session: SessionDep, _: AdminUser, request: Request
) -> Any:
    return _registry_call(request, registry.create_assignment, session, data)


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
