"""The Hài Lòng wire contract, version 1 (docs/protocol.md), in the one module both sides import.

Devices in the field and servers are upgraded at different times, so everything that crosses the
broker is defined here once: topics, payload models, validation with errors that name the field,
the rating scales and the two figures every report is built from (satisfied % and happy index).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

SCHEMA_VERSION: Literal[1] = 1
TOPIC_PREFIX = "hailong/v1/"
MAX_PAYLOAD_BYTES = 16 * 1024
ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
KINDS = ("ratings", "status", "acks", "config", "service", "signin")
Kind = Literal["ratings", "status", "acks", "config", "service", "signin"]
QOS = 1
# What a unit's clock must be within of the server's own estimate before the server corrects it.
CLOCK_TOLERANCE_S = 120
DEFAULT_STATUS_S = 60
DEFAULT_RESEND_S = 30
# The channels a rating comes in by: a unit's own, and the server's (phone, paper form).
DEVICE_INPUTS = ("button", "touch", "keyboard")
SERVER_INPUTS = ("web", "paper")


class ContractError(ValueError):
    """A payload or topic that breaks the contract; `field` names the offending field, if any."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


# --- scales and figures -------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """A rating scale: level i is labels[i-1]; levels from `satisfied_from` up are satisfied."""

    code: str
    labels_vi: tuple[str, ...]
    labels_en: tuple[str, ...]
    satisfied_from: int

    @property
    def size(self) -> int:
        return len(self.labels_vi)

    def is_satisfied(self, score: int) -> bool:
        return score >= self.satisfied_from

    def happy_value(self, score: int) -> Fraction:
        """The level mapped evenly onto 0..100 (vn4: 0, 33.3, 66.7, 100), as an exact fraction
        (vn4 level 2 is 100/3, not 33.33…), so a figure made of it is rounded once, at the end."""
        return Fraction((score - 1) * 100, self.size - 1)


SCALES: dict[str, Scale] = {
    "vn4": Scale(
        "vn4",
        ("Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"),
        ("Dissatisfied", "Neutral", "Satisfied", "Very satisfied"),
        satisfied_from=3,
    ),
    "vn3": Scale(
        "vn3",
        ("Không hài lòng", "Hài lòng", "Rất hài lòng"),
        ("Dissatisfied", "Satisfied", "Very satisfied"),
        satisfied_from=2,
    ),
}
ScaleCode = Literal["vn4", "vn3"]
DEFAULT_SCALE: ScaleCode = "vn4"


# The figures' definitions, exact; server/reporting/scoring.py computes them for reports in one
# pass of whole numbers from these same scale rules, and rounds them once.


def satisfied_pct(counts: Mapping[tuple[str, int], int]) -> Fraction | None:
    """Share of ratings at a satisfied level, in percent; `counts` maps (scale, score) to n."""
    total = sum(counts.values())
    if total == 0:
        return None
    good = sum(n for (scale, score), n in counts.items() if SCALES[scale].is_satisfied(score))
    return Fraction(100 * good, total)


def happy_index(counts: Mapping[tuple[str, int], int]) -> Fraction | None:
    """Mean of the levels mapped onto 0..100, so vn3 and vn4 ratings can be averaged together."""
    total = sum(counts.values())
    if total == 0:
        return None
    happy = sum((SCALES[s].happy_value(score) * n for (s, score), n in counts.items()), Fraction())
    return happy / total


# --- field types --------------------------------------------------------------------------


def _check_id(value: str) -> str:
    if not ID_RE.match(value):
        raise ValueError("must be 1 to 64 characters of A-Z a-z 0-9 . _ - (no / + #)")
    return value


def _check_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a UUID") from None


def _not_a_bool(value: Any) -> Any:
    """JSON `true` is not the integer 1, though Python says True == 1."""
    if isinstance(value, bool):
        raise ValueError("must be an integer")
    return value


def _check_rfc3339(value: Any) -> datetime:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value  # made in Python (the unit's own clock), not read off the wire
    if not isinstance(value, str) or not RFC3339_RE.match(value):
        raise ValueError(
            "must be an RFC 3339 date-time with offset, e.g. 2026-11-21T09:15:02+07:00"
        )
    try:
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError("is not a valid date-time") from None


Id = Annotated[StrictStr, AfterValidator(_check_id)]
BootId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
MonoMs = Annotated[StrictInt, Field(ge=0)]
UUIDStr = Annotated[StrictStr, AfterValidator(_check_uuid)]
Timestamp = Annotated[datetime, BeforeValidator(_check_rfc3339)]


class _Message(BaseModel):
    """Unknown extra fields are ignored so that later versions can add optional fields."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    schema_: Annotated[Literal[1], BeforeValidator(_not_a_bool)] = Field(
        SCHEMA_VERSION, alias="schema"
    )

    def to_payload(self) -> bytes:
        return encode(self)


def encode(message: BaseModel) -> bytes:
    data = message.model_dump(mode="json", by_alias=True)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- payloads -----------------------------------------------------------------------------


class Rating(_Message):
    id: UUIDStr
    device_id: Id
    seq: StrictInt = Field(ge=1)
    pressed_at: Timestamp
    score: StrictInt
    scale: ScaleCode = DEFAULT_SCALE
    officer_id: Id | None = None
    counter_id: Id | None = None
    ticket: StrictStr | None = Field(None, max_length=64)
    reasons: list[Id] = Field(default_factory=list, max_length=32)
    comment: StrictStr | None = Field(None, max_length=500)
    input: Literal["button", "touch", "keyboard", "web", "paper"] = "button"
    clock_synced: StrictBool = True
    boot_id: BootId | None = None
    mono_ms: MonoMs | None = None

    @model_validator(mode="after")
    def _score_on_scale(self) -> Rating:
        size = SCALES[self.scale].size
        if not 1 <= self.score <= size:
            raise ValueError(f"score {self.score} is outside the {self.scale} scale (1..{size})")
        return self

    @property
    def scale_info(self) -> Scale:
        return SCALES[self.scale]


class Status(_Message):
    state: Literal["online", "offline"]
    firmware: StrictStr = Field(max_length=64)
    outbox: StrictInt = Field(ge=0)
    uptime_s: StrictInt = Field(ge=0)
    at: Timestamp
    ignored_presses: StrictInt | None = Field(None, ge=0)
    clock_synced: StrictBool | None = None
    boot_id: BootId | None = None
    mono_ms: MonoMs | None = None


class AckRejection(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id: StrictStr
    error: StrictStr


class Ack(_Message):
    accepted: list[StrictStr] = Field(default_factory=list)
    duplicate: list[StrictStr] = Field(default_factory=list)
    rejected: list[AckRejection] = Field(default_factory=list)
    server_time: Timestamp | None = None

    def named_ids(self) -> set[str]:
        return {*self.accepted, *self.duplicate, *(r.id for r in self.rejected)}


class OfficerCard(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id: Id
    name: StrictStr
    title: StrictStr | None = None
    photo_url: StrictStr | None = None


class Reason(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    code: Id
    label_vi: StrictStr
    label_en: StrictStr


class Config(_Message):
    device_id: Id
    counter_id: Id | None = None
    unit_name: StrictStr = ""
    officer: OfficerCard | None = None
    scale: ScaleCode = DEFAULT_SCALE
    reasons: list[Reason] = Field(default_factory=list)
    cooldown_s: float = Field(3, ge=0)
    require_service: StrictBool = False
    server_time: Timestamp | None = None
    status_s: StrictInt = Field(DEFAULT_STATUS_S, ge=1)
    resend_s: StrictInt = Field(DEFAULT_RESEND_S, ge=1)
    signin: Literal["none", "pin", "card", "pin_or_card"] = "none"


class Service(_Message):
    ticket: StrictStr = Field(max_length=64)
    officer_id: Id
    open_s: StrictInt = Field(30, ge=1)
    # Optional addition (docs/queue-integration.md): the ticket's rating link, which the unit
    # shows as a QR code for a citizen who prefers to rate later. Ignored by older units.
    rating_url: StrictStr | None = Field(None, max_length=300)


class Credential(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: Literal["pin", "card"]
    value: StrictStr = Field(min_length=1, max_length=128)


class SignIn(_Message):
    """An officer starting or ending a shift at the unit (the server side comes later)."""

    id: UUIDStr
    action: Literal["in", "out"]
    credential: Credential
    at: Timestamp
    boot_id: BootId | None = None
    mono_ms: MonoMs | None = None


PAYLOADS: dict[str, type[_Message]] = {
    "ratings": Rating,
    "status": Status,
    "acks": Ack,
    "config": Config,
    "service": Service,
    "signin": SignIn,
}


# --- topics -------------------------------------------------------------------------------


def topic(device_id: str, kind: Kind) -> str:
    _check_id(device_id)
    return f"{TOPIC_PREFIX}devices/{device_id}/{kind}"


def topic_filter(kind: Kind) -> str:
    """The wildcard filter a server subscribes to for one kind of message from every device."""
    return f"{TOPIC_PREFIX}devices/+/{kind}"


def parse_topic(name: str) -> tuple[str, Kind]:
    """Split `hailong/v1/devices/<id>/<kind>`; the topic, not the payload, says which device."""
    parts = name.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}/" != TOPIC_PREFIX or parts[2] != "devices":
        raise ContractError("topic", f"{name!r} is not a hailong/v1/devices/<id>/<kind> topic")
    device_id, kind = parts[3], parts[4]
    if not ID_RE.match(device_id):
        raise ContractError("topic", f"device id {device_id!r} in the topic is not a valid id")
    if kind not in KINDS:
        raise ContractError("topic", f"unknown message kind {kind!r}")
    return device_id, kind  # type: ignore[return-value]


# --- decoding -----------------------------------------------------------------------------


def _load_object(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(None, f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if not payload:
        raise ContractError(None, "empty payload, expected a JSON object")
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ContractError(None, "payload is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ContractError(None, f"payload is not JSON ({exc.msg})") from None
    except RecursionError:
        raise ContractError(None, "payload nests JSON too deeply") from None
    if not isinstance(data, dict):
        raise ContractError(None, f"payload is a JSON {type(data).__name__}, expected an object")
    return data


def _first_error(exc: ValidationError) -> ContractError:
    err = exc.errors()[0]
    loc = err.get("loc") or ()
    field = str(loc[0]) if loc else None
    if field == "schema_":
        field = "schema"
    message = err.get("msg", "invalid").removeprefix("Value error, ")
    if field is None and message.startswith("score "):
        field = "score"
    if field == "schema":
        message = f"unknown schema {err.get('input')!r}; this side speaks schema {SCHEMA_VERSION}"
    return ContractError(field, message)


def decode(kind: Kind, payload: bytes) -> _Message:
    """Validate a payload of one kind; `schema` must be present on the wire."""
    data = _load_object(payload)
    if "schema" not in data:
        raise ContractError("schema", "missing")
    try:
        return PAYLOADS[kind].model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None


def decode_rating(topic_name: str, payload: bytes) -> Rating:
    """Everything the contract alone can say about a rating; registry rules are the server's."""
    device_id, kind = parse_topic(topic_name)
    if kind != "ratings":
        raise ContractError("topic", f"{topic_name!r} is not a ratings topic")
    rating = decode("ratings", payload)
    assert isinstance(rating, Rating)
    if rating.device_id != device_id:
        raise ContractError(
            "device_id", f"{rating.device_id!r} differs from the topic's device {device_id!r}"
        )
    if rating.input in SERVER_INPUTS:
        raise ContractError(
            "input", f"{rating.input!r} is the server's own channel, refused on a device topic"
        )
    return rating


def decode_status(payload: bytes) -> Status:
    msg = decode("status", payload)
    assert isinstance(msg, Status)
    return msg


def decode_ack(payload: bytes) -> Ack:
    msg = decode("acks", payload)
    assert isinstance(msg, Ack)
    return msg


def decode_config(payload: bytes) -> Config:
    msg = decode("config", payload)
    assert isinstance(msg, Config)
    return msg


def decode_signin(payload: bytes) -> SignIn:
    msg = decode("signin", payload)
    assert isinstance(msg, SignIn)
    return msg


def decode_service(payload: bytes) -> Service:
    msg = decode("service", payload)
    assert isinstance(msg, Service)
    return msg


def press_time(reference: datetime, reference_mono_ms: int, press_mono_ms: int) -> datetime:
    """True time of a press from one moment of the same boot whose true time is known: the unit
    dating a held press from NTP or an Ack's `server_time`, the server estimating it from the
    receipt of a live Status. Monotonic time never jumps, so the difference is exact."""
    return reference + timedelta(milliseconds=press_mono_ms - reference_mono_ms)


def level_counts(ratings: Iterable[Rating]) -> dict[tuple[str, int], int]:
    counts: dict[tuple[str, int], int] = {}
    for r in ratings:
        counts[(r.scale, r.score)] = counts.get((r.scale, r.score), 0) + 1
    return counts
