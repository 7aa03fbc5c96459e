"""The officers' sign-in at the unit: their PIN and card (set, cleared, listed without the
values) and each unit's sign-in method. Thin routes over server/registry/credentials.py and
server/registry/signin_methods.py; every write is audited without a value and followed by a
Config refresh, since a unit's Config carries its method."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, model_validator

from server.registry import credentials, signin_methods
from server.registry.signin_methods import UnitUpdate
from server.storage.models import Unit
from server.web.api.deps import AdminUser, NowDep, SessionDep, SettingsDep
from server.web.api.routes import _record, _registry_call, _registry_errors

signin_api = APIRouter(prefix="/api/v1")
OfficerId = Annotated[str, Path(max_length=64)]


class CredentialsBody(BaseModel):
    """`pin` and/or `card`: a text sets it, null clears it, absent leaves it as it is."""

    model_config = ConfigDict(extra="forbid")
    pin: str | None = None
    card: str | None = None

    @model_validator(mode="after")
    def _check(self) -> CredentialsBody:
        if not self.model_fields_set:
            raise ValueError("gửi pin và/hoặc card; send pin and/or card (null clears one)")
        for kind, value in self.values().items():
            if value is not None:
                try:
                    credentials.check_format(kind, value)
                except credentials.CredentialFormatError as exc:
                    raise ValueError(str(exc)) from None
        return self

    def values(self) -> dict[str, str | None]:
        return {kind: getattr(self, kind) for kind in sorted(self.model_fields_set)}


@signin_api.post(
    "/officers/{officer_id}/credentials",
    responses={409: {"description": "another active officer of the unit has that PIN or card"}},
)
def set_credentials(
    officer_id: OfficerId,
    data: CredentialsBody,
    session: SessionDep,
    settings: SettingsDep,
    access: AdminUser,
    request: Request,
    now: NowDep,
) -> credentials.Credentials:
    """Set or clear an officer's PIN (4-8 digits) or card number (4-32 letters or digits).
    Stored as Argon2 hashes and never shown again: the answer says only which kinds are set."""
    values = data.values()
    detail = credentials.change_detail(values)
    _record(request, session, access, "officer.credentials", officer_id, detail)
    return _registry_call(
        request,
        credentials.set_credentials,
        session,
        settings.secret_key,
        officer_id,
        values,
        access.username,
        now,
    )


@signin_api.get("/officers/{officer_id}/credentials")
def list_credentials(
    officer_id: OfficerId, session: SessionDep, _: AdminUser
) -> credentials.Credentials:
    """Which kinds the officer has, when and by whom they were set; never the values."""
    with _registry_errors():
        return credentials.credentials_of(session, officer_id)


@signin_api.patch("/units/{unit_id}")
def update_unit(
    unit_id: Annotated[str, Path(max_length=64)],
    data: UnitUpdate,
    session: SessionDep,
    access: AdminUser,
    request: Request,
) -> Unit:
    """Set how officers sign in at the unit's counters: `none` (the registry only), `pin`,
    `card` or `pin_or_card`; the units' Configs say it within a second."""
    if session.get(Unit, unit_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"there is no unit {unit_id!r}")
    _record(request, session, access, "unit.update", unit_id, data.model_dump(mode="json"))
    return _registry_call(request, signin_methods.set_signin, session, unit_id, data.signin)
