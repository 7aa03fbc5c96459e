"""`hailong backup` of a running system and `hailong restore` into another folder.

The restored installation must be the same one to its units (they reconnect with their old
passwords and go on with their seq), to `hailong verify`, and to every rating acknowledged
before the backup; an altered archive and a folder that is not empty are refused.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from devtools.postgres import PostgresServer
from server.storage.db import make_engine, migrate
from server.storage.models import User
from system import up
from system.cli import main
from tests.system.test_fleet import COUNT, Command, Stack, summary, wait_until


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def acknowledged(stack: Stack) -> dict[str, set[int]]:
    """Per unit: the seqs its outbox no longer holds, so the server acknowledged them."""
    return {
        device: set(range(1, last + 1)) - set(waiting)
        for device, (last, waiting) in stack.outboxes().items()
    }


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    made: list[Stack] = []
    try:
        yield made
    finally:
        for s in made:
            for command in reversed(s.started):
                if command.proc.poll() is None:
                    command.stop(signal.SIGINT)
                command.kill()


def test_a_running_system_backed_up_and_restored_carries_on(
    tmp_path: Path, stacks: list[Stack]
) -> None:
    first = Stack(tmp_path / "office")
    stacks.append(first)
    up_first = first.up()
    fleet = first.fleet()
    fleet.wait_for(f"{COUNT} registered now, 0 resumed")
    fleet.wait_for("units online")
    wait_until(lambda: first.made() >= 40, "40 ratings")

    acked_before = acknowledged(first)
    made_before = first.made()
    archive = tmp_path / "backups" / "nightly.tar.gz"
    archive.parent.mkdir()
    backup = Command("backup", "--data-dir", str(first.data_dir), "--out", str(archive))
    assert backup.proc.wait(timeout=120) == 0, backup.output
    backup.wait_for("backup written")
    assert "copying the database" in backup.output and "not in it" in backup.output
    assert first.made() > made_before, "the units were sending while the backup ran"
    assert _mode(archive) == 0o600
    assert not [p for p in archive.parent.iterdir() if p != archive], "no temporary file left"

    assert fleet.stop() == 0, fleet.output[-3000:]
    summary(fleet)
    assert up_first.stop(signal.SIGINT) == 0, up_first.output[-3000:]

    # The key was left out of the archive: it comes from where it is kept.
    second = Stack(tmp_path / "restored")
    stacks.append(second)
    restore = Command(
        "restore",
        str(archive),
        "--data-dir",
        str(second.data_dir),
        "--key",
        str(first.data_dir / "chain.key"),
    )
    assert restore.proc.wait(timeout=120) == 0, restore.output
    restore.wait_for("the chain key was copied from")
    assert _mode(second.data_dir) == 0o700
    for name in ("hailong.db", "secrets.json", "chain.key", "broker/dynamic-security.json"):
        assert _mode(second.data_dir / name) == 0o600, name
    assert (second.data_dir / "secrets.json").read_bytes() == (
        first.data_dir / "secrets.json"
    ).read_bytes()

    # The same units, unchanged (their passwords and outboxes), against the restored server.
    shutil.copytree(first.data_dir / "sim-fleet", second.data_dir / "sim-fleet")
    last_before = {device: last for device, (last, _) in second.outboxes().items()}
    second.up()
    resumed = second.fleet()
    resumed.wait_for(f"0 registered now, {COUNT} resumed")
    resumed.wait_for("units online")
    wait_until(lambda: second.made() >= sum(last_before.values()) + 20, "20 more ratings")
    assert resumed.stop() == 0, resumed.output[-3000:]
    summary(resumed)

    devices, stored = second.stored()
    assert devices == COUNT, "no device was registered again"
    for device, (last, waiting) in second.outboxes().items():
        seqs = set(stored.get(device, []))
        assert acked_before[device] <= seqs, f"{device} lost ratings acknowledged before"
        new = set(range(last_before[device] + 1, last + 1))
        assert new == (seqs | set(waiting)) & new, f"{device} did not go on with its seq"
        assert seqs & new, f"{device}: nothing new stored after the restore"
    assert second.started[0].stop(signal.SIGINT) == 0

    verify = Command("verify", "--data-dir", str(second.data_dir))
    assert verify.proc.wait(timeout=120) == 0, verify.output
    assert "no rating was altered" in verify.output


def _installation(data_dir: Path) -> None:
    """What `hailong up` leaves in a folder, without running it: secrets, broker files, the
    migrated database with its first admin, a chain key."""
    stack = up.prepare(data_dir, 0, 0)
    engine = make_engine(stack.settings.database_url)
    migrate(engine)
    with Session(engine) as session:
        up.ensure_admin(session, stack.secrets.admin_password)
    engine.dispose()
    (data_dir / "chain.key").write_text("ab" * 32 + "\n")


def _users(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return [u.username for u in session.exec(select(User))]
    finally:
        engine.dispose()


def _rewrite(archive: Path, change: dict[str, bytes]) -> None:
    with tarfile.open(archive) as tar:
        members = {
            info.name: tar.extractfile(info).read()  # type: ignore[union-attr]
            for info in tar
        }
    members.update(change)
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_an_altered_archive_or_a_used_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _installation(tmp_path / "d1")
    archive = tmp_path / "a.tar.gz"
    assert main(["backup", "--data-dir", str(tmp_path / "d1"), "--out", str(archive)]) == 0

    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("x")
    assert main(["restore", str(archive), "--data-dir", str(used)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]

    tampered = tmp_path / "tampered.tar.gz"
    shutil.copy(archive, tampered)
    with tarfile.open(tampered) as tar:
        secrets = json.loads(tar.extractfile("secrets.json").read())  # type: ignore[union-attr]
    secrets["admin_password"] = "chosen-by-someone-else"
    _rewrite(tampered, {"secrets.json": json.dumps(secrets).encode()})
    assert main(["restore", str(tampered), "--data-dir", str(tmp_path / "d2")]) == 2
    assert "secrets.json does not match its sha256" in capsys.readouterr().err
    assert not (tmp_path / "d2").exists()

    _rewrite(tampered, {"extra.txt": b"slipped in"})
    assert main(["restore", str(tampered), "--data-dir", str(tmp_path / "d2")]) == 2
    assert "differ from its manifest" in capsys.readouterr().err

    # Without the key in the archive or --key, it says what is missing.
    assert main(["restore", str(archive), "--data-dir", str(tmp_path / "d3")]) == 0
    assert "holds no chain key" in capsys.readouterr().out
    assert not (tmp_path / "d3" / "chain.key").exists()
    assert _users(f"sqlite:///{tmp_path / 'd3' / 'hailong.db'}") == ["admin"]

    # With --with-key it comes back from the archive, but never over a key already there.
    keyed = tmp_path / "keyed.tar.gz"
    assert (
        main(["backup", "--data-dir", str(tmp_path / "d1"), "--out", str(keyed), "--with-key"]) == 0
    )
    assert main(["restore", str(keyed), "--data-dir", str(tmp_path / "d4")]) == 0
    assert "from the archive" in capsys.readouterr().out
    assert (tmp_path / "d4" / "chain.key").read_text() == "ab" * 32 + "\n"
    other_key = tmp_path / "elsewhere.key"
    other_key.write_text("cd" * 32 + "\n")
    monkeypatch.setenv("HAILONG_CHAIN_KEY_FILE", str(other_key))
    assert main(["restore", str(keyed), "--data-dir", str(tmp_path / "d5")]) == 2
    assert f"{other_key} exists" in capsys.readouterr().err
    assert not (tmp_path / "d5").exists() and other_key.read_text() == "cd" * 32 + "\n"


def test_postgresql_is_dumped_and_restored_into_an_empty_database(
    tmp_path: Path,
    postgres: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _installation(tmp_path / "d1")
    source = postgres.create_database()
    engine = make_engine(source)
    migrate(engine)
    with Session(engine) as session:
        up.ensure_admin(session, "pw-of-the-province")
    engine.dispose()
    archive = tmp_path / "pg.tar.gz"
    monkeypatch.setenv("HAILONG_DATABASE_URL", source)
    assert main(["backup", "--data-dir", str(tmp_path / "d1"), "--out", str(archive)]) == 0
    with tarfile.open(archive) as tar:
        assert "database.pgdump" in tar.getnames() and "hailong.db" not in tar.getnames()

    target = postgres.create_database()
    monkeypatch.setenv("HAILONG_DATABASE_URL", target)
    assert main(["restore", str(archive), "--data-dir", str(tmp_path / "d2")]) == 0
    assert _users(target) == ["admin"]
    capsys.readouterr()

    # The database now has tables: a second restore into it is refused.
    assert main(["restore", str(archive), "--data-dir", str(tmp_path / "d3")]) == 2
    assert "already has tables" in capsys.readouterr().err


def test_the_local_ca_goes_into_the_backup_and_comes_back_private(tmp_path: Path) -> None:
    """Units trust the server through the local CA: a restored server must keep it."""
    _installation(tmp_path / "d1")
    assert main(["pki", "init", "--data-dir", str(tmp_path / "d1"), "--name", "hailong.lan"]) == 0
    archive = tmp_path / "a.tar.gz"
    assert main(["backup", "--data-dir", str(tmp_path / "d1"), "--out", str(archive)]) == 0
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    pki_members = {"pki/ca.crt", "pki/ca.key", "pki/server.crt", "pki/server.key"}
    assert pki_members <= names

    assert main(["restore", str(archive), "--data-dir", str(tmp_path / "d2")]) == 0
    for member in pki_members:
        restored = tmp_path / "d2" / member
        assert restored.read_bytes() == (tmp_path / "d1" / member).read_bytes()
        assert restored.stat().st_mode & 0o077 == 0, member
