"""What every bench script shares: a scratch folder, a Mosquitto and a PostgreSQL of its own,
the process and latency figures, and the report (a table, then one line of key=value figures).

The scripts in bench/ keep only their own scenarios. They report; they assert nothing. Progress
goes to stderr, so that stdout is the report alone and its last line can be read by scripts.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devtools.postgres import PostgresServer
from hailong.mqtt import MqttTarget
from server.broker.dynsec import DynSec
from server.broker.mosquitto import BrokerConfig, MosquittoProcess, free_port, write_broker_files

SERVER_USER = "hailong-server"


def say(text: str) -> None:
    """A line of progress, on stderr."""
    print(text, file=sys.stderr, flush=True)


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder, removed with all in it at the end."""
    folder = Path(tempfile.mkdtemp(prefix="hailong-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def mosquitto(folder: Path) -> Iterator[MqttTarget]:
    """A Mosquitto of the bench's own in `folder`/broker on a free port, with the server's
    account (the dynamic-security admin), which is what it yields."""
    cfg = BrokerConfig(data_dir=folder / "broker", port=free_port())
    password = uuid.uuid4().hex
    write_broker_files(cfg, SERVER_USER, password)
    with MosquittoProcess(cfg):
        yield MqttTarget(cfg.bind, cfg.port, SERVER_USER, password)


def add_devices(
    broker: MqttTarget, passwords: Mapping[str, str], then: Iterable[dict[str, Any]] = ()
) -> list[MqttTarget]:
    """Each device's account as the server registers it, then any further dynamic-security
    commands (`then`); returns how each device logs in."""
    with DynSec(broker) as dynsec:
        for device_id, password in passwords.items():
            dynsec.put_device(device_id, password)
        for command in then:
            dynsec.check(command)
    return [MqttTarget(broker.host, broker.port, d, p) for d, p in passwords.items()]


@contextmanager
def postgres(
    base: Path | None = None, settings: tuple[str, ...] = PostgresServer.settings
) -> Iterator[PostgresServer]:
    """A started PostgreSQL: kept in `base` (stopped at the end) for a later run to reuse, or,
    without a base, a throwaway one removed at the end."""
    server = (
        PostgresServer(settings=settings)
        if base is None
        else PostgresServer(base, settings=settings)
    )
    try:
        yield server.start()
    finally:
        if base is None:
            server.destroy()
        else:
            server.stop()


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: int) -> float:
    """The `pct`-th percentile, interpolated between the values (p50 is the median)."""
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """A process's resident memory, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


# --- the report ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    """How a figure stands against its goal, in the goal's column."""
    return "ok" if ok else "MISSED"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """The report's table on stdout, after a blank line, each column as wide as its widest cell."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def print_figures(figures: Mapping[str, str]) -> None:
    """The last line of the report, after a blank line: `key=value` pairs for scripts."""
    print()
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
