"""The devices API: register a unit (one active per counter), hand out its bundle, revoke it,
list the fleet with what each unit last said."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from hailong.mqtt import MqttTarget
from server.ingest import ordering
from server.registry import bundles
from server.registry import writes as registry
from server.storage.models import Device, DeviceCreate, DeviceListed, DeviceRegistered
from server.web.api.deps import AdminUser, ReportUser, SessionDep
from server.web.api.routes import UnitFilter, _record, _registry_call, _registry_errors

Issue = Callable[[Session, str, bundles.SetPassword, MqttTarget], bytes]

devices_api = APIRouter(prefix="/api/v1", tags=["devices"])

ZIP_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "the bundle, as a zip download"},
    409: {"description": "the device is revoked (or the unit has no active device)"},
    503: {"description": "the broker could not be reached: no password was changed"},
}


def _issue(request: Request, issue: Issue, session: Session, key: str) -> bytes:
    """A bundle, its passwords set through the app's broker accounts."""
    accounts = request.app.state.accounts
    with _registry_errors():
        return issue(session, key, accounts.put_device, accounts.device_target)


def _zip(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@devices_api.post("/devices", status_code=201)
def create_device(
    data: DeviceCreate,
    session: SessionDep,
    access: AdminUser,
    request: Request,
    replace: Annotated[
        bool,
        Query(description="revoke the counter's active device (if any) and register this one"),
    ] = False,
) -> DeviceRegistered:
    """A counter has one active device: a second is refused (409) unless `replace=true`, which
    revokes the one there (disconnected at once) in the same step. The answer has no password:
    the unit's device.toml comes from `POST /api/v1/devices/{id}/bundle`."""
    accounts = request.app.state.accounts
    return _registry_call(
        request,
        registry.register_device,
        session,
        data,
        accounts.put_device,
        replace=replace,
        disable_account=accounts.disable_device,
        record=partial(_record, request, session, access),
    )


@devices_api.post("/devices/{device_id}/bundle", response_class=Response, responses=ZIP_ANSWER)
def device_bundle(
    device_id: Annotated[str, Path(description="the device to hand out")],
    session: SessionDep,
    access: AdminUser,
    request: Request,
) -> Response:
    """A zip with the unit's `device.toml` (its login, the broker's address, the CA when TLS is
    on), the install sheet `huong-dan-lap-dat.html` and the QR label `ma-thiet-bi.png`.

    Each bundle sets a new password on the device's broker account: the unit's previous
    device.toml stops working at once, until the new one is installed. A revoked device gets
    none (409)."""
    _record(request, session, access, "device.bundle", device_id)
    content = _issue(request, bundles.issue_bundle, session, device_id)
    return _zip(content, bundles.bundle_filename(device_id))


@devices_api.post("/units/{unit_id}/bundle", response_class=Response, responses=ZIP_ANSWER)
def unit_bundle(
    unit_id: Annotated[str, Path(description="the unit whose active devices to hand out")],
    session: SessionDep,
    access: AdminUser,
    request: Request,
) -> Response:
    """One zip for every active device of the unit: a folder per device id, each with its three
    files (as `POST /devices/{id}/bundle`), and the list `danh-sach-thiet-bi.html`.

    Every one of those devices gets a new password: each previous device.toml stops working at
    once, until the new ones are installed."""
    ids = [d.id for d in bundles.active_devices(session, unit_id)]
    _record(request, session, access, "device.bundle", unit_id, {"devices": ids})
    content = _issue(request, bundles.issue_unit_bundle, session, unit_id)
    return _zip(content, bundles.unit_bundle_filename(unit_id))


@devices_api.post("/devices/{device_id}/revoke")
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


@devices_api.get("/devices")
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
