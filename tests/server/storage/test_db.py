"""Schema start-up: several server processes may migrate the same PostgreSQL at once."""

from __future__ import annotations

import threading

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
