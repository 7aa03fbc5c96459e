"""The registry screens' bodies, without Dash: the rows a user may see, the search over them, and
one way to write.

A write from a screen is the API's write: the same service function (server/registry/), the same
audit event added to the session before the service commits (so both commit or neither), the
same Config refresh afterwards. Only an admin writes; the check is made here, not only by hiding
buttons, since a callback can be posted by hand.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlmodel import Session

from dashboard import captions
from dashboard.sources import Sources
from hailong.errors import HailongError
from server.access import audit
from server.access.roles import ADMINISTER, Access
from server.registry import writes as registry

T = TypeVar("T")
NOT_SAVED = "Không lưu được · Not saved: "
NO_BROKER = (
    "Chưa cấu hình máy chủ MQTT, không thể ghi thiết bị · "
    "The broker is not configured here, so devices cannot be written"
)


@dataclass(frozen=True)
class Outcome:
    """What a screen shows next to its form: the service's words, and whether it wrote."""

    ok: bool
    text: str


class FormError(HailongError):
    """A form sent without what the service needs (an empty id): said before calling it."""


def write(src: Sources, access: Access, change: Callable[[Session], str]) -> Outcome:
    """Run `change` (which records its audit event, then calls the service, and says what it
    did) as `access`; the service's error text when it refuses. Units' Configs are refreshed
    after every write that succeeded, as after the API's."""
    access.require(ADMINISTER)
    try:
        with src.session_factory() as session:
            done = change(session)
    except (HailongError, ValidationError) as exc:
        return Outcome(False, NOT_SAVED + reason(exc))
    src.registry_changed()
    return Outcome(True, done)


def reason(exc: Exception) -> str:
    """A refusal as one line: the service's message, or pydantic's per field."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
    return str(exc)


def record(
    session: Session,
    access: Access,
    client: str | None,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """The audit event of the write that follows, as the API's `_record` adds it."""
    audit.record_access(session, access, action, target=target, client=client, detail=detail)


@dataclass(frozen=True)
class Kind:
    """A kind of registry record: its table, its audit action prefix, its names for people."""

    table: type
    action: str
    vi: str
    en: str

    def done(self, key: str, exists: bool) -> str:
        if exists:
            return f"Đã cập nhật {self.vi} {key} · {self.en.capitalize()} {key} updated"
        return f"Đã thêm {self.vi} {key} · {self.en.capitalize()} {key} added"


def put(
    session: Session,
    access: Access,
    client: str | None,
    kind: Kind,
    data: Any,
    create: Callable[[Session, Any], object],
    update: Callable[[Session, Any], object],
) -> str:
    """Create `data` or, when its id exists, update it, with the audit event the API's create
    records (`unit.create`) or `.update`. Says what it did."""
    exists = session.get(kind.table, data.id) is not None
    verb = "update" if exists else "create"
    record(session, access, client, f"{kind.action}.{verb}", data.id, data.model_dump(mode="json"))
    (update if exists else create)(session, data)
    return kind.done(data.id, exists)


def required(values: Mapping[str, Any], *names: str) -> None:
    missing = [name for name in names if not str(values.get(name) or "").strip()]
    if missing:
        raise FormError(f"{', '.join(missing)}: cần điền · required")


def given(value: str | None, name: str) -> str:
    """`value`, or FormError when the form left it empty."""
    if value is None or not value.strip():
        raise FormError(f"{name}: cần điền · required")
    return value.strip()


def cleaned(values: Mapping[str, Any]) -> dict[str, Any]:
    """Text boxes stripped, empty ones as None (an optional field left blank)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip() or None
        out[name] = value
    return out


# --- search ---------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents, so "nguyen" finds "Nguyễn" and "duong" finds "Đường"."""
    text = text.casefold().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def search(rows: Sequence[Mapping[str, Any]], text: str | None) -> list[dict[str, Any]]:
    """The rows with every word of `text` somewhere in their values."""
    words = fold(text or "").split()
    return [
        dict(row)
        for row in rows
        if all(
            word in fold(" ".join(str(v) for v in row.values() if v is not None)) for word in words
        )
    ]


# --- rows -----------------------------------------------------------------------------------


def _joined(values: Iterable[str]) -> str:
    return ", ".join(values)


def unit_rows(session: Session, access: Access) -> list[dict[str, Any]]:
    return [
        {
            "id": u.id,
            "name": u.name,
            "kind": u.kind,
            "province": u.province or "",
            "signin": u.signin,
        }
        for u in registry.list_units(session, access.unit_scope(None))
    ]


def field_rows(session: Session, _access: Access) -> list[dict[str, Any]]:
    """Fields are the district's list, shared by every unit."""
    return [{"id": f.id, "name": f.name} for f in registry.list_fields(session)]


def counter_rows(session: Session, access: Access) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "name": c.name, "unit_id": c.unit_id, "field_ids": _joined(c.field_ids)}
        for c in registry.list_counters(session, access.unit_scope(None))
    ]


def officer_rows(session: Session, access: Access) -> list[dict[str, Any]]:
    return [
        {
            "id": o.id,
            "name": o.name,
            "title": o.title or "",
            "unit_id": o.unit_id,
            "active": "Đang làm việc" if o.active else "Đã nghỉ (inactive)",
        }
        for o in registry.list_officers(session, access.unit_scope(None))
    ]


def user_rows(session: Session, access: Access) -> list[dict[str, Any]]:
    access.require(ADMINISTER)
    return [
        {
            "username": u.username,
            "full_name": u.full_name or "",
            "role": " · ".join(captions.ROLE_LABELS.get(u.role, (u.role, u.role))),
            "unit_id": u.unit_id or "",
            "officer_id": u.officer_id or "",
            "created": u.created_at.strftime("%d/%m/%Y"),
        }
        for u in registry.list_users(session)
    ]


# --- choices for the forms ------------------------------------------------------------------


Options = list[dict[str, str]]


def unit_options(session: Session, access: Access) -> Options:
    units = registry.list_units(session, access.unit_scope(None))
    return [{"label": f"{u.name} ({u.id})", "value": u.id} for u in units]


def field_options(session: Session, _access: Access) -> Options:
    return [{"label": f"{f.name} ({f.id})", "value": f.id} for f in registry.list_fields(session)]


def counter_options(session: Session, access: Access) -> Options:
    counters = registry.list_counters(session, access.unit_scope(None))
    return [{"label": f"{c.name} ({c.id}, {c.unit_id})", "value": c.id} for c in counters]


def officer_options(session: Session, access: Access) -> Options:
    officers = registry.list_officers(session, access.unit_scope(None))
    return [{"label": f"{o.name} ({o.id}, {o.unit_id})", "value": o.id} for o in officers]


def role_options(_session: Session, _access: Access) -> Options:
    return [
        {"label": f"{vi} · {en}", "value": role} for role, (vi, en) in captions.ROLE_LABELS.items()
    ]
