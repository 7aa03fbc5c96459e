"""Alembic environment: the engine comes from the caller (server start, tests)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers the tables)
from server.db import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(
    config.get_main_option("sqlalchemy.url") or ""
)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
