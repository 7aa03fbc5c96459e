"""Alembic environment: the engine comes from the caller (server start, tests)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import server.storage.channels  # noqa: F401  (registers the channels' tables)
import server.storage.models  # noqa: F401  (registers the tables)
import server.storage.rollups  # noqa: F401  (registers the rollup tables)
import server.storage.schedule  # noqa: F401  (registers the rota and absence tables)
from server.storage.db import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(
    config.get_main_option("sqlalchemy.url") or ""
)


def run(connection: Connection, sqlite: bool) -> None:
    with connection.begin():
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=sqlite,
            on_version_apply=config.attributes.get("on_version_apply"),
        )
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migration left rows with broken references: {broken}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if not sqlite:
        run(connection, sqlite)
    else:
        # Batch mode rebuilds a SQLite table (copy, drop, rename), and with foreign keys
        # enforced the drop of a table others refer to fails; the check above replaces the
        # enforcement. SQLite ignores this pragma inside a transaction, hence before `begin`.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            run(connection, sqlite)
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
