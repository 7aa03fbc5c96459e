"""What an admin does to devices from the devices page, as the devices API does it: register one
on a counter (replacing the one there if asked), hand out a bundle per device or per unit, and
revoke one. The same services, the same audit events; the broker accounts are the server's,
handed to the dashboard (`Sources.accounts`), and without them nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlmodel import Session

from dashboard import registry_view
from dashboard.registry_view import FormError, Outcome
from dashboard.sources import DeviceAccounts, Sources
from hailong.mqtt import MqttTarget
from server.access.roles import Access
from server.registry import bundles
from server.registry import writes as registry
from server.storage.models import Counter, Device, DeviceCreate, Unit


def _accounts(src: Sources) -> DeviceAccounts:
    accounts = src.accounts()
    if accounts is None:
        raise FormError(registry_view.NO_BROKER)
    return accounts


def add(
    src: Sources,
    access: Access,
    client: str | None,
    device_id: str | None,
    counter_id: str | None,
    replace: bool,
) -> Outcome:
    """POST /api/v1/devices?replace=: the counter's device revoked in the same step if asked."""

    def change(session: Session) -> str:
        registry_view.required({"id": device_id, "counter_id": counter_id}, "id", "counter_id")
        accounts = _accounts(src)
        data = DeviceCreate.model_validate({"id": device_id, "counter_id": counter_id})
        made = registry.register_device(
            session,
            data,
            accounts.put_device,
            replace=replace,
            disable_account=accounts.disable_device,
            record=partial(registry_view.record, session, access, client),
        )
        done = f"Đã thêm thiết bị {made.id} · Device {made.id} added"
        if made.replaced:
            done += f" (thu hồi {made.replaced} · {made.replaced} revoked)"
        return done + "; tải gói cài đặt bên dưới · download its bundle below"

    return registry_view.write(src, access, change)


@dataclass(frozen=True)
class Bundle:
    outcome: Outcome
    content: bytes | None = None
    filename: str = ""


Issue = Callable[[Session, str, bundles.SetPassword, MqttTarget], bytes]


def _issue(
    src: Sources,
    access: Access,
    client: str | None,
    key: str | None,
    what: str,
    issue: Issue,
    filename: Callable[[str], str],
    detail: Callable[[Session, str], dict[str, Any] | None],
) -> Bundle:
    """A bundle issued as the API issues it: its audit event, then the service, which sets the
    new passwords and commits."""
    made: list[tuple[bytes, str]] = []

    def change(session: Session) -> str:
        given = registry_view.given(key, what)
        accounts = _accounts(src)
        registry_view.record(
            session, access, client, "device.bundle", given, detail(session, given)
        )
        made.append(
            (issue(session, given, accounts.put_device, accounts.device_target), filename(given))
        )
        return (
            f"Đã cấp {made[0][1]}; gói cũ không còn kết nối được · "
            f"{made[0][1]} issued; the previous bundle no longer connects"
        )

    outcome = registry_view.write(src, access, change)
    return Bundle(outcome, *made[0]) if made else Bundle(outcome)


def bundle(src: Sources, access: Access, client: str | None, device_id: str | None) -> Bundle:
    """POST /api/v1/devices/{id}/bundle: a new password, inside the zip only."""
    return _issue(
        src,
        access,
        client,
        device_id,
        "device",
        bundles.issue_bundle,
        bundles.bundle_filename,
        lambda _session, _key: None,
    )


def unit_bundle(src: Sources, access: Access, client: str | None, unit_id: str | None) -> Bundle:
    """POST /api/v1/units/{id}/bundle: every active device of the unit, one zip."""
    return _issue(
        src,
        access,
        client,
        unit_id,
        "unit",
        bundles.issue_unit_bundle,
        bundles.unit_bundle_filename,
        lambda session, key: {"devices": [d.id for d in bundles.active_devices(session, key)]},
    )


def revoke(src: Sources, access: Access, client: str | None, device_id: str | None) -> Outcome:
    """POST /api/v1/devices/{id}/revoke: the unit is cut off at once."""

    def change(session: Session) -> str:
        key = registry_view.given(device_id, "device")
        accounts = _accounts(src)
        registry_view.record(session, access, client, "device.revoke", key)
        registry.revoke_device(session, key, accounts.disable_device)
        return f"Đã thu hồi thiết bị {key} · Device {key} revoked"

    return registry_view.write(src, access, change)


def revoke_question(session: Session, device_id: str) -> str:
    """The confirmation names the device and where it stands, so the wrong one is not cut off."""
    device = session.get(Device, device_id)
    counter = session.get(Counter, device.counter_id) if device else None
    unit = session.get(Unit, counter.unit_id) if counter else None
    where = f"{counter.name} ({counter.id})" if counter else "?"
    of = f", {unit.name}" if unit else ""
    return (
        f"Thu hồi thiết bị {device_id} ở {where}{of}? Thiết bị bị ngắt kết nối ngay và không "
        "thể khôi phục.\n"
        f"Revoke device {device_id} at {where}{of}? It is disconnected at once; this cannot be "
        "undone."
    )


def active_device_options(session: Session, access: Access) -> registry_view.Options:
    """The devices not revoked, of the units `access` may see, named with their counter."""
    counters = {c.id: c for c in registry.list_counters(session, access.unit_scope(None))}
    return [
        {"label": f"{d.id} · {counters[d.counter_id].name} ({d.counter_id})", "value": d.id}
        for d in registry.list_devices(session, access.unit_scope(None))
        if d.revoked_at is None and d.counter_id in counters
    ]
