"""The chain key: a file beside, never inside, the database, made once and then only read.

Every server and ingest process reads the same file. The first seal records the key's
fingerprint, so a process given another key is refused rather than starting a second chain.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from server.integrity.encoding import EVENT, SEALED, ChainError, json_object, mac
from server.settings import Settings
from server.storage.secret_file import make_once

log = logging.getLogger("hailong.chain")

KEY_BYTES = 32


class ChainKeyError(ChainError):
    """The chain key file is missing, unreadable, malformed, or not the chain's own."""


def key_path(settings: Settings) -> Path:
    return settings.chain_key_file or settings.data_dir / "chain.key"


def ensure_key(path: Path) -> bytes:
    """Load the key, making it first if there is none (server/storage/secret_file.py: a process
    starting at the same moment never reads half of it)."""
    if make_once(path, lambda: secrets.token_hex(KEY_BYTES)):
        log.warning("made the chain key %s: back it up, every check needs it", path)
    return load_key(path)


def load_key(path: Path) -> bytes:
    what = "restore it from the backup, or point HAILONG_CHAIN_KEY_FILE at it"
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ChainKeyError(f"no chain key at {path}: {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainKeyError(f"cannot read the chain key {path} ({exc}): {what}") from None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ChainKeyError(
            f"{path} is not a chain key ({KEY_BYTES} bytes as {2 * KEY_BYTES} hex digits): {what}"
        )
    return key


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it: the seal records it, so a wrong key is refused."""
    return mac(key, b"fingerprint")[:16]


def seal_event(conn: Connection) -> Mapping[str, Any] | None:
    """The detail of the first seal, which names the key the chain was begun with."""
    detail = conn.execute(
        select(EVENT.c.detail).where(EVENT.c.action == SEALED).order_by(EVENT.c.id).limit(1)
    ).scalar()
    return None if detail is None else json_object(detail)


def check_key(conn: Connection, key: bytes, path: Path | None = None) -> None:
    """Refuse a key that is not the one the seal names: a misconfigured process must neither
    fork the chain nor call every rating forged."""
    seal = seal_event(conn)
    if seal is not None and seal.get("key_fingerprint") not in (None, fingerprint(key)):
        where = f" ({path})" if path else ""
        raise ChainKeyError(
            f"the chain key{where} is not the one the ratings were chained with: "
            "use the original key file, restored from the backup"
        )
