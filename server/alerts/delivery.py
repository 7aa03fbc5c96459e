"""Alerts sent to the webhook: the JSON body, a claim before each POST, and the backoff after
a failure.

Delivery claims an alert before POSTing it, so two processes do not both send it; a webhook
still gets an alert at least once, not exactly once (a process that dies between the POST and
marking it sends it again), so receivers drop repeats by `id`.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, Table, select, update
from sqlmodel import Session

from server.storage.models import Alert, Unit
from server.webhook import TIMEOUT_S, Post, post_json

log = logging.getLogger("hailong.alerts")

ALERT: Table = Alert.__table__  # type: ignore[attr-defined]

MAX_BACKOFF = timedelta(minutes=60)
ERROR_CHARS = 300


def next_attempt_at(raised_at: datetime, attempts: int) -> datetime:
    """When a webhook delivery may be tried again after `attempts` failed ones: 1, 2, 4 …
    minutes apart, at most an hour, counted from when the alert was raised."""
    wait = sum((min(timedelta(minutes=2**k), MAX_BACKOFF) for k in range(attempts)), timedelta())
    return raised_at + wait


def webhook_body(alert: Alert, unit_name: str) -> bytes:
    return json.dumps(
        {
            "id": alert.id,
            "rule": alert.rule,
            "unit_id": alert.unit_id,
            "unit_name": unit_name,
            "counter_id": alert.counter_id,
            "raised_at": alert.raised_at.isoformat(),
            "window": {
                "start": alert.window_start.isoformat(),
                "end": alert.window_end.isoformat(),
            },
            "value": alert.value,
            "message": alert.message,
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _failure(exc: Exception, url: str, host: str) -> str:
    """What went wrong, without the URL (it may carry a token)."""
    if isinstance(exc, TimeoutError):
        text = f"no answer within {TIMEOUT_S:g} s"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return f"{host}: {text.replace(url, host)}"[:ERROR_CHARS]


def deliver(session: Session, url: str, now: datetime, post: Post = post_json) -> int:
    """POST every due undelivered alert, oldest first; returns how many were delivered.

    Each is claimed first (attempts + 1 where attempts is still what was read), and only the
    process that wins the claim sends it. The first failure ends the round: a webhook that is
    down would fail the rest too, each after the timeout."""
    host = urlsplit(url).hostname or "?"
    pending = session.execute(
        select(ALERT.c.id, ALERT.c.raised_at, ALERT.c.attempts)
        .where(ALERT.c.delivered_at.is_(None))
        .order_by(ALERT.c.raised_at, ALERT.c.id)
    ).all()
    delivered = 0
    for alert_id, raised_at, attempts in pending:
        if now < next_attempt_at(raised_at, attempts) or not _claim(session, alert_id, attempts):
            continue
        alert = session.get_one(Alert, alert_id)
        unit = session.get(Unit, alert.unit_id)
        body = webhook_body(alert, unit.name if unit else alert.unit_id)
        try:
            status = post(url, body)
            error = None if 200 <= status < 300 else f"{host}: HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            error = _failure(exc, url, host)
        if error is None:
            alert.delivered_at, alert.last_error = now, None
        else:
            alert.last_error = error
        session.add(alert)
        session.commit()
        if error is not None:
            log.warning("alert %s not delivered (attempt %d): %s", alert_id, attempts + 1, error)
            break
        delivered += 1
    return delivered


def _claim(session: Session, alert_id: int, seen: int) -> bool:
    claimed = session.execute(
        update(ALERT)
        .where(ALERT.c.id == alert_id, ALERT.c.attempts == seen, ALERT.c.delivered_at.is_(None))
        .values(attempts=ALERT.c.attempts + 1)
    )
    session.commit()
    return cast(CursorResult[Any], claimed).rowcount == 1
