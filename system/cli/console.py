"""What the console commands that open the database share: their runtime, opened from
`--data-dir` and the HAILONG_* settings; their name in the audit log; and one message each for
a database that cannot be used and for one that is not there."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
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


def require_database(settings: Settings) -> None:
    """For a command that must find the database, not make one: a SQLite file that is not
    there is most likely a mistyped --data-dir."""
    parsed = make_url(settings.database_url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise HailongError(
            f"no database at {parsed.database}: give --data-dir the folder that holds "
            "hailong.db, or set HAILONG_DATABASE_URL"
        )
