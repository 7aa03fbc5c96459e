"""What the console commands that open the database share: their runtime, opened from
`--data-dir` and the HAILONG_* settings; their name in the audit log; and one message for a
database that cannot be used."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError

from hailong.errors import HailongError
from server.runtime import Runtime
from server.settings import Settings


def runtime(args: argparse.Namespace) -> Runtime:
    return Runtime(Settings.for_data_dir(args.data_dir))


def client() -> str:
    """Where a console change came from, for the audit log."""
    return f"hailong on {socket.gethostname()}"


@contextmanager
def database_errors(kind: type[DBAPIError] = OperationalError) -> Iterator[None]:
    try:
        yield
    except kind as exc:
        raise HailongError(f"cannot use the database: {exc.orig}") from exc
