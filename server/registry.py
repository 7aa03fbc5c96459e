"""Registry writes with their rules; routes and the demo both call these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from sqlmodel import Session, col, or_, select

from hailong.errors import NotFound, RegistryError
from hailong.mqtt import MqttTarget
from server.broker import new_password
from server.device_config import device_toml
from server.models import (
    Assignment,
    AssignmentCreate,
    Counter,
    CounterCreate,
    Device,
    DeviceCreate,
    DeviceProvisioned,
    Officer,
    OfficerCreate,
    Unit,
    UnitCreate,
)

PutAccount = Callable[[str, str], None]


def _require(session: Session, model: type, key: str, field: str) -> None:
    if session.get(model, key) is None:
        what = field.removesuffix("_id")
        raise NotFound(f"{field}: unknown {what} {key!r}; create the {what} first")


def _new(session: Session, model: type, key: str, what: str) -> None:
    if session.get(model, key) is not None:
        raise RegistryError(f"id: {what} {key!r} already exists")


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


def create_counter(session: Session, data: CounterCreate) -> Counter:
    _new(session, Counter, data.id, "counter")
    _require(session, Unit, data.unit_id, "unit_id")
    counter = Counter.model_validate(data)
    session.add(counter)
    session.commit()
    return counter


def create_assignment(session: Session, data: AssignmentCreate) -> Assignment:
    """One officer per counter at a time: an overlapping assignment is refused, not merged."""
    _require(session, Officer, data.officer_id, "officer_id")
    _require(session, Counter, data.counter_id, "counter_id")
    start = data.start.astimezone(UTC)
    end = data.end.astimezone(UTC) if data.end else None
    if end is not None and end <= start:
        raise RegistryError("end: must be after start")
    query = (
        select(Assignment)
        .where(Assignment.counter_id == data.counter_id)
        .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > start))
    )
    if end is not None:
        query = query.where(col(Assignment.start) < end)
    overlap = session.exec(query).first()
    if overlap is not None:
        raise RegistryError(
            f"start: counter {data.counter_id!r} already has officer {overlap.officer_id!r} from "
            f"{overlap.start.isoformat()} to {overlap.end.isoformat() if overlap.end else 'open'}; "
            "end that assignment first"
        )
    assignment = Assignment(
        officer_id=data.officer_id, counter_id=data.counter_id, start=start, end=end
    )
    session.add(assignment)
    session.commit()
    session.refresh(assignment)
    return assignment


def register_device(
    session: Session, data: DeviceCreate, put_account: PutAccount, broker_for_devices: MqttTarget
) -> DeviceProvisioned:
    """The broker account is made inside the transaction: no device row without a login."""
    _new(session, Device, data.id, "device")
    _require(session, Counter, data.counter_id, "counter_id")
    password = new_password()
    device = Device(id=data.id, counter_id=data.counter_id, created_at=datetime.now(UTC))
    session.add(device)
    session.flush()
    put_account(data.id, password)
    session.commit()
    scheme = "mqtts" if broker_for_devices.tls else "mqtt"
    url = (
        f"{scheme}://{quote(data.id, safe='')}:{quote(password, safe='')}"
        f"@{broker_for_devices.host}:{broker_for_devices.port}"
    )
    return DeviceProvisioned(
        id=data.id,
        counter_id=data.counter_id,
        mqtt_username=data.id,
        mqtt_password=password,
        config=device_toml(data.id, url),
    )
