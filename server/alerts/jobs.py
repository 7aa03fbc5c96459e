"""The periodic alert work of a server or ingest process, as `server.jobs.Job`s."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from server.alerts.checks import check_counters, check_order, check_units
from server.alerts.delivery import deliver
from server.alerts.silence import check_silent
from server.jobs import Job
from server.policy import (
    Policy,
    RatingsOutOfOrder,
    UnitSatisfiedBelow,
    UnitSilent,
    UnsatisfiedAtCounter,
)
from server.settings import Settings
from server.webhook import webhook_url


def alert_jobs(settings: Settings, policy: Policy) -> list[Job]:
    """The periodic alert work of a server or ingest process: counters and ratings out of order
    every minute, units every ten minutes (each unit's day is raised once, by its key), silent
    units every minute, delivery every 30 s when a webhook is set."""
    rules = policy.alerts
    jobs = []
    if any(isinstance(r, UnsatisfiedAtCounter) for r in rules):

        def counters(session: Session, now: datetime) -> None:
            check_counters(session, rules, now)
            session.commit()

        jobs.append(Job("alerts.counters", 60, counters))
    if any(isinstance(r, UnitSatisfiedBelow) for r in rules):

        def units(session: Session, now: datetime) -> None:
            check_units(session, rules, now)
            session.commit()

        jobs.append(Job("alerts.units", 600, units))
    if any(isinstance(r, RatingsOutOfOrder) for r in rules):

        def order(session: Session, now: datetime) -> None:
            check_order(session, rules, now)
            session.commit()

        jobs.append(Job("alerts.order", 60, order))
    if any(isinstance(r, UnitSilent) for r in rules):

        def silent(session: Session, now: datetime) -> None:
            check_silent(session, rules, policy.office_hours, now)
            session.commit()

        jobs.append(Job("alerts.silent", 60, silent))
    if settings.alert_webhook_url:
        url = webhook_url(settings.alert_webhook_url, "HAILONG_ALERT_WEBHOOK_URL")

        def deliver_due(session: Session, now: datetime) -> None:
            deliver(session, url, now)

        jobs.append(Job("alerts.deliver", 30, deliver_due))
    return jobs
