"""Periodic housekeeping in a server process: one thread that runs each job at its interval.

Jobs (the daily chain anchor, alert rules, webhook delivery) are plain functions of a Session
and the time; each must be safe to run in several processes at once, since every server and
ingest process runs them. A job that fails is logged and tried again at its next turn: a
database that is down must not stop the others or the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

log = logging.getLogger("hailong.jobs")

JobFn = Callable[[Session, datetime], None]


@dataclass
class Job:
    name: str
    every_s: float
    run: JobFn
    next_at: float = 0.0


class Jobs:
    """Start with `start()`, stop with `stop()`; `run_due()` is the seam tests drive."""

    def __init__(
        self,
        engine: Engine,
        jobs: list[Job],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        tick_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.jobs = jobs
        self.clock = clock
        self.monotonic = monotonic
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hailong-jobs", daemon=True)

    def run_due(self) -> list[str]:
        """Run every job whose time has come; returns the names of those that ran."""
        ran = []
        for job in self.jobs:
            now = self.monotonic()
            if now < job.next_at:
                continue
            job.next_at = now + job.every_s
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    job.run(session, self.clock())
            except Exception:  # noqa: BLE001 - logged; the job runs again at its next turn
                log.exception("job %s failed; it runs again in %.0f s", job.name, job.every_s)
            ran.append(job.name)
        return ran

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            self.run_due()

    def start(self) -> Jobs:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
