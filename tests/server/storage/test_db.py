"""Schema start-up: several server processes may migrate the same PostgreSQL at once."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from devtools.postgres import PostgresServer
from server.storage.db import alembic_config, make_engine, migrate


def test_servers_starting_together_migrate_once(postgres: PostgresServer) -> None:
    url = postgres.create_database()
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(url)
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    engine = make_engine(url)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    engine.dispose()


def test_a_sqlite_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: files readable by everyone unless told otherwise
    try:
        fresh = tmp_path / "new" / "hailong.db"
        engine = make_engine(f"sqlite:///{fresh}")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
            for name in ("hailong.db", "hailong.db-wal", "hailong.db-shm"):
                assert (fresh.parent / name).stat().st_mode & 0o777 == 0o600, name
        engine.dispose()
        assert fresh.parent.stat().st_mode & 0o777 == 0o700, "a folder it makes is private"

        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        old_files = shared / "old.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{old_files}{suffix}").touch(mode=0o644)
        make_engine(f"sqlite:///{old_files}").dispose()
        for suffix in ("", "-wal", "-shm"):
            assert Path(f"{old_files}{suffix}").stat().st_mode & 0o777 == 0o600, suffix
        assert shared.stat().st_mode & 0o777 == 0o755, "a folder it did not make is left alone"
    finally:
        os.umask(old)
