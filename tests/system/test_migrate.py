"""`hailong migrate` and its dry run, and every program refusing a database of a newer version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from hailong.net import port_open
from server.broker.mosquitto import free_port
from server.storage.db import alembic_config, make_engine
from system.cli import main

NEWER = "0099_from_the_future"
REFUSAL = (
    f"the database was written by a newer Hài Lòng (revision {NEWER}); this version knows up "
    "to 0012: upgrade the software, or restore a backup made by this version"
)


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_migrate_dry_run_lists_what_would_run_then_migrate_runs_it(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HAILONG_DATABASE_URL", database_url)
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0005")
    argv = ["migrate", "--data-dir", str(tmp_path)]

    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "7 migration(s) would run, from revision 0005 to revision 0012" in out
    assert "  0006: time and order of ratings\n" in out
    assert "  0007: fair ingest:" in out and "  0008: flag rollups," in out
    assert "  0009: revoked login tokens\n" in out
    assert "  0010: rotas and absences\n" in out
    assert "  0011: alert answers and users' names\n" in out
    assert "  0012: the citizen's phone, paper forms, the queue system" in out
    assert "nothing was changed" in out
    assert revision(engine) == "0005"

    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "applying 7 migration(s), from revision 0005 to revision 0012"
    assert [line.split(":")[0] for line in lines[1:8]] == [
        "  0006",
        "  0007",
        "  0008",
        "  0009",
        "  0010",
        "  0011",
        "  0012",
    ]
    assert lines[8] == "the database is up to date (revision 0012)"
    assert revision(engine) == "0012"

    assert main([*argv, "--dry-run"]) == 0
    assert capsys.readouterr().out == "the database is up to date (revision 0012)\n"
    engine.dispose()


def test_migrate_without_a_database_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HAILONG_DATABASE_URL", raising=False)
    assert main(["migrate", "--data-dir", str(tmp_path), "--dry-run"]) == 2
    assert "no database at" in capsys.readouterr().err
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 2
    assert not (tmp_path / "hailong.db").exists()


def test_programs_refuse_a_database_of_a_newer_version(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{NEWER}'")
    env = {"PATH": os.environ["PATH"], "HAILONG_DATABASE_URL": database_url}
    programs = [
        ["server", "--port", str(free_port())],
        ["ingest"],
        ["migrate"],
    ]
    for program in programs:
        done = subprocess.run(
            [sys.executable, "-m", "system.cli", *program],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 2, (program, done.stderr)
        assert f"hailong: {REFUSAL}" in done.stderr, (program, done.stderr)
        assert "Traceback" not in done.stderr
    assert revision(engine) == NEWER
    assert not (tmp_path / "hailong-data" / "chain.key").exists()  # nothing made before the check
    engine.dispose()


def test_up_refuses_a_database_of_a_newer_version_and_stops_its_broker(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hailong.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{NEWER}'")
    mqtt_port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "system.cli", "up", "--data-dir", str(tmp_path)]
        + ["--http-port", str(free_port()), "--mqtt-port", str(mqtt_port)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"]},
    )
    assert done.returncode == 2, done.stderr
    assert f"hailong: {REFUSAL}" in done.stderr and "Traceback" not in done.stderr
    assert not port_open("127.0.0.1", mqtt_port)
    assert revision(engine) == NEWER
    engine.dispose()
