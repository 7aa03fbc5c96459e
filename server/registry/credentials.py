"""Officers' sign-in credentials: a PIN typed on the unit's touchscreen, a card number a reader
types. Set and cleared by an administrator, stored only as Argon2 hashes, never shown again.

A PIN has at most 10^8 values, so only a slow hash protects it: the same Argon2 settings as
users' passwords (argon2-cffi's defaults, server/access/auth.py). A sign-in does not try every
hash of the unit: `tag` (one hex digit of an HMAC of the value under the server's secret) keeps it
to about a sixteenth of them, and tells nothing without the secret. The ingest finds the officer
of a credential with `find_officer` (server/ingest/signins.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from pydantic import BaseModel
from sqlmodel import Session, col, select

from hailong.errors import RegistryError, UnknownId
from server.storage.channels import CREDENTIAL_KINDS, OfficerCredential
from server.storage.models import Officer

HASHER = PasswordHasher()
FORMATS = {
    "pin": (
        re.compile(r"^[0-9]{4,8}$"),
        "mã PIN gồm 4 đến 8 chữ số; a PIN is 4 to 8 digits",
    ),
    "card": (
        re.compile(r"^[A-Za-z0-9]{4,32}$"),
        "số thẻ gồm 4 đến 32 chữ cái hoặc chữ số, như đầu đọc thẻ gõ ra; a card number is 4 to 32 "
        "letters or digits, as the card reader types it",
    ),
}


class CredentialFormatError(RegistryError):
    """A PIN or card number of the wrong shape (HTTP 422); the message never holds the value."""


class CredentialInUse(RegistryError):
    """The PIN is another active officer's of the same unit (HTTP 409, without saying whose)."""


class CredentialSet(BaseModel):
    """Which kind an officer has, since when and who set it: never the value."""

    kind: str
    set_at: datetime
    set_by: str


class Credentials(BaseModel):
    officer_id: str
    credentials: list[CredentialSet]


def tag(secret: str, kind: str, value: str) -> str:
    """The first hex digit of HMAC-SHA256(secret, kind + ":" + value)."""
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[0]


def verify(stored: str, value: str, hasher: PasswordHasher = HASHER) -> bool:
    try:
        return hasher.verify(stored, value)
    except (VerifyMismatchError, InvalidHashError):
        return False


def check_format(kind: str, value: str) -> None:
    pattern, rule = FORMATS[kind]
    if not pattern.match(value):
        raise CredentialFormatError(f"{kind}: {rule}")


def _tagged(
    session: Session, unit_id: str, kind: str, tag_value: str
) -> list[tuple[OfficerCredential, Officer]]:
    """The credentials of `kind` with that tag held by the unit's active officers (the
    officer's unit now: one who moved signs in at the new unit)."""
    rows = session.exec(
        select(OfficerCredential, Officer)
        .join(Officer, col(Officer.id) == OfficerCredential.officer_id)
        .where(OfficerCredential.kind == kind)
        .where(OfficerCredential.tag == tag_value)
        .where(col(Officer.active).is_(True))
        .where(Officer.unit_id == unit_id)
    ).all()
    return [(credential, officer) for credential, officer in rows]


def find_officer(
    session: Session, secret: str, unit_id: str, kind: str, value: str
) -> Officer | None:
    """The active officer of the unit whose credential of `kind` is `value`, if any."""
    for credential, officer in _tagged(session, unit_id, kind, tag(secret, kind, value)):
        if verify(credential.hash, value):
            return officer
    return None


def set_credentials(
    session: Session,
    secret: str,
    officer_id: str,
    values: Mapping[str, str | None],
    actor: str,
    now: datetime,
) -> Credentials:
    """Set (a text) or clear (None) each kind named in `values`, and commit. Refuses an
    unknown officer, a value for an inactive one or of the wrong shape, and a PIN or card another
    active officer of the same unit already has (two officers with one could not be told apart)."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise UnknownId(f"there is no officer {officer_id!r}; create the officer first")
    for kind, value in values.items():
        if kind not in CREDENTIAL_KINDS:
            raise CredentialFormatError(f"{kind}: chỉ có pin và card; only pin and card")
        if value is not None:
            check_format(kind, value)
    if any(value is not None for value in values.values()) and not officer.active:
        raise RegistryError(
            f"cán bộ {officer_id} đã nghỉ, không thể đăng nhập; officer {officer_id} is inactive "
            "and cannot sign in: reactivate them first"
        )
    for kind, value in values.items():
        stored = session.get(OfficerCredential, (officer_id, kind))
        if value is None:
            if stored is not None:
                session.delete(stored)
            continue
        tag_value = tag(secret, kind, value)
        for other, holder in _tagged(session, officer.unit_id, kind, tag_value):
            if holder.id != officer_id and verify(other.hash, value):
                raise CredentialInUse(
                    f"{kind}: một cán bộ khác của đơn vị đã dùng giá trị này, hãy chọn giá trị "
                    "khác; another officer of the unit already uses this value, choose another"
                )
        if stored is not None:
            session.delete(stored)
            session.flush()
        session.add(
            OfficerCredential(
                officer_id=officer_id,
                kind=kind,
                unit_id=officer.unit_id,
                tag=tag_value,
                hash=HASHER.hash(value),
                created_at=now,
                created_by=actor,
            )
        )
    session.commit()
    return credentials_of(session, officer_id)


def change_detail(values: Mapping[str, str | None]) -> dict[str, list[str]]:
    """What the audit log keeps of a change: the kinds set and cleared, never a value."""
    return {
        "set": sorted(k for k, v in values.items() if v is not None),
        "cleared": sorted(k for k, v in values.items() if v is None),
    }


def credentials_of(session: Session, officer_id: str) -> Credentials:
    if session.get(Officer, officer_id) is None:
        raise UnknownId(f"there is no officer {officer_id!r}")
    rows = session.exec(
        select(OfficerCredential)
        .where(OfficerCredential.officer_id == officer_id)
        .order_by(col(OfficerCredential.kind))
    ).all()
    return Credentials(
        officer_id=officer_id,
        credentials=[
            CredentialSet(kind=r.kind, set_at=r.created_at, set_by=r.created_by) for r in rows
        ],
    )
