"""What a unit needs, as one download: issuing a bundle sets a new password on the device's
broker account and hands it out inside the device.toml, with the install sheet and the QR label.

The password exists only in the zip: the server keeps nothing but the broker's hash of it, so a
lost bundle is replaced by issuing another, which cuts off the previous one. The files
themselves are made in `install_sheet.py`; this module reads the registry and talks to the
broker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from hailong.errors import BrokerError, RegistryError, UnknownId
from hailong.mqtt import MqttTarget
from server.broker.mosquitto import new_password
from server.registry.device_config import device_toml, device_url
from server.registry.install_sheet import (
    UNIT_INDEX,
    BundleFacts,
    device_files,
    unit_index,
    zip_files,
)
from server.storage.models import Counter, Device, Unit

SetPassword = Callable[[str, str], None]


def bundle_filename(device_id: str) -> str:
    return f"hailong-thiet-bi-{device_id}.zip"


def unit_bundle_filename(unit_id: str) -> str:
    return f"hailong-don-vi-{unit_id}.zip"


def active_devices(session: Session, unit_id: str) -> Sequence[Device]:
    """The unit's devices that are not revoked, by counter: those a unit bundle carries."""
    return session.exec(
        select(Device)
        .join(Counter)
        .where(Counter.unit_id == unit_id, col(Device.revoked_at).is_(None))
        .order_by(col(Device.counter_id), col(Device.id))
    ).all()


def _facts(session: Session, device: Device, target: MqttTarget, at: datetime) -> BundleFacts:
    counter = session.get(Counter, device.counter_id)
    unit = session.get(Unit, counter.unit_id) if counter else None
    return BundleFacts(
        device_id=device.id,
        counter_id=device.counter_id,
        counter_name=counter.name if counter else device.counter_id,
        unit_id=unit.id if unit else "",
        unit_name=unit.name if unit else "",
        broker=f"{target.host}:{target.port}",
        tls=target.tls,
        issued_at=at,
    )


def _files(
    session: Session, device: Device, target: MqttTarget, at: datetime
) -> tuple[BundleFacts, str, dict[str, bytes]]:
    """A device's facts, its new password and its three files."""
    password = new_password()
    facts = _facts(session, device, target, at)
    toml = device_toml(device.id, device_url(device.id, password, target), target.ca_pem)
    return facts, password, device_files(facts, toml)


def issue_bundle(
    session: Session,
    device_id: str,
    set_password: SetPassword,
    target: MqttTarget,
    *,
    now: datetime | None = None,
) -> bytes:
    """The zip of one device: device.toml, huong-dan-lap-dat.html, ma-thiet-bi.png.

    `set_password(device_id, password)` resets the broker account (BrokerAccounts.put_device);
    `target` is where units connect. The unit's previous device.toml stops working. What the
    session holds (the audit event) is committed once the broker has the new password."""
    at = now or datetime.now(UTC)
    device = session.get(Device, device_id)
    if device is None:
        raise UnknownId(f"there is no device {device_id!r}")
    if device.revoked_at is not None:
        raise RegistryError(
            f"thiết bị {device_id!r} đã bị thu hồi lúc {device.revoked_at.isoformat()}: không "
            "cấp gói cho thiết bị đã thu hồi; hãy đăng ký thiết bị mới cho quầy / device "
            f"{device_id!r} was revoked at {device.revoked_at.isoformat()} and gets no bundle; "
            "register a new device for the counter (POST /api/v1/devices?replace=true)"
        )
    _, password, files = _files(session, device, target, at)
    set_password(device.id, password)
    session.commit()
    return zip_files(files, at)


def issue_unit_bundle(
    session: Session,
    unit_id: str,
    set_password: SetPassword,
    target: MqttTarget,
    *,
    now: datetime | None = None,
) -> bytes:
    """One zip for every active device of a unit (`active_devices`): a folder per device id
    with its three files, and danh-sach-thiet-bi.html listing them.

    Every one of those devices gets a new password, so each previous device.toml stops
    working; if the broker fails part way, the error names the devices already changed."""
    at = now or datetime.now(UTC)
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnknownId(f"there is no unit {unit_id!r}")
    devices = active_devices(session, unit_id)
    if not devices:
        raise RegistryError(
            f"đơn vị {unit_id!r} chưa có thiết bị nào đang hoạt động; hãy đăng ký thiết bị trước "
            f"/ unit {unit_id!r} has no active device; register its devices first "
            "(POST /api/v1/devices)"
        )
    files: dict[str, bytes] = {}
    listed: list[BundleFacts] = []
    passwords: list[tuple[str, str]] = []
    for device in devices:
        facts, password, own = _files(session, device, target, at)
        listed.append(facts)
        passwords.append((device.id, password))
        files.update({f"{device.id}/{name}": content for name, content in own.items()})
    files = {UNIT_INDEX: unit_index(unit.id, unit.name, listed, at).encode(), **files}
    changed: list[str] = []
    for device_id, password in passwords:
        try:
            set_password(device_id, password)
        except BrokerError as exc:
            if not changed:
                raise
            raise BrokerError(
                f"{exc}; the passwords of {', '.join(changed)} were already changed, so their "
                "previous device.toml no longer works: issue this unit's bundle again"
            ) from None
        changed.append(device_id)
    session.commit()
    return zip_files(files, at)
