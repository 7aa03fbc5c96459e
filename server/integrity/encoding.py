"""What a link of the chain hashes, and where the chain is kept.

A link is an HMAC of the previous link and the canonical bytes of one rating: every chained
column as JSON, the same whether the rating comes from the ingest as a `RatingRow` or is read
back from SQLite or PostgreSQL, typed or raw. Heads and anchors are MACed with the same key; each
message starts with what it is, so a MAC of one kind never stands in for another. These bytes
never change: every link stored so far was made from them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import column, table
from sqlalchemy.types import Boolean, Date, DateTime, Integer, String, TypeDecorator

from hailong.errors import HailongError
from server.storage.models import AuditEvent, ChainHead, Rating, RatingLink
from server.storage.rows import COLUMNS, RatingRow

GENESIS = ""  # the `prev_hash` of a device's first link
# What the chain writes to the audit log.
SEALED = "chain.sealed"
ANCHOR = "chain.anchor"
HEAD_BEHIND = "chain.head_behind"
PAGE = 5000  # ratings read at a time when the chain is sealed or walked

# The unit's boot and monotonic clock at the press, added after the chain began: the chained
# pressed_at and flags carry what the rules made of them, and chaining them would have changed
# every existing link.
UNCHAINED = ("boot_id", "mono_ms")
# Every other column of `rating` is in the hash of its link. A column added to `rating` later
# joins it and would change the hash of every old row: whoever adds one decides, as a test of
# the canonical bytes fails until they do.
CHAINED_COLUMNS = tuple(name for name in COLUMNS if name not in UNCHAINED)

RATING = Rating.__table__  # type: ignore[attr-defined]
CHAIN = RatingLink.__table__  # type: ignore[attr-defined]
HEAD = ChainHead.__table__  # type: ignore[attr-defined]
EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
# The rating table without column types: values come as the database holds them, so a value
# edited by hand into something the model could not parse is reported, not a crash.
RAW = table("rating", *(column(name) for name in CHAINED_COLUMNS))

Progress = Callable[[int, int], None]


class ChainError(HailongError):
    """The chain cannot be extended or checked as it stands."""


def _kind(name: str) -> type:
    sa_type = RATING.c[name].type
    if isinstance(sa_type, TypeDecorator):
        sa_type = sa_type.impl_instance
    for sa_class, kind in ((DateTime, datetime), (Date, date), (Boolean, bool), (Integer, int)):
        if isinstance(sa_type, sa_class):
            return kind
    if isinstance(sa_type, String):
        return str
    raise TypeError(f"rating.{name}: no canonical encoding for {sa_type!r}")


KINDS = {name: _kind(name) for name in CHAINED_COLUMNS}


# hashing ----------------------------------------------------------------------------------------


def mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _text(value: str) -> bytes:
    """UTF-8, keeping bytes a hand edit made undecodable (see `_lenient_text`) as they were."""
    return value.encode("utf-8", "surrogateescape")


def _unexpected(value: Any) -> Any:
    """A value of a type its column never holds (a hand edit) encodes as itself: never a match."""
    return {"unexpected": type(value).__name__, "value": str(value)}


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return {"unreadable": value}
    if not isinstance(value, datetime):
        return _unexpected(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def _day(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return {"unreadable": value}
    if isinstance(value, datetime) or not isinstance(value, date):
        return _unexpected(value)
    return value.isoformat()


def _flag(value: Any) -> Any:
    return bool(value) if isinstance(value, int) and value in (0, 1) else _unexpected(value)


def _number(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else _unexpected(value)


def _string(value: Any) -> Any:
    return value if isinstance(value, str) else _unexpected(value)


# Per column, in sorted order, how its value becomes JSON: the same from the ingest's row
# (aware datetimes, date, bool) as read back from SQLite (text, 0/1) or PostgreSQL.
_ENCODE: dict[type, Callable[[Any], Any]] = {
    datetime: _moment,
    date: _day,
    bool: _flag,
    int: _number,
    str: _string,
}
_SORTED = tuple(sorted(CHAINED_COLUMNS))
_ENCODERS = tuple(_ENCODE[KINDS[name]] for name in _SORTED)
_from_row = attrgetter(*_SORTED)
_from_mapping = itemgetter(*_SORTED)


def canonical(row: RatingRow | Mapping[Any, Any]) -> bytes:
    """The bytes a link hashes: every chained column as JSON with sorted keys (built in sorted
    order, which is what sort_keys would do, only faster), UTC times to the microsecond."""
    try:
        raw = _from_row(row) if isinstance(row, RatingRow) else _from_mapping(row)
    except KeyError as exc:
        raise ChainError(
            f"a rating row lacks {exc.args[0]}: the chain hashes every column"
        ) from None
    values = {
        name: None if v is None else enc(v)
        for name, enc, v in zip(_SORTED, _ENCODERS, raw, strict=True)
    }
    return _text(json.dumps(values, separators=(",", ":"), ensure_ascii=False))


def link_hash(
    key: bytes, prev_hash: str, device_id: str, position: int, row: RatingRow | Mapping[Any, Any]
) -> str:
    """Each message starts with what it is ("link", "head", "anchor"), so a MAC of one kind can
    never stand in for another."""
    return mac(key, _text(f"link\n{prev_hash}\n{device_id}\n{position}\n") + canonical(row))


def head_mac(key: bytes, device_id: str, position: int, hash_: str) -> str:
    return mac(key, _text(f"head\n{device_id}\n{position}\n{hash_}"))


def anchor_mac(key: bytes, day: str, heads: Mapping[str, Sequence[Any]]) -> str:
    body = json.dumps({"day": day, "heads": heads}, sort_keys=True, separators=(",", ":"))
    return mac(key, _text(f"anchor\n{body}"))


def json_object(text: Any) -> dict[str, Any] | None:
    """An audit event's detail, None when a hand edit made it anything but a JSON object."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
