"""Upgrades: what `migrate` would run, applying it, and a database of a newer version refused."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from server.storage.db import (
    Migration,
    NewerDatabase,
    alembic_config,
    make_engine,
    migrate,
    plan,
)

NEWER = "0099_from_the_future"


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stamp_newer(engine: Engine) -> None:
    """What a later version leaves: its own revision, which this code has no migration for."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{NEWER}'")


def test_the_plan_of_an_old_database_lists_its_migrations_and_changes_nothing(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0005")
    tables = set(inspect(engine).get_table_names())
    found = plan(engine)
    assert (found.current, found.head) == ("0005", "0012")
    assert [m.revision for m in found.pending] == [
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
    ]
    assert found.pending[0] == Migration("0006", "time and order of ratings")
    assert all(m.title for m in found.pending)
    assert revision(engine) == "0005"
    assert set(inspect(engine).get_table_names()) == tables
    engine.dispose()


def test_migrate_applies_the_pending_migrations_in_order(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0005")
    expected = plan(engine).pending
    applied: list[Migration] = []
    migrate(engine, applied.append)
    assert tuple(applied) == expected
    assert revision(engine) == "0012"
    assert plan(engine).pending == ()
    migrate(engine, applied.append)  # nothing left, nothing reported
    assert tuple(applied) == expected
    engine.dispose()


def test_a_database_of_a_newer_version_is_refused_unchanged(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0005")
    stamp_newer(engine)
    tables = set(inspect(engine).get_table_names())
    message = (
        rf"written by a newer Hài Lòng \(revision {NEWER}\); this version knows up to 0012: "
        "upgrade the software, or restore a backup made by this version"
    )
    with pytest.raises(NewerDatabase, match=message):
        plan(engine)
    with pytest.raises(NewerDatabase, match=message):
        migrate(engine)
    assert revision(engine) == NEWER
    assert set(inspect(engine).get_table_names()) == tables  # 0006's tables were not made
    engine.dispose()
