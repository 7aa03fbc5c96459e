"""One archive of an installation, taken while it runs, and its restore into an empty folder.

The archive (tar.gz, mode 0600, written under a temporary name and renamed) holds a consistent
copy of the database (SQLite's online backup API, or `pg_dump`'s custom format), the files
named by the caller (broker accounts, secrets, policy, anchors, and the chain key only when
asked), and `manifest.json`: the format, the schema revision, the time and the sha256 of every
member. A restore checks every hash before it writes anything.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from hailong.errors import HailongError

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "hailong.db"
PG_MEMBER = "database.pgdump"

Progress = Callable[[str], None]


class BackupError(HailongError):
    """A backup could not be taken, or an archive cannot be restored."""


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, object]
    files: dict[str, Path]  # member name: where it was written


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _quiet(_line: str) -> None:
    pass


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise BackupError(f"{name} was not found: install PostgreSQL's client (postgresql-client)")
    return found


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://… as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy of a database that is being written (WAL)."""
    if not source.is_file():
        raise BackupError(f"no database at {source}: is --data-dir the folder of hailong.db?")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _dump_database(url: str, folder: Path) -> tuple[str, Path, str | None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = folder / SQLITE_MEMBER
        _copy_sqlite(Path(parsed.database or ""), target)
        return SQLITE_MEMBER, target, _revision(f"sqlite:///{target}")
    if parsed.get_backend_name() == "postgresql":
        target = folder / PG_MEMBER
        done = subprocess.run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}"]
            + [f"--dbname={_libpq_url(url)}"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return PG_MEMBER, target, _revision(url)
    raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")


def _read_json_file(path: Path) -> bytes:
    """A file another program rewrites whole (Mosquitto's dynamic-security file): read it until
    it parses, so the archive never holds a half-written one."""
    for _ in range(50):
        data = path.read_bytes()
        try:
            json.loads(data)
            return data
        except ValueError:
            continue
    raise BackupError(f"{path} is not valid JSON: check it")


def write_backup(
    database_url: str,
    files: Mapping[str, Path],
    accounts: Mapping[str, Path],
    out: Path,
    *,
    version: str,
    progress: Progress = _quiet,
) -> dict[str, object]:
    """Write the archive to `out`; `files` and `accounts` map member names to the files to
    copy. `files` are read before the database is copied (a missing one is skipped and said),
    so the anchors among them never name chain heads newer than the copy; `accounts` (JSON
    that another program rewrites whole, the broker's) after it, so every device in the copy
    has its account. Returns the manifest."""
    out = out.resolve()
    if out.is_dir():
        raise BackupError(f"--out {out} is a folder: give the archive's file name")
    if not out.parent.is_dir():
        raise BackupError(f"--out: the folder {out.parent} does not exist")
    contents: dict[str, bytes] = {}
    for name, path in files.items():
        if not path.is_file():
            progress(f"  {name}: {path} does not exist, not included")
            continue
        contents[name] = path.read_bytes()
        progress(f"  {name}: {len(contents[name])} bytes")
    with tempfile.TemporaryDirectory(prefix="hailong-backup-", dir=out.parent) as tmp:
        progress("copying the database…")
        db_member, db_copy, revision = _dump_database(database_url, Path(tmp))
        database = db_copy.read_bytes()
        progress(f"  {db_member}: {len(database)} bytes, schema revision {revision}")
        for name, path in accounts.items():
            if not path.is_file():
                raise BackupError(f"{path} does not exist: is --data-dir the right folder?")
            contents[name] = _read_json_file(path)
            progress(f"  {name}: {len(contents[name])} bytes")
        contents[db_member] = database
        manifest: dict[str, object] = {
            "format": FORMAT,
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {"member": db_member, "revision": revision},
            "members": {name: _sha256(data) for name, data in sorted(contents.items())},
        }
        _write_archive(out, {MANIFEST: json.dumps(manifest, indent=2).encode(), **contents})
    progress(f"wrote {out}")
    return manifest


def _write_archive(out: Path, members: Mapping[str, bytes]) -> None:
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                for name, data in members.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    info.mode = 0o600
                    info.mtime = int(datetime.now(UTC).timestamp())
                    tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_backup(archive: Path) -> tuple[dict[str, object], dict[str, bytes]]:
    """The manifest and every member, each checked against the manifest's sha256."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members: dict[str, bytes] = {}
            for info in tar:
                where = PurePosixPath(info.name)
                if not info.isfile() or where.is_absolute() or ".." in where.parts:
                    raise BackupError(f"{archive}: unexpected member {info.name!r}")
                f = tar.extractfile(info)
                assert f is not None  # a regular file
                members[info.name] = f.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{archive} cannot be read as a Hài Lòng backup ({exc})") from None
    try:
        manifest = json.loads(members.pop(MANIFEST))
        hashes = manifest["members"]
        db_member = manifest["database"]["member"]
    except (KeyError, ValueError, TypeError):
        raise BackupError(f"{archive} has no valid {MANIFEST}: not a Hài Lòng backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: backup format {manifest.get('format')} is not known")
    if set(hashes) != set(members) or db_member not in members:
        raise BackupError(
            f"{archive}: its members differ from its manifest's list; it was altered, "
            "do not restore it"
        )
    for name, data in members.items():
        if _sha256(data) != hashes[name]:
            raise BackupError(
                f"{archive}: {name} does not match its sha256 in the manifest; the archive "
                "was altered or damaged, do not restore it"
            )
    return manifest, members


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _pg_is_empty(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore(
    archive: Path,
    data_dir: Path,
    database_url: str,
    places: Mapping[str, Path],
    *,
    progress: Progress = _quiet,
) -> Restored:
    """Restore into the empty (or new) `data_dir`: each member to `places[name]` (0600) or to
    data_dir/name, the database into `database_url` (SQLite: a file in data_dir; PostgreSQL:
    an empty database)."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(
            f"{data_dir} is not empty: restore into a new or empty folder, so nothing of "
            "another installation is mixed in or overwritten"
        )
    manifest, members = read_backup(archive)
    progress(f"{archive}: {len(members)} members match the manifest's sha256")
    database = manifest["database"]
    assert isinstance(database, dict)
    db_member = str(database["member"])
    parsed = make_url(database_url)
    backend = parsed.get_backend_name()
    if (db_member == SQLITE_MEMBER) != (backend == "sqlite") or backend not in (
        "sqlite",
        "postgresql",
    ):
        raise BackupError(
            f"the archive holds a {'SQLite' if db_member == SQLITE_MEMBER else 'PostgreSQL'} "
            f"database and the configured one (HAILONG_DATABASE_URL) is {backend}: restore "
            "into the same kind"
        )
    if backend == "sqlite" and Path(parsed.database or "").exists():
        raise BackupError(
            f"{parsed.database} exists: restore into a new database file (HAILONG_DATABASE_URL)"
        )
    if backend == "postgresql" and not _pg_is_empty(database_url):
        raise BackupError(
            "the configured PostgreSQL database (HAILONG_DATABASE_URL) already has tables: "
            "create an empty one for the restore"
        )
    targets = {name: places.get(name, data_dir / name) for name in members if name != db_member}
    for name, target in targets.items():
        if target.exists():
            raise BackupError(
                f"{target} exists ({name} of the archive goes there): move it away, or set "
                "its HAILONG_* setting to a new file"
            )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    written: dict[str, Path] = {}
    for name, target in targets.items():
        data = members[name]
        _write_private(target, data)
        written[name] = target
        progress(f"  {name} -> {target}")
    with tempfile.TemporaryDirectory(prefix="hailong-restore-", dir=data_dir) as tmp:
        copy = Path(tmp) / db_member
        _write_private(copy, members[db_member])
        if backend == "sqlite":
            target = Path(parsed.database or "")
            _copy_sqlite(copy, target)
            written[db_member] = target
        else:
            done = subprocess.run(
                [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error"]
                + [f"--dbname={_libpq_url(database_url)}", str(copy)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
        progress(f"  database restored, schema revision {database.get('revision')}")
    return Restored(manifest, written)
