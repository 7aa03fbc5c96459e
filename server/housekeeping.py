"""The periodic jobs of every server and ingest process, run by `server.jobs.Jobs`.

One list, so each process runs the same jobs and a new one (alert rules, webhook delivery) is
added in one place; every job must be safe with several processes running it at once.
"""

from __future__ import annotations

from datetime import timedelta

from server.access import sessions
from server.alerts.jobs import alert_jobs
from server.broker.dynsec import BrokerAccounts
from server.broker.upgrade import legacy_client_ids, upgrade_job
from server.ingest import rejected
from server.integrity.anchors import Outside
from server.integrity.write import anchor_job
from server.jobs import Job
from server.policy import Policy
from server.settings import Settings


def housekeeping_jobs(
    settings: Settings, policy: Policy, chain_key: bytes, outside: Outside | None = None
) -> list[Job]:
    """`settings` is for the jobs that read options (the alerts' webhook, the broker the
    start-up upgrade brings up to date); `policy` the process's own (server/runtime.py), for the
    alert rules; `outside` takes the day's anchor out of the database (the process's own, which
    also writes its anchor at a clean stop; by default one made from `settings`)."""
    outside = outside or Outside.from_settings(settings, chain_key)
    return [
        upgrade_job(BrokerAccounts.from_settings(settings), legacy_client_ids(settings)),
        anchor_job(chain_key, outside.daily),
        *alert_jobs(settings, policy),
        rejected.age_job(timedelta(days=settings.rejected_max_age_days)),
        sessions.prune_job(),
    ]
