"""A secret kept in a private file beside the data, made once by whichever process starts first.

The chain key and the MQTT client token are each made at the first start of an installation,
possibly by several processes starting at the same moment (a server and its ingest processes).
The secret is written whole to a private temporary file (0600) and hard-linked into place, so no
process ever reads half of one, and of two processes making it at once both end up with the one
that was linked.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def make_once(path: Path, make: Callable[[], str]) -> bool:
    """Write `make()` to `path` unless it exists; True when this call made it. OSError when
    the folder cannot be made or written."""
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(make() + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False  # another process made it a moment ago: theirs is the secret
        return True
    finally:
        tmp.unlink()


def private_folder(path: Path) -> None:
    """Make the folder readable by its owner only (0700), also when it already exists: it holds
    the database and secrets. OSError when it cannot be made."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
