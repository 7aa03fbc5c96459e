"""One server program opened from its settings: what every entry point needs, each made once.

The API's lifespan (server/web/app.py), an ingest process (server/ingest_process.py) and every
`hailong` command open a `Runtime` and take what they need from it: the migrated database, the
policy (its file parsed once per process), the chain key (read once), the ingest rules and the
periodic jobs. Each part is made on first use, so a console command that needs only the
database never touches the key; `open` makes a server's parts at once, so that a bad policy
file, a missing key or an unreachable database stops the start before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property

from sqlalchemy.engine import Engine

from server.housekeeping import housekeeping_jobs
from server.ingest.service import IngestService
from server.ingest.signins import SignInRules
from server.ingest.store import IngestRules
from server.integrity.anchors import Outside
from server.integrity.key import key_path, load_key
from server.integrity.write import prepare
from server.jobs import Jobs
from server.policy import Policy, load_policy
from server.settings import Settings
from server.storage.db import make_engine, migrate
from server.storage.secret_file import private_folder


class Runtime:
    """One process's parts, from `settings` (by default read from the HAILONG_* variables)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    @classmethod
    def open(cls, settings: Settings | None = None) -> Runtime:
        """A server's or an ingest process's: the policy, then the migrated database, the chain
        key (made at the very first start) and the file of its anchors, now. The data folder
        holds the key, the secrets and (SQLite) the database: it is made its owner's only."""
        runtime = cls(settings)
        private_folder(runtime.settings.data_dir)
        _ = runtime.policy, runtime.outside
        return runtime

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.policy_file)

    @cached_property
    def engine(self) -> Engine:
        """The database, brought to the newest schema."""
        engine = self.database_as_found()
        migrate(engine)
        return engine

    def database_as_found(self) -> Engine:
        """The database as it is, not migrated: for a check that writes nothing."""
        return make_engine(self.settings.database_url)

    @cached_property
    def chain_key(self) -> bytes:
        """The key of a process that stores ratings: made at the very first start, with the
        ratings stored before the chain sealed into it, and refused if not the chain's own."""
        return prepare(self.engine, self.settings)

    def chain_key_as_found(self) -> bytes:
        """The key file as it is, never made: for a check that writes nothing."""
        return load_key(key_path(self.settings))

    @cached_property
    def outside(self) -> Outside:
        """Where this process's copies of the chain heads go, outside the database."""
        return Outside.from_settings(self.settings, self.chain_key)

    @cached_property
    def ingest_rules(self) -> IngestRules:
        settings = self.settings
        return IngestRules(
            chain_key=self.chain_key,
            max_age=timedelta(days=settings.max_rating_age_days),
            future_tolerance=timedelta(seconds=settings.future_tolerance_s),
            misuse=self.policy.misuse,
            channels=self.policy.channels,
            rejected_per_device=settings.rejected_per_device,
            signin=SignInRules(
                secret=settings.secret_key,
                max_failures=settings.signin_max_failures,
                lock=timedelta(seconds=settings.signin_lock_s),
            ),
        )

    @contextmanager
    def running(self) -> Iterator[None]:
        """The housekeeping jobs for the life of the block; at its end the chain heads are
        copied outside the database (after the last batch: leave an `ingesting` block first)
        and the database is closed."""
        jobs = Jobs(
            self.engine,
            housekeeping_jobs(self.settings, self.policy, self.chain_key, self.outside),
        ).start()
        try:
            yield
        finally:
            jobs.stop()
            self.outside.at_stop(self.engine)
            self.engine.dispose()

    @contextmanager
    def ingesting(self) -> Iterator[IngestService]:
        """Ratings received from the broker and stored, for the life of the block."""
        service = IngestService.from_settings(self.engine, self.settings, self.ingest_rules)
        service.start()
        try:
            yield service
        finally:
            service.stop()
