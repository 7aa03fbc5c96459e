"""`hailong migrate`: bring the database's schema to this version's, or say what that would do."""

from __future__ import annotations

import argparse
import time

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from server.storage import db
from system.cli import console


def migrate(args: argparse.Namespace) -> int:
    runtime = console.runtime(args)
    console.require_database(runtime.settings)
    engine = runtime.database_as_found()
    try:
        with console.database_errors(DBAPIError):
            return _migrate(engine, dry_run=args.dry_run)
    finally:
        engine.dispose()


def _migrate(engine: Engine, *, dry_run: bool) -> int:
    plan = db.plan(engine)  # a database of a newer version: refused here, unchanged
    if not plan.pending:
        print(f"the database is up to date (revision {plan.head})")
        return 0
    start = f"revision {plan.current}" if plan.current else "an empty database"
    count = len(plan.pending)
    if dry_run:
        print(f"{count} migration(s) would run, from {start} to revision {plan.head}:")
        for migration in plan.pending:
            print(f"  {migration.revision}: {migration.title}")
        print("nothing was changed; `hailong migrate` applies them")
        return 0
    print(f"applying {count} migration(s), from {start} to revision {plan.head}", flush=True)
    last = time.monotonic()

    def applied(migration: db.Migration) -> None:
        nonlocal last
        now = time.monotonic()
        print(f"  {migration.revision}: {migration.title} ({now - last:.1f} s)", flush=True)
        last = now

    db.migrate(engine, applied)
    print(f"the database is up to date (revision {plan.head})")
    return 0
