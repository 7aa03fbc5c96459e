"""The `hailong` command: help, users, broker files, and settings that are all documented."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from server.access.auth import authenticate
from server.settings import Settings, settings_table
from server.storage.db import make_engine
from server.storage.models import User
from system.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_every_subcommand_has_help() -> None:
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    choices = actions[0].choices  # type: ignore[attr-defined]
    assert set(choices) >= {"device", "server", "up", "demo", "fleet", "user", "broker"}
    for name, sub in choices.items():
        assert sub.format_help(), name
    out = subprocess.run(
        [sys.executable, "-m", "system.cli", "server", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "HAILONG_DATABASE_URL" in out and "HAILONG_MQTT_URL" in out


def test_every_setting_is_documented_in_help_and_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, _default, text in settings_table():
        assert text, f"{name} has no help text"
        assert f"`{name}`" in readme, f"{name} is missing from the README's settings table"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValueError, match="HAILONG_SECRET_KEY"):
        Settings(environment="production")


def test_user_add_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HAILONG_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert (
        main(
            ["user", "add", "lan", "--role", "hr", "--password-stdin", "--data-dir", str(tmp_path)]
        )
        == 0
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'hailong.db'}")
    with Session(engine) as session:
        user = authenticate(session, "lan", "a-long-password")
        assert user.role == "hr"
        assert "a-long-password" not in session.exec(select(User.password_hash)).one()


def test_user_add_with_a_bad_role_or_short_password_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert (
        main(
            ["user", "add", "x", "--role", "admin", "--password-stdin", "--data-dir", str(tmp_path)]
        )
        == 2
    )
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-enough\n"))
    assert (
        main(
            [
                "user",
                "add",
                "x",
                "--role",
                "unit_head",
                "--password-stdin",
                "--data-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "--unit" in capsys.readouterr().err


def test_broker_init_writes_a_dynsec_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dynsec.json"
    monkeypatch.setattr(sys, "stdin", io.StringIO("server-password-123\n"))
    assert main(["broker", "init", "--dynsec-file", str(target), "--password-stdin"]) == 0
    doc = json.loads(target.read_text())
    assert doc["clients"][0]["username"] == "hailong-server"
    assert "server-password-123" not in target.read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO("server-password-123\n"))
    assert main(["broker", "init", "--dynsec-file", str(target), "--password-stdin"]) == 2
