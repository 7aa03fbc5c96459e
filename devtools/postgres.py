"""A throwaway PostgreSQL for tests and benchmarks: Debian's binaries, a temp dir, a free port.

PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the `postgres` user and
every server command runs through `runuser`. Each test gets its own database on the one server,
which is much cheaper than a cluster per test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from server.broker.mosquitto import free_port

PG_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "hailong"


class PostgresUnavailable(RuntimeError):
    pass


def pg_bin_dir() -> Path:
    """The newest installed major version's bin directory (Debian keeps them side by side)."""
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: apt-get install postgresql (./dev test does this)"
        )
    return versions[-1]


def _as_owner() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root needs runuser to start PostgreSQL as postgres")
    return [runuser, "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    """`start()` makes and starts a cluster; `stop()`/`start()` again simulate a database outage."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hailong-pg-")))
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    settings: tuple[str, ...] = ("fsync=on",)

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_as_owner(), *args], capture_output=True, text=True, check=check, timeout=120
        )

    def init(self) -> PostgresServer:
        bindir = pg_bin_dir()
        self.base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            done = self._run(
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                check=False,
            )
            if done.returncode != 0:
                raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()}")
        return self

    def start(self) -> PostgresServer:
        if not (self.data / "PG_VERSION").exists():
            self.init()
        opts = [
            f"-p {self.port}",
            f"-k {self.base}",
            f"-c listen_addresses={self.host}",
            *(f"-c {s}" for s in self.settings),
        ]
        done = self._run(
            str(pg_bin_dir() / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-o",
            " ".join(opts),
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if done.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(f"PostgreSQL did not start: {done.stderr.strip()}\n{log}")
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            pg_ctl = str(pg_bin_dir() / "pg_ctl")
            self._run(pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def dsn(self, database: str) -> str:
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
