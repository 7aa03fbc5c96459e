"""The registry and the ratings, as SQLModel tables plus the request/response shapes of the API.

Ids of units, counters, officers and devices are the caller's own codes (e.g. `CB-0042`), so an
existing staff list imports as it is. Times are naive UTC (see timeutil); `Rating.day` is the
Vietnam calendar day of the press, stored so that reports group on an indexed column.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, field_validator, model_validator
from sqlalchemy import BigInteger, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from hailong.protocol import ID_RE

ROLES = ("admin", "hr", "unit_head", "officer", "viewer")
UNIT_KINDS = {
    "commune": "xã",
    "ward": "phường",
    "provincial_centre": "Trung tâm Phục vụ hành chính công tỉnh",
}


def _code(value: str) -> str:
    if not ID_RE.match(value):
        raise ValueError("must be 1 to 64 characters of A-Z a-z 0-9 . _ - (no spaces, / + #)")
    return value


def _no_control(value: str) -> str:
    """Names end up in spreadsheets and printed reports, which cannot hold control characters."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters (tabs, line breaks, NUL)")
    return value


def _name(value: str) -> str:
    value = _no_control(value.strip())
    if not value:
        raise ValueError("must not be empty")
    return value


def _optional_text(value: str | None) -> str | None:
    return (_no_control(value.strip()) or None) if value is not None else None


MIN_YEAR, MAX_YEAR = 1970, 2999


def _plausible(moment: datetime) -> datetime:
    """Checked before any conversion to UTC, which overflows at the ends of the calendar."""
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"must be a moment between the years {MIN_YEAR} and {MAX_YEAR}")
    return moment


# Every moment the API takes: with its offset, and in a year a rating or shift can have.
Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


def _not_null(value: object) -> object:
    """For PATCH bodies: a left-out field keeps its value, an explicit null is a mistake."""
    if value is None:
        raise ValueError("must not be null; leave the field out to keep its value")
    return value


def _unit_kind(value: str) -> str:
    if value not in UNIT_KINDS:
        kinds = ", ".join(f"{kind} ({label})" for kind, label in UNIT_KINDS.items())
        raise ValueError(f"must be one of {kinds}; not {value!r}")
    return value


class UnitCreate(SQLModel):
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(
        max_length=32,
        description="commune (xã), ward (phường) or provincial_centre "
        "(Trung tâm Phục vụ hành chính công tỉnh)",
    )
    province: str | None = Field(default=None, max_length=200)

    _check_id = field_validator("id")(_code)
    _check_name = field_validator("name")(_name)
    _check_kind = field_validator("kind")(_unit_kind)
    _check_province = field_validator("province")(_optional_text)


class Unit(UnitCreate, table=True):
    id: str = Field(primary_key=True, max_length=64)
    # How officers sign in at this unit's counters (Config.signin): none (the registry only),
    # pin, card or pin_or_card; set by an administrator (server/registry/signin_methods.py).
    signin: str = Field(default="none", max_length=16)


class ServiceFieldCreate(SQLModel):
    """A lĩnh vực (field of procedures) such as Tư pháp, with the caller's own code."""

    id: str = Field(max_length=64, description="the field's code, e.g. tu-phap")
    name: str = Field(max_length=200, description="e.g. Tư pháp")

    _check_id = field_validator("id")(_code)
    _check_name = field_validator("name")(_name)


class ServiceField(ServiceFieldCreate, table=True):
    """Named so as not to shadow sqlmodel's `Field`; the table is `field`."""

    __tablename__ = "field"

    id: str = Field(primary_key=True, max_length=64)


class OfficerCreate(SQLModel):
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_id: str = Field(max_length=64)
    title: str | None = Field(default=None, max_length=200)

    _check_id = field_validator("id")(_code)
    _check_name = field_validator("name")(_name)


class Officer(OfficerCreate, table=True):
    id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=64)
    active: bool = True


class OfficerUpdate(SQLModel):
    """Only the fields sent change; `title` may be null to clear it."""

    name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    active: bool | None = Field(
        default=None,
        description="false: the officer left; their assignments and rota rows end from now",
    )
    unit_id: str | None = Field(
        default=None,
        max_length=64,
        description="move the officer to another unit (refused while they have shifts at the old)",
    )

    _check_not_null = field_validator("name", "active", "unit_id")(_not_null)
    _check_name = field_validator("name")(_name)


class CounterBase(SQLModel):
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_id: str = Field(max_length=64)

    _check_id = field_validator("id")(_code)
    _check_name = field_validator("name")(_name)


class CounterCreate(CounterBase):
    field_ids: list[str] = Field(
        default_factory=list, description="codes of the fields (lĩnh vực) the counter serves"
    )


class Counter(CounterBase, table=True):
    id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=64)


class CounterPublic(CounterBase):
    field_ids: list[str]


class CounterField(SQLModel, table=True):
    """Which fields a counter serves: a counter may serve several, a field many counters."""

    __tablename__ = "counter_field"

    counter_id: str = Field(foreign_key="counter.id", primary_key=True, max_length=64)
    field_id: str = Field(foreign_key="field.id", primary_key=True, index=True, max_length=64)


class AssignmentCreate(SQLModel):
    officer_id: str = Field(max_length=64)
    counter_id: str = Field(max_length=64)
    start: Moment
    end: Moment | None = None


class Assignment(SQLModel, table=True):
    __table_args__ = (Index("ix_assignment_counter_start", "counter_id", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    officer_id: str = Field(foreign_key="officer.id", index=True, max_length=64)
    counter_id: str = Field(foreign_key="counter.id", max_length=64)
    start: datetime
    end: datetime | None = None
    # Where the shift came from: `registry` (an administrator, the API, an import) or `signin`
    # (the officer signed in at the unit); the roster shows it.
    source: str = Field(default="registry", max_length=16)


class AssignmentUpdate(SQLModel):
    end: Moment = Field(description="when the shift ends (or ended), with its offset")


class AssignmentPublic(SQLModel):
    id: int
    officer_id: str
    counter_id: str
    start: datetime
    end: datetime | None


class DeviceCreate(SQLModel):
    id: str = Field(max_length=64)
    counter_id: str = Field(max_length=64)

    _check_id = field_validator("id")(_code)


class Device(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    counter_id: str = Field(foreign_key="counter.id", index=True, max_length=64)
    created_at: datetime
    revoked_at: datetime | None = None
    firmware: str | None = Field(default=None, max_length=64)
    state: str | None = Field(default=None, max_length=16)
    last_seen_at: datetime | None = None
    outbox: int | None = None
    ignored_presses: int | None = None


class DeviceListed(SQLModel):
    """A device as `GET /devices` lists it: what its Status said, and the ratings it never
    delivered, by seq (server/ingest/ordering.py)."""

    id: str
    counter_id: str
    created_at: datetime
    revoked_at: datetime | None
    firmware: str | None
    state: str | None
    last_seen_at: datetime | None
    outbox: int | None
    ignored_presses: int | None
    missing_seqs: int = Field(description="how many seq values below its highest never arrived")
    missing_seq_ranges: list[tuple[int, int]] = Field(
        description="the first 100 ranges of them, [first, last] each"
    )


class DeviceRegistered(SQLModel):
    """The answer to a registration. No password: the unit's device.toml comes in its bundle
    (POST /api/v1/devices/{id}/bundle), which sets one."""

    id: str
    counter_id: str
    created_at: datetime
    replaced: str | None = Field(
        default=None, description="the device revoked to make room for this one (replace=true)"
    )


class Rating(SQLModel, table=True):
    """Append-only. `flags` lists why a rating needs a second look; it is never dropped."""

    __table_args__ = (
        Index("ix_rating_device_seq", "device_id", "seq"),
        Index("ix_rating_officer_day", "officer_id", "day"),
        Index("ix_rating_day", "day"),
        Index("ix_rating_counter_day", "counter_id", "day"),
        Index("ix_rating_device_pressed", "device_id", "pressed_at"),
        Index("ix_rating_received", "received_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    device_id: str = Field(max_length=64)
    seq: int
    pressed_at: datetime
    device_pressed_at: str = Field(max_length=64)
    received_at: datetime
    day: date
    scale: str = Field(max_length=8)
    score: int
    officer_id: str | None = Field(default=None, max_length=64)
    counter_id: str | None = Field(default=None, max_length=64)
    unit_id: str | None = Field(default=None, max_length=64)
    reported_officer_id: str | None = Field(default=None, max_length=64)
    reported_counter_id: str | None = Field(default=None, max_length=64)
    ticket: str | None = Field(default=None, max_length=64)
    reasons: str = Field(default="", max_length=2000)
    comment: str | None = Field(default=None, max_length=500)
    input: str = Field(default="button", max_length=16)
    clock_synced: bool = True
    flags: str = Field(default="", max_length=200)
    # The unit's boot and monotonic clock at the press, for the time and misuse rules; not in
    # the hash chain (server/integrity/encoding.py): the chained pressed_at and flags carry their
    # outcome.
    boot_id: str | None = Field(default=None, max_length=64)
    mono_ms: int | None = Field(default=None, sa_type=BigInteger)


class DeviceBoot(SQLModel, table=True):
    """The first live Status of each boot of a unit: its receipt and the unit's monotonic clock
    then, which date any press of that boot (server/ingest/press_time.py). The first, because a unit
    publishes it at connect, before anyone could know the new boot's random id."""

    __tablename__ = "device_boot"

    device_id: str = Field(primary_key=True, max_length=64)
    boot_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime
    mono_ms: int = Field(sa_type=BigInteger)


class DeviceConnection(SQLModel, table=True):
    """A unit's connection history (server/ingest/connections.py): each Status that changed its
    state from another, and every offline one (its Last Will or a clean stop), when the server got
    it. `live`: received while the server's subscription was live (not a retained copy or
    backlog)."""

    __tablename__ = "device_connection"
    __table_args__ = (Index("ix_device_connection_device_at", "device_id", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(max_length=64)
    state: str = Field(max_length=16)
    received_at: datetime
    live: bool


class SeqGap(SQLModel, table=True):
    """Seq values of a unit never received (server/ingest/ordering.py): first_seq..last_seq, or from
    first_seq on when last_seq is null (above the highest received). No row: none received."""

    __tablename__ = "seq_gap"

    device_id: str = Field(primary_key=True, max_length=64)
    first_seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_seq: int | None = None


class RejectedMessage(SQLModel, table=True):
    """A message the ingest refused, kept with its bytes so an administrator can see why."""

    __table_args__ = (Index("ix_rejectedmessage_device_id_id", "device_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(index=True)
    device_id: str = Field(default="", max_length=64)  # from the topic; '' when it names none
    topic: str = Field(max_length=300)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    rating_id: str | None = Field(default=None, max_length=64)
    field: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=1000)


class RejectedDropped(SQLModel, table=True):
    """How many of a device's rejected messages were deleted unseen (server/ingest/rejected.py):
    over its quota, or older than the age limit; '' counts those whose topic names no device."""

    __tablename__ = "rejected_dropped"

    device_id: str = Field(primary_key=True, max_length=64)
    over_quota: int = 0
    too_old: int = 0


class SpooledMessage(SQLModel, table=True):
    """A message of a device over its ingest rate, kept raw until the ingest stores it
    (server/ingest/spool.py); deleted in the transaction that stores it."""

    __tablename__ = "ingest_spool"
    __table_args__ = (Index("ix_ingest_spool_device_id_id", "device_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(max_length=64)
    topic: str = Field(max_length=300)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    # The person's name as the header and signatures show it ("Nguyễn Thị Lan");
    # empty: the login id.
    full_name: str | None = Field(default=None, max_length=120)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=16)
    unit_id: str | None = Field(default=None, max_length=64)
    officer_id: str | None = Field(default=None, max_length=64)
    created_at: datetime


class RevokedToken(SQLModel, table=True):
    """A login token ended before its time by logging out (server/access/sessions.py), kept
    until it would have expired anyway; then the housekeeping prunes it."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)


def user_scope_problem(
    role: str, unit_id: str | None, officer_id: str | None, *, unit: str, officer: str
) -> str | None:
    """The one rule of what a login is limited to, for the API and `hailong user add` alike;
    `unit` and `officer` name the inputs as the caller knows them (a field or an option)."""
    if role == "officer":
        if officer_id is None:
            return f"{officer}: an officer's login needs the officer whose figures they see"
        if unit_id is not None:
            return f"{unit}: an officer's unit is the officer's own; leave {unit} out"
        return None
    if officer_id is not None:
        return f"{officer}: only an officer's login belongs to an officer; leave {officer} out"
    if role == "unit_head" and unit_id is None:
        return f"{unit}: a unit_head needs the unit they are limited to"
    if role != "unit_head" and unit_id is not None:
        return f"{unit}: the {role} role is not limited to a unit; leave {unit} out"
    return None


class UserCreate(SQLModel):
    username: str = Field(max_length=64)
    full_name: str | None = Field(
        default=None, max_length=120, description="the person's name, e.g. Nguyễn Thị Lan"
    )
    password: str = Field(min_length=8, max_length=200)
    role: str = Field(description="admin, hr, unit_head, officer or viewer")
    unit_id: str | None = Field(
        default=None, max_length=64, description="required for a unit_head: the unit they see"
    )
    officer_id: str | None = Field(
        default=None,
        max_length=64,
        description="required for an officer: whose figures they see (the unit is the officer's)",
    )

    _check_username = field_validator("username")(_code)

    @field_validator("role")
    @classmethod
    def _check_role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"must be one of {', '.join(ROLES)}; not {value!r}")
        return value

    @model_validator(mode="after")
    def _check_scope(self) -> UserCreate:
        problem = user_scope_problem(
            self.role, self.unit_id, self.officer_id, unit="unit_id", officer="officer_id"
        )
        if problem is not None:
            raise ValueError(problem)
        return self


class UserPublic(SQLModel):
    id: int
    username: str
    full_name: str | None = None
    role: str
    unit_id: str | None
    officer_id: str | None
    created_at: datetime


class ServiceRecord(SQLModel, table=True):
    """A service (transaction) the queue system says a counter served: with the ratings that
    carry its ticket, the response rate. Append-only, like the ratings."""

    __tablename__ = "service"
    __table_args__ = (
        Index("ix_service_counter_ticket", "counter_id", "ticket", "day", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    counter_id: str = Field(max_length=64)
    ticket: str = Field(max_length=64)
    served_at: datetime
    day: date
    officer_id: str | None = Field(default=None, max_length=64)
    unit_id: str | None = Field(default=None, max_length=64)
    received_at: datetime


class RatingLink(SQLModel, table=True):
    """One link of a device's hash chain: `hash` is an HMAC, with a key kept outside the
    database, of the previous link's hash and the stored rating. Anyone holding only the
    database can read the chain but cannot forge a link for an edited, added or removed row."""

    __tablename__ = "rating_chain"

    device_id: str = Field(primary_key=True, max_length=64)
    position: int = Field(primary_key=True)
    rating_id: str = Field(unique=True, max_length=36)
    hash: str = Field(max_length=64)


class ChainHead(SQLModel, table=True):
    """The last link of each device's chain, locked while a batch appends to it (so two ingest
    processes append one after the other), and MACed so it cannot be wound back by hand."""

    __tablename__ = "chain_head"

    device_id: str = Field(primary_key=True, max_length=64)
    position: int
    hash: str = Field(max_length=64)
    mac: str = Field(max_length=64)
    updated_at: datetime


class AuditEvent(SQLModel, table=True):
    """Who did what, when and from where: every write, export and login. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_action_at", "action", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64)
    role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=64)
    target: str | None = Field(default=None, max_length=200)
    client: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="{}")


class AuditEventPublic(SQLModel):
    """An audit event as the API shows it: `detail` parsed back into an object."""

    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    target: str | None
    client: str | None
    detail: dict[str, Any]


class Alert(SQLModel, table=True):
    """A rule of the policy that fired, shown to the unit head and sent to the webhook.
    `key` (rule, scope, window) makes a rule fire once per window, however many processes
    evaluate it."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    rule: str = Field(max_length=64)
    unit_id: str = Field(index=True, max_length=64)
    counter_id: str | None = Field(default=None, max_length=64)
    raised_at: datetime = Field(index=True)
    window_start: datetime
    window_end: datetime
    value: float | None = None
    message: str = Field(max_length=500)
    delivered_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    # A person's answer to the alert, audited as well: acknowledged (seen, being handled), then
    # resolved (dealt with). Who is the user's login id, kept though the user may be deleted.
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=64)
    resolution_note: str | None = Field(default=None, max_length=500)
