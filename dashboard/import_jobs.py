"""Imports run beside the page: a thread per import, keyed by a job id that the page polls.

A Dash background callback would need a cache or a task queue (diskcache, Celery) that the
server does not run, and an import of a province's workbook takes longer than a request should.
So the page starts a job here and reads its progress with dcc.Interval. Jobs live in this
process's memory: the page is served by the process that started them, and only the last few
are kept.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hailong.errors import HailongError

KEEP = 20  # finished jobs kept for their pages to read; older ones are dropped

Progress = Callable[[int, int], None]
Work = Callable[[Progress], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    owner: str
    done: int = 0
    total: int = 0
    report: dict[str, Any] | None = None
    failure: str | None = None

    @property
    def finished(self) -> bool:
        return self.report is not None or self.failure is not None


class Jobs:
    """The running and recent imports of this process."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, owner: str, work: Work) -> str:
        """Run `work` in a thread; it reports progress through the callable it is given."""
        job_id = uuid.uuid4().hex
        thread = threading.Thread(target=self._run, args=(job_id, work), daemon=True)
        with self._lock:
            self._jobs[job_id] = Job(owner)
            self._threads[job_id] = thread
            while len(self._jobs) > KEEP:
                old, _ = self._jobs.popitem(last=False)
                self._threads.pop(old, None)
        thread.start()
        return job_id

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, work: Work) -> None:
        try:
            report = work(lambda done, total: self._update(job_id, done=done, total=total))
        except HailongError as exc:  # says what is wrong in words for a person
            self._update(job_id, failure=str(exc))
        except Exception as exc:  # shown on the page too: a failed import must not vanish
            self._update(job_id, failure=f"{type(exc).__name__}: {exc}")
        else:
            self._update(job_id, report=report)

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, to the user who started it only."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Until the job's thread ends (tests, and a shutdown that wants it done)."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)


JOBS = Jobs()
