"""The HTTP API: thin routes over registry, auth and report functions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hailong.errors import BrokerError, NotFound, RegistryError, UnknownId
from server.access import audit
from server.access.roles import Access
from server.ingest import ordering, rejected
from server.registry import officers
from server.registry import writes as registry
from server.storage.models import (
    Assignment,
    AssignmentCreate,
    AssignmentPublic,
    AssignmentUpdate,
    AuditEventPublic,
    CounterCreate,
    CounterPublic,
    Device,
    DeviceCreate,
    DeviceListed,
    DeviceProvisioned,
    Moment,
    Officer,
    OfficerCreate,
    OfficerUpdate,
    RejectedDropped,
    RejectedMessage,
    ServiceField,
    ServiceFieldCreate,
    Unit,
    UnitCreate,
    User,
    UserCreate,
    UserPublic,
)
from server.web.api.deps import (
    AdminUser,
    ReportUser,
    SessionDep,
    client_address,
)

router = APIRouter()
api = APIRouter(prefix="/api/v1")

ID_MAX = 2**63 - 1  # the largest id a database integer holds
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


def _record(
    request: Request,
    session: Session,
    access: Access,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """The audit event of the write that follows: added to the session first, it is stored by
    the registry's own commit; a refused write is never committed, and neither is its event."""
    audit.record_access(
        session, access, action, target=target, client=client_address(request), detail=detail
    )


@router.get("/healthz", responses={503: {"description": "degraded: `down` says what is down"}})
def healthz(request: Request, session: SessionDep) -> JSONResponse:
    """200 when the database answers and the ingest's MQTT link is up, else 503."""
    try:
        # A query that reads the database: `SELECT 1` is answered by SQLite without its file.
        session.exec(select(User.id).limit(1)).first()
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
    mqtt_down = mqtt in ("disconnected", "subscription refused")
    down = [name for name, bad in (("database", database != "ok"), ("mqtt", mqtt_down)) if bad]
    body: dict[str, Any] = {"status": "degraded" if down else "ok", "database": database}
    body["mqtt"] = mqtt
    if down:
        body["down"] = down
    return JSONResponse(body, status_code=503 if down else 200)


@api.post("/units", status_code=201)
def create_unit(data: UnitCreate, session: SessionDep, access: AdminUser, request: Request) -> Unit:
    _record(request, session, access, "unit.create", data.id, data.model_dump(mode="json"))
    return _registry_call(request, registry.create_unit, session, data)


@api.get("/units")
def list_units(session: SessionDep, access: ReportUser) -> list[Unit]:
    return list(registry.list_units(session, access.unit_scope(None)))


@api.post("/fields", status_code=201)
def create_field(
    data: ServiceFieldCreate, session: SessionDep, access: AdminUser, request: Request
) -> ServiceField:
    _record(request, session, access, "field.create", data.id, data.model_dump(mode="json"))
    return _registry_call(request, registry.create_field, session, data)


@api.get("/fields")
def list_fields(session: SessionDep, _: ReportUser) -> list[ServiceField]:
    return list(registry.list_fields(session))


@api.post("/officers", status_code=201)
def create_officer(
    data: OfficerCreate, session: SessionDep, access: AdminUser, request: Request
) -> Officer:
    _record(request, session, access, "officer.create", data.id, data.model_dump(mode="json"))
    return _registry_call(request, registry.create_officer, session, data)


@api.patch("/officers/{officer_id}")
def update_officer(
    officer_id: str, data: OfficerUpdate, session: SessionDep, access: AdminUser, request: Request
) -> Officer:
    changes = data.model_dump(mode="json", exclude_unset=True)

    def record(ended: list[str]) -> None:
        detail = {**changes, "ended": ended} if ended else changes
        _record(request, session, access, "officer.update", officer_id, detail)

    return _registry_call(request, officers.update_officer, session, officer_id, data, record)


@api.get("/officers")
def list_officers(
    session: SessionDep,
    access: ReportUser,
    unit_id: UnitFilter = None,
    active: Annotated[bool | None, Query(description="only active (or inactive) ones")] = None,
) -> list[Officer]:
    return list(registry.list_officers(session, access.unit_scope(unit_id), active))


@api.post("/counters", status_code=201)
def create_counter(
    data: CounterCreate, session: SessionDep, access: AdminUser, request: Request
) -> CounterPublic:
    _record(request, session, access, "counter.create", data.id, data.model_dump(mode="json"))
    return _registry_call(request, registry.create_counter, session, data)


@api.get("/counters")
def list_counters(
    session: SessionDep, access: ReportUser, unit_id: UnitFilter = None
) -> list[CounterPublic]:
    return registry.list_counters(session, access.unit_scope(unit_id))


@api.post("/assignments", status_code=201, response_model=AssignmentPublic)
def create_assignment(
    data: AssignmentCreate, session: SessionDep, access: AdminUser, request: Request
) -> Any:
    def record(assignment: Assignment) -> None:
        detail = data.model_dump(mode="json")
        _record(request, session, access, "assignment.create", str(assignment.id), detail)

    return _registry_call(request, registry.create_assignment, session, data, record)


@api.patch("/assignments/{assignment_id}", response_model=AssignmentPublic)
def end_assignment(
    assignment_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    data: AssignmentUpdate,
    session: SessionDep,
    access: AdminUser,
    request: Request,
) -> Any:
    _record(
        request, session, access, "assignment.end", str(assignment_id), data.model_dump(mode="json")
    )
    return _registry_call(request, registry.end_assignment, session, assignment_id, data)


@api.get("/assignments", response_model=list[AssignmentPublic])
def list_assignments(
    session: SessionDep,
    access: ReportUser,
    counter_id: str | None = None,
    officer_id: str | None = None,
    at: Annotated[
        Moment | None, Query(description="only those running at this moment (with offset)")
    ] = None,
) -> Any:
    return registry.list_assignments(
        session, counter_id, officer_id, at, unit_id=access.unit_scope(None)
    )


@api.post("/devices", status_code=201)
def create_device(
    data: DeviceCreate, session: SessionDep, access: AdminUser, request: Request
) -> DeviceProvisioned:
    """The answer carries the unit's MQTT password: this once, and in no log or audit event."""
    accounts = request.app.state.accounts
    _record(request, session, access, "device.create", data.id, {"counter_id": data.counter_id})
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
    access: AdminUser,
    request: Request,
) -> Device:
    """Disconnects the unit at once and refuses its ratings from now on; it cannot be undone."""
    accounts = request.app.state.accounts
    _record(request, session, access, "device.revoke", device_id)
    return _registry_call(
        request, registry.revoke_device, session, device_id, accounts.disable_device
    )


@api.get("/devices")
def list_devices(
    session: SessionDep,
    access: ReportUser,
    unit_id: UnitFilter = None,
    counter_id: str | None = None,
) -> list[DeviceListed]:
    """`outbox` is the unit's backlog of unsent ratings, `ignored_presses` its missed presses,
    `missing_seqs` the ratings it numbered but never delivered."""
    devices = registry.list_devices(session, access.unit_scope(unit_id), counter_id)
    missing = ordering.missing_seqs(session, [d.id for d in devices])
    return [
        DeviceListed(
            **d.model_dump(),
            missing_seqs=missing[d.id].count,
            missing_seq_ranges=missing[d.id].ranges,
        )
        for d in devices
    ]


@api.post("/users", status_code=201)
def create_user(
    data: UserCreate, session: SessionDep, access: AdminUser, request: Request
) -> UserPublic:
    """The password is stored only as its Argon2 hash; the audit event names the login and what
    it may see."""
    detail = data.model_dump(mode="json", include={"role", "unit_id", "officer_id"})
    _record(request, session, access, "user.create", data.username, detail)
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
            "device_id": r.device_id,
            "topic": r.topic,
            "field": r.field,
            "reason": r.reason,
            "rating_id": r.rating_id,
            "payload": r.payload.decode("utf-8", errors="replace"),
        }
        for r in rows
    ]


@api.get("/rejected/dropped")
def rejected_dropped(session: SessionDep, _: AdminUser) -> list[RejectedDropped]:
    """Per device (id '': topics that name none), the rejected messages deleted unseen: over
    its quota, oldest first (HAILONG_REJECTED_PER_DEVICE), or for their age
    (HAILONG_REJECTED_MAX_AGE_DAYS)."""
    return rejected.dropped_counts(session)


@api.get("/audit")
def audit_log(
    session: SessionDep,
    _: AdminUser,
    action: Annotated[
        str | None,
        Query(max_length=64, description='only actions that start with this, e.g. "login."'),
    ] = None,
    actor: Annotated[str | None, Query(max_length=64, description="only this username's")] = None,
    since: Annotated[Moment | None, Query(description="from this moment on")] = None,
    until: Annotated[Moment | None, Query(description="before this moment")] = None,
    before_id: Annotated[
        int | None,
        Query(ge=1, le=ID_MAX, description="the next page: events older than this id"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first")] = 100,
) -> list[AuditEventPublic]:
    """Who did what, when and from where: every write, export and login, newest first."""
    return audit.events(
        session,
        action=action,
        actor=actor,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )
