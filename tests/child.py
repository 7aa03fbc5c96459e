"""A child process whose output the test reads as it comes, and waits on line by line."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

DEADLINE_S = 90.0


class Child:
    """stdout is read into `lines`; stderr, unless merged into stdout, into `log`."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        merge_stderr: bool = True,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.lines: list[str] = []
        self.log: list[str] = []
        self._changed = threading.Condition()
        self._ended = False  # all output read and the process gone
        self.proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not merge_stderr:
            threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        self.proc.wait()  # output ended: let the waiters see the exit too
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def snapshot(self) -> list[str]:
        with self._changed:
            return list(self.lines)

    def wait(
        self, condition: Callable[[list[str]], bool], what: str, timeout: float = DEADLINE_S
    ) -> None:
        """Until `condition(lines)` holds; fails, with the output's tail, if the child ends."""
        with self._changed:
            ok = self._changed.wait_for(lambda: condition(self.lines) or self._ended, timeout)
            ok = ok and condition(self.lines)
            tail = "".join(self.lines[-30:] + self.log[-20:])
        assert ok, f"the child process did not show {what}:\n{tail}"

    def wait_for(self, text: str, timeout: float = DEADLINE_S) -> str:
        """The first line that contains `text`."""
        self.wait(lambda lines: any(text in line for line in lines), repr(text), timeout)
        return next(line for line in self.snapshot() if text in line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=60)
