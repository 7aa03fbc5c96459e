"""`hailong up` keeps its data folder private: the folder 0700, the database with its WAL and
shared-memory files and secrets.json 0600, and the first admin password off any output that is
not a person's terminal (a pipe, a file, the journal)."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.broker.mosquitto import free_port
from tests.child import Child


def up_args(data_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "system.cli",
        "up",
        "--data-dir",
        str(data_dir),
        "--http-port",
        str(free_port()),
        "--mqtt-port",
        str(free_port()),
    ]


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask, under which files are made readable by everyone unless told otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_up_makes_its_files_private_and_pipes_only_where_the_password_is(
    tmp_path: Path, loose_umask: None
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)  # an existing folder, as an older version left it
    data_dir.chmod(0o755)
    up = Child(up_args(data_dir))
    try:
        line = up.wait_for("admin login:")
        password = json.loads((data_dir / "secrets.json").read_text())["admin_password"]
        assert password not in up.output
        assert line.strip() == f"admin login: admin (password in {data_dir / 'secrets.json'})"
        assert mode(data_dir) == 0o700
        assert mode(data_dir / "secrets.json") == 0o600
        for name in ("hailong.db", "hailong.db-wal", "hailong.db-shm"):
            assert mode(data_dir / name) == 0o600, name
    finally:
        assert up.stop(signal.SIGINT) == 0


def test_a_restart_narrows_files_an_older_version_left_open(
    tmp_path: Path, loose_umask: None
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    secrets_file = data_dir / "secrets.json"
    secrets_file.write_text(
        json.dumps({"mqtt_password": "m" * 32, "secret_key": "k" * 48, "admin_password": "a" * 12})
    )
    (data_dir / "hailong.db").touch()
    for path in (data_dir, secrets_file, data_dir / "hailong.db"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    up = Child(up_args(data_dir))
    try:
        up.wait_for("admin login:")
        assert "a" * 12 not in up.output
        assert mode(data_dir) == 0o700
        assert mode(secrets_file) == 0o600
        for name in ("hailong.db", "hailong.db-wal", "hailong.db-shm"):
            assert mode(data_dir / name) == 0o600, name
    finally:
        assert up.stop(signal.SIGINT) == 0


def test_a_terminal_is_shown_the_first_admin_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    parent, child = pty.openpty()
    proc = subprocess.Popen(
        up_args(data_dir),
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    os.close(child)
    seen = bytearray()
    found = threading.Event()

    def read() -> None:
        while not found.is_set():
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the child closed its end
                return
            if not chunk:
                return
            seen.extend(chunk)
            if b"admin login:" in seen and b"\n" in seen[seen.index(b"admin login:") :]:
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert found.wait(90), seen.decode(errors="replace")
        password = json.loads((data_dir / "secrets.json").read_text())["admin_password"]
        assert f"admin login: admin / {password}".encode() in seen
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        os.close(parent)
