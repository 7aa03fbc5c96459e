"""The registry with its rules: writes and lists that the routes and the demo both call.

A `unit_id` scope argument limits a list to one unit (a unit_head's view); None means all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, or_, select

from hailong.errors import NotFound, RegistryError, UnknownId
from server.access.auth import add_user
from server.broker.mosquitto import new_password
from server.registry.clashes import check_assignment
from server.storage.models import (
    Assignment,
    AssignmentCreate,
    AssignmentUpdate,
    Counter,
    CounterCreate,
    CounterField,
    CounterPublic,
    Device,
    DeviceCreate,
    DeviceRegistered,
    Officer,
    OfficerCreate,
    ServiceField,
    ServiceFieldCreate,
    Unit,
    UnitCreate,
    User,
    UserCreate,
    UserPublic,
)
from server.timeutil import vn_text

T = TypeVar("T")
PutAccount = Callable[[str, str], None]
# Adds an audit event (action, target, detail) to the session, as the API or a screen records it.
Record = Callable[[str, str, Mapping[str, Any] | None], None]
DisableAccount = Callable[[str], None]


def _require(session: Session, model: type, key: str, field: str) -> None:
    if session.get(model, key) is None:
        what = field.removesuffix("_id")
        raise NotFound(f"{field}: unknown {what} {key!r}; create the {what} first")


def _new(session: Session, model: type, key: str, what: str) -> None:
    if session.get(model, key) is not None:
        raise RegistryError(f"id: {what} {key!r} already exists")


def _get(session: Session, model: type[T], key: str | int, what: str) -> T:
    """The record a request is about; UnknownId (HTTP 404) when there is none."""
    found = session.get(model, key)
    if found is None:
        raise UnknownId(f"there is no {what} {key!r}")
    return found


def _open_until(end: datetime | None) -> str:
    return end.isoformat() if end else "open"


def create_unit(session: Session, data: UnitCreate) -> Unit:
    _new(session, Unit, data.id, "unit")
    unit = Unit.model_validate(data)
    session.add(unit)
    session.commit()
    return unit


def create_officer(session: Session, data: OfficerCreate) -> Officer:
    _new(session, Officer, data.id, "officer")
    _require(session, Unit, data.unit_id, "unit_id")
    officer = Officer.model_validate(data)
    session.add(officer)
    session.commit()
    return officer


def list_officers(
    session: Session, unit_id: str | None = None, active: bool | None = None
) -> Sequence[Officer]:
    query = select(Officer).order_by(col(Officer.unit_id), col(Officer.id))
    if unit_id is not None:
        query = query.where(Officer.unit_id == unit_id)
    if active is not None:
        query = query.where(Officer.active == active)
    return session.exec(query).all()


def list_units(session: Session, unit_id: str | None = None) -> Sequence[Unit]:
    query = select(Unit).order_by(col(Unit.id))
    if unit_id is not None:
        query = query.where(Unit.id == unit_id)
    return session.exec(query).all()


def create_field(session: Session, data: ServiceFieldCreate) -> ServiceField:
    _new(session, ServiceField, data.id, "field")
    field = ServiceField.model_validate(data)
    session.add(field)
    session.commit()
    return field


def list_fields(session: Session) -> Sequence[ServiceField]:
    return session.exec(select(ServiceField).order_by(col(ServiceField.id))).all()


def create_counter(session: Session, data: CounterCreate) -> CounterPublic:
    _new(session, Counter, data.id, "counter")
    _require(session, Unit, data.unit_id, "unit_id")
    field_ids = list(dict.fromkeys(data.field_ids))
    for field_id in field_ids:
        if session.get(ServiceField, field_id) is None:
            raise NotFound(
                f"field_ids: unknown field {field_id!r}; create the field first "
                "(POST /api/v1/fields)"
            )
    session.add(Counter.model_validate(data))
    session.flush()
    session.add_all(CounterField(counter_id=data.id, field_id=f) for f in field_ids)
    session.commit()
    return CounterPublic(id=data.id, name=data.name, unit_id=data.unit_id, field_ids=field_ids)


def list_counters(session: Session, unit_id: str | None = None) -> list[CounterPublic]:
    """Each counter with the codes of the fields it serves."""
    query = select(Counter).order_by(col(Counter.unit_id), col(Counter.id))
    links = select(CounterField).order_by(col(CounterField.field_id))
    if unit_id is not None:
        query = query.where(Counter.unit_id == unit_id)
        links = links.join(Counter).where(Counter.unit_id == unit_id)
    fields: dict[str, list[str]] = {}
    for link in session.exec(links):
        fields.setdefault(link.counter_id, []).append(link.field_id)
    return [
        CounterPublic(id=c.id, name=c.name, unit_id=c.unit_id, field_ids=fields.get(c.id, []))
        for c in session.exec(query)
    ]


def _refuse_overlap(
    session: Session,
    counter_id: str,
    start: datetime,
    end: datetime | None,
    field: str,
    ignore: int | None = None,
) -> None:
    """One officer per counter at a time: an overlapping assignment is refused, not merged."""
    query = (
        select(Assignment)
        .where(Assignment.counter_id == counter_id)
        .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > start))
    )
    if end is not None:
        query = query.where(col(Assignment.start) < end)
    if ignore is not None:
        query = query.where(Assignment.id != ignore)
    overlap = session.exec(query.order_by(col(Assignment.start))).first()
    if overlap is not None:
        raise RegistryError(
            f"{field}: counter {counter_id!r} already has officer {overlap.officer_id!r} from "
            f"{overlap.start.isoformat()} to {_open_until(overlap.end)} "
            f"(assignment {overlap.id}); end that assignment first"
        )


def create_assignment(
    session: Session,
    data: AssignmentCreate,
    before_commit: Callable[[Assignment], object] | None = None,
) -> Assignment:
    """`before_commit` sees the new assignment with its id, so that what it adds to the session
    (the audit event) commits with it."""
    _require(session, Officer, data.officer_id, "officer_id")
    _require(session, Counter, data.counter_id, "counter_id")
    officer = session.get(Officer, data.officer_id)
    if officer is not None and not officer.active:
        raise RegistryError(
            f"officer_id: officer {data.officer_id!r} is inactive and cannot be assigned; "
            f"make them active first (PATCH /api/v1/officers/{data.officer_id})"
        )
    start = data.start.astimezone(UTC)
    end = data.end.astimezone(UTC) if data.end else None
    if end is not None and end <= start:
        raise RegistryError("end: must be after start")
    _refuse_overlap(session, data.counter_id, start, end, "start")
    assignment = Assignment(
        officer_id=data.officer_id, counter_id=data.counter_id, start=start, end=end
    )
    check_assignment(session, assignment)
    session.add(assignment)
    if before_commit is not None:
        session.flush()
        before_commit(assignment)
    session.commit()
    session.refresh(assignment)
    return assignment


def end_assignment(session: Session, assignment_id: int, data: AssignmentUpdate) -> Assignment:
    """Set (or correct) when a shift ends; the new end must not run into the next shift."""
    assignment = _get(session, Assignment, assignment_id, "assignment")
    end = data.end.astimezone(UTC)
    if end <= assignment.start:
        raise RegistryError(
            f"end: must be after the assignment's start, {assignment.start.isoformat()}"
        )
    _refuse_overlap(
        session, assignment.counter_id, assignment.start, end, "end", ignore=assignment.id
    )
    changed = Assignment.model_validate(assignment, update={"end": end})
    check_assignment(session, changed)
    assignment.end = end
    session.add(assignment)
    session.commit()
    session.refresh(assignment)
    return assignment


def list_assignments(
    session: Session,
    counter_id: str | None = None,
    officer_id: str | None = None,
    at: datetime | None = None,
    unit_id: str | None = None,
) -> Sequence[Assignment]:
    """Filters combine; `at` keeps the assignments running at that moment."""
    query = select(Assignment).order_by(col(Assignment.start), col(Assignment.id))
    if counter_id is not None:
        query = query.where(Assignment.counter_id == counter_id)
    if officer_id is not None:
        query = query.where(Assignment.officer_id == officer_id)
    if at is not None:
        moment = at.astimezone(UTC)
        query = query.where(col(Assignment.start) <= moment).where(
            or_(col(Assignment.end).is_(None), col(Assignment.end) > moment)
        )
    if unit_id is not None:
        query = query.join(Counter).where(Counter.unit_id == unit_id)
    return session.exec(query).all()


def _active_device_on(session: Session, counter_id: str) -> Device | None:
    return session.exec(
        select(Device)
        .where(Device.counter_id == counter_id, col(Device.revoked_at).is_(None))
        .order_by(col(Device.created_at))
    ).first()


def _revoke(session: Session, device: Device, disable_account: DisableAccount) -> None:
    device.revoked_at = datetime.now(UTC)
    session.add(device)
    session.flush()
    disable_account(device.id)


def register_device(
    session: Session,
    data: DeviceCreate,
    put_account: PutAccount,
    *,
    replace: bool = False,
    disable_account: DisableAccount | None = None,
    record: Record | None = None,
) -> DeviceRegistered:
    """A counter has one active device: a second is refused unless `replace`, which revokes
    the one there (its account disabled by `disable_account`) in the same transaction.

    The broker account is made inside the transaction, with a random password nobody is shown:
    no device row without a login; the unit's device.toml comes from its bundle
    (server/registry/bundles.py). `record` adds the audit events to the session, so that they
    commit with the registration: `device.create`, and `device.revoke` of the device replaced."""
    _new(session, Device, data.id, "device")
    _require(session, Counter, data.counter_id, "counter_id")
    there = _active_device_on(session, data.counter_id)
    if there is not None and not replace:
        since = vn_text(there.created_at)
        raise RegistryError(
            f"counter_id: quầy {data.counter_id!r} đã có thiết bị {there.id!r} từ {since} (giờ "
            "Việt Nam); mỗi quầy chỉ có một thiết bị đang hoạt động: để thay, gửi lại với "
            f"replace=true (thiết bị cũ bị thu hồi) / counter {data.counter_id!r} already has "
            f"device {there.id!r} since {since} (Vietnam time); a counter has one active device: "
            "to replace it, send again with replace=true (POST /api/v1/devices?replace=true), "
            "which revokes the old one"
        )
    if there is not None and disable_account is None:
        raise TypeError("replace=True needs disable_account")
    device = Device(id=data.id, counter_id=data.counter_id, created_at=datetime.now(UTC))
    session.add(device)
    session.flush()
    put_account(data.id, new_password())
    if there is not None and disable_account is not None:
        _revoke(session, there, disable_account)
    if record is not None:
        detail: dict[str, Any] = {"counter_id": data.counter_id}
        if replace:
            detail["replace"] = True
        record("device.create", data.id, detail)
        if there is not None:
            record("device.revoke", there.id, {"replaced_by": data.id})
    session.commit()
    session.refresh(device)
    return DeviceRegistered(
        id=device.id,
        counter_id=device.counter_id,
        created_at=device.created_at,
        replaced=there.id if there else None,
    )


def revoke_device(session: Session, device_id: str, disable_account: DisableAccount) -> Device:
    """The broker account is disabled inside the transaction, which cuts the unit off at once;
    if the broker cannot be reached nothing changes, so the revocation can simply be retried."""
    device = _get(session, Device, device_id, "device")
    if device.revoked_at is not None:
        raise RegistryError(
            f"device {device_id!r} was already revoked at {device.revoked_at.isoformat()}; "
            "a replacement unit is registered under a new device id"
        )
    _revoke(session, device, disable_account)
    session.commit()
    session.refresh(device)
    return device


def list_devices(
    session: Session, unit_id: str | None = None, counter_id: str | None = None
) -> Sequence[Device]:
    """With what each unit last said in its Status: firmware, state, backlog, missed presses."""
    query = select(Device).order_by(col(Device.counter_id), col(Device.id))
    if counter_id is not None:
        query = query.where(Device.counter_id == counter_id)
    if unit_id is not None:
        query = query.join(Counter).where(Counter.unit_id == unit_id)
    return session.exec(query).all()


def create_user(session: Session, data: UserCreate) -> UserPublic:
    """A new login; unlike `hailong user add`, an existing username is refused, not reset."""
    if session.exec(select(User).where(User.username == data.username)).first() is not None:
        raise RegistryError(f"username: user {data.username!r} already exists")
    if data.unit_id is not None:
        _require(session, Unit, data.unit_id, "unit_id")
    if data.officer_id is not None:
        _require(session, Officer, data.officer_id, "officer_id")
    user = add_user(
        session,
        data.username,
        data.password,
        data.role,
        data.unit_id,
        data.officer_id,
        full_name=data.full_name,
    )
    return UserPublic.model_validate(user, from_attributes=True)


def list_users(session: Session) -> list[UserPublic]:
    users = session.exec(select(User).order_by(col(User.username))).all()
    return [UserPublic.model_validate(u, from_attributes=True) for u in users]
