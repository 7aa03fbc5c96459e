"""The database engine and schema: Alembic migrations are applied at every server start (and
by `hailong migrate`), and a database written by a newer version is refused before anything."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from hailong.errors import HailongError

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger("hailong.storage")


def _private_sqlite_files(path: Path) -> None:
    """The database file is made 0600 before SQLite opens it, and SQLite gives its -wal and
    -shm files the database's own mode; files left by an older version are narrowed too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is a new database
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            try:
                file.chmod(0o600)
            except PermissionError:  # another user's file: theirs to narrow
                log.warning("%s is readable by others; make it mode 0600", file)


def make_engine(url: str) -> Engine:
    """SQLite gets WAL and a busy timeout so the API can read while ingest writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_files(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


class NewerDatabase(HailongError):
    """The database is at a revision this code has no migration for: a newer version wrote it."""


@dataclass(frozen=True)
class Migration:
    revision: str
    title: str  # the first line of the migration's docstring

    @classmethod
    def of(cls, script: Script) -> Migration:
        lines = (script.doc or "").strip().splitlines()
        return cls(script.revision, lines[0].strip() if lines else "")


@dataclass(frozen=True)
class Plan:
    """Where the schema is (None: no migration ever ran) and what would bring it to `head`."""

    current: str | None
    head: str
    pending: tuple[Migration, ...]  # oldest first


def plan(engine: Engine) -> Plan:
    """What `migrate` would do, with nothing changed; a newer database is refused."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    head = script.get_current_head() or ""
    known = {s.revision for s in script.walk_revisions()}
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    for revision in heads:
        if revision not in known:
            raise NewerDatabase(
                f"the database was written by a newer Hài Lòng (revision {revision}); this "
                f"version knows up to {head}: upgrade the software, or restore a backup made "
                "by this version"
            )
    current = heads[0] if heads else None
    todo = script.iterate_revisions(head, current or "base")
    pending = tuple(reversed([Migration.of(s) for s in todo if s is not None]))
    return Plan(current, head, pending)


MIGRATION_LOCK = 0x4A1_106  # any constant, the same in every server process


def migrate(engine: Engine, progress: Callable[[Migration], None] | None = None) -> None:
    """Bring the schema to head, calling `progress` as each migration is applied; a database
    written by a newer version is refused unchanged. On PostgreSQL several server processes
    may start together: an advisory lock lets one migrate while the others wait, then find
    nothing left to do."""
    if engine.dialect.name != "postgresql":
        _upgrade(engine, progress)
        return
    with engine.connect() as lock:
        lock.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        try:
            _upgrade(engine, progress)
        finally:
            lock.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")


def _upgrade(engine: Engine, progress: Callable[[Migration], None] | None) -> None:
    pending = {m.revision: m for m in plan(engine).pending}
    if not pending:
        return
    cfg = alembic_config(engine)
    if progress is not None:
        report = progress

        def applied(*, step: MigrationInfo, **_: Any) -> None:
            migration = pending.get(step.up_revision_id or "")
            if migration is not None:
                report(migration)

        cfg.attributes["on_version_apply"] = applied
    command.upgrade(cfg, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
