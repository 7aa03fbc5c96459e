"""The broker's pid file: which Mosquitto a run started, so that the next run of the same data
folder can stop the one a SIGKILLed run left behind, and nothing else.

The file holds the broker's pid and the pid of the process that started it.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

from hailong.errors import BrokerError

log = logging.getLogger("hailong.broker")


def _cmdline(pid: int) -> list[str]:
    """The argv of a live process, [] for a zombie or a process that is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def runs_our_config(pid: int, conf_path: Path) -> bool:
    """True when `pid` is a Mosquitto started with `-c conf_path`, and nothing else."""
    argv = _cmdline(pid)
    if not argv or not Path(argv[0]).name.startswith("mosquitto"):
        return False
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag == "-c" and Path(value).resolve() == conf_path.resolve():
            return True
    return False


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def stop_stale_broker(pid_path: Path, conf_path: Path, timeout: float = 10.0) -> int | None:
    """Stop the broker an earlier run on this config left running when it was SIGKILLed.

    The pid file holds the broker's pid and its starter's. The broker is stale only if it is a
    Mosquitto reading this very config (pids are reused) whose parent is no longer the process
    that started it; a broker whose starter still runs is left alone. Returns the pid stopped.
    """
    try:
        pid, owner = (int(field) for field in pid_path.read_text().split())
    except (OSError, ValueError):
        return None
    if pid <= 0 or not runs_our_config(pid, conf_path):
        pid_path.unlink(missing_ok=True)
        return None
    if _parent(pid) == owner:
        return None  # its starter still runs: not ours to stop
    log.warning("stopping the Mosquitto (pid %d) an earlier run left", pid)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while runs_our_config(pid, conf_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not runs_our_config(pid, conf_path):
            break
    else:
        raise BrokerError(f"the earlier Mosquitto (pid {pid}) did not stop")
    pid_path.unlink(missing_ok=True)
    return pid
