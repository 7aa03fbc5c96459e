"""Alerts: the policy's alert rules checked against the ratings, shown to the unit head and
POSTed to a webhook.

Three kinds of rule (server/policy.py): `count` "Không hài lòng" ratings at one counter within
`window_minutes`, checked every minute; a unit's satisfied % for the Vietnam day that has ended
below `threshold_pct`; and `count` ratings that the order rules flagged received from one device
within `window_minutes` (backdated or replayed with its password), checked every minute.
Deciding is pure (`find_bursts`, `unit_below`); the checks read the
database and insert each alert under its `key` with ON CONFLICT DO NOTHING, because every server
and ingest process runs them. Delivery claims an alert before POSTing it, so two processes do not
both send it; a webhook still gets an alert at least once, not exactly once (a process that dies
between the POST and marking it sends it again), so receivers drop repeats by `id`.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, Table, func, literal_column, or_, select, update
from sqlmodel import Session, col

from hailong.errors import ConfigError
from hailong.protocol import satisfied_pct
from server.access import audit
from server.ingest.ordering import ORDER_FLAGS
from server.jobs import Job
from server.policy import (
    AlertRule,
    Policy,
    RatingsOutOfOrder,
    UnitSatisfiedBelow,
    UnsatisfiedAtCounter,
)
from server.reporting import reading, vietnamese
from server.reporting.scoring import round2
from server.settings import Settings
from server.storage import bulk
from server.storage.models import Alert, Counter, Device, Rating, Unit
from server.storage.rollups import RATINGS
from server.timeutil import VN_TZ, vn_day, vn_day_start

log = logging.getLogger("hailong.alerts")

ALERT: Table = Alert.__table__  # type: ignore[attr-defined]
ROLLUP_DAY: Table = RATINGS.tables["day"]
RATING: Table = Rating.__table__  # type: ignore[attr-defined]

# A burst is found if its ratings reach the server within a day: a unit that was offline
# delivers its outbox late, and the alert says when the ratings were pressed.
LOOKBACK = timedelta(days=1)
# Presses that repeat the one before on the same device (ingest's misuse flags): one visitor
# pressing three times is one complaint, not three.
REPEAT_FLAGS = frozenset({"cooldown", "burst"})
# The order rules' flags (server/storage/flags.py): what ratings replayed or backdated with a unit's
# password leave behind, whatever day they claim.
# A unit's day is judged this long after it ends, once the units' last presses have arrived.
UNIT_DAY_GRACE = timedelta(minutes=30)
WEBHOOK_TIMEOUT_S = 5.0
MAX_BACKOFF = timedelta(minutes=60)
MESSAGE_CHARS = 500
ERROR_CHARS = 300

Post = Callable[[str, bytes], int]


# --- deciding (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    """`ratings` level-1 presses at one counter from `start` to `end`, at least the rule's
    `count` of them, all within the window that opens at `start`."""

    start: datetime
    end: datetime
    ratings: int


def find_bursts(times: Iterable[datetime], count: int, window: timedelta) -> list[Burst]:
    """Each run of at least `count` press times within `window` (both ends included), oldest
    first.

    A burst is anchored at its first press and owns every press up to `start + window`, so it
    keeps its start (and its alert key) while it grows; the next burst starts after that."""
    ordered = sorted(times)
    bursts: list[Burst] = []
    i = 0
    while i + count <= len(ordered):
        start = ordered[i]
        if ordered[i + count - 1] - start > window:
            i += 1
            continue
        j = i + count
        while j < len(ordered) and ordered[j] - start <= window:
            j += 1
        bursts.append(Burst(start, ordered[j - 1], j - i))
        i = j
    return bursts


def unit_below(
    counts: Mapping[tuple[str, int], int], threshold_pct: float, min_ratings: int
) -> float | None:
    """The satisfied % (rounded to 2 decimals, as reports show it) when it is below
    `threshold_pct` with at least `min_ratings` ratings; otherwise None.

    The rounded figure is compared so that an alert never says "70 % (dưới 70 %)"."""
    if sum(counts.values()) < min_ratings:
        return None
    pct = satisfied_pct(counts)
    if pct is None:
        return None
    shown = round2(pct)
    return shown if shown < threshold_pct else None


def unit_day(now: datetime) -> date:
    """The Vietnam day a unit check judges at `now`: the one that ended, after the grace."""
    return vn_day(now - UNIT_DAY_GRACE) - timedelta(days=1)


def next_attempt_at(raised_at: datetime, attempts: int) -> datetime:
    """When a webhook delivery may be tried again after `attempts` failed ones: 1, 2, 4 …
    minutes apart, at most an hour, counted from when the alert was raised."""
    wait = sum((min(timedelta(minutes=2**k), MAX_BACKOFF) for k in range(attempts)), timedelta())
    return raised_at + wait


def _vn(moment: datetime, fmt: str) -> str:
    return moment.astimezone(VN_TZ).strftime(fmt)


def _counter_label(name: str) -> str:
    return name if name.lower().startswith("quầy") else f"quầy {name}"


def counter_message(burst: Burst, window_minutes: int, counter_name: str, unit_name: str) -> str:
    return (
        f"{burst.ratings} đánh giá Không hài lòng tại {_counter_label(counter_name)} "
        f"({unit_name}) trong {window_minutes} phút, {_vn(burst.start, '%H:%M')}–"
        f"{_vn(burst.end, '%H:%M')} ngày {_vn(burst.start, '%d/%m/%Y')}"
    )[:MESSAGE_CHARS]


def unit_message(unit_name: str, day: date, pct: float, threshold_pct: float, n: int) -> str:
    return (
        f"Tỷ lệ hài lòng của {unit_name} ngày {day:%d/%m/%Y}: {vietnamese.short(pct)} % "
        f"(dưới {vietnamese.short(threshold_pct)} %), {n} đánh giá"
    )[:MESSAGE_CHARS]


def order_message(
    burst: Burst,
    device_id: str,
    counter_name: str,
    unit_name: str,
    pressed: tuple[datetime, datetime],
    per_flag: Mapping[str, int],
) -> str:
    """What the unit head reads: which unit, how many, when they came and which days they
    claim (the days whose figures they would have moved), and which order rule each broke."""
    first, last = (_vn(p, "%d/%m/%Y") for p in pressed)
    claimed = first if first == last else f"{first}–{last}"
    rules = ", ".join(f"{name} {n}" for name, n in per_flag.items())
    return (
        f"Đánh giá sai thứ tự trên thiết bị {device_id} ({_counter_label(counter_name)}, "
        f"{unit_name}): {burst.ratings} đánh giá nhận {_vn(burst.start, '%H:%M')}–"
        f"{_vn(burst.end, '%H:%M')} ngày {_vn(burst.start, '%d/%m/%Y')}, ghi bấm ngày {claimed} "
        f"({rules}). / Ratings out of order on unit {device_id}: {burst.ratings}."
    )[:MESSAGE_CHARS]


def alert_rows(alerts: Iterable[Alert]) -> list[dict[str, Any]]:
    """Alerts as rows of a table for people: Vietnam time as text, and whether it was sent."""
    return [
        {
            "id": a.id,
            "time": _vn(a.raised_at, "%d/%m/%Y %H:%M"),
            "unit_id": a.unit_id,
            "counter_id": a.counter_id or "",
            "rule": a.rule,
            "message": a.message,
            "delivered": "Đã gửi" if a.delivered_at is not None else "Chưa gửi",
        }
        for a in alerts
    ]


# --- checking -----------------------------------------------------------------------------


def check_counters(
    session: Session,
    rules: Iterable[AlertRule],
    now: datetime,
    counter_ids: Sequence[str] | None = None,
) -> list[Alert]:
    """Raise the unsatisfied_at_counter alerts of level-1 ratings pressed in the last day
    (of `counter_ids` only, if given); returns those this call inserted. The caller commits.

    Counters are first narrowed by the day rollups (enough level-1 ratings today or the day
    before); only theirs are read from `rating`. Presses up to the end of a counter's latest
    alert window belong to that alert, so a burst is raised once however often this runs."""
    counter_rules = [r for r in rules if isinstance(r, UnsatisfiedAtCounter)]
    if not counter_rules:
        return []
    widest = max(timedelta(minutes=r.window_minutes) for r in counter_rules)
    since = now - max(LOOKBACK, widest)
    first_day, last_day = vn_day(since), vn_day(now)
    candidates = _level1_counters(
        session, first_day, last_day, min(r.count for r in counter_rules), counter_ids
    )
    if not candidates:
        return []
    presses: dict[str, list[datetime]] = defaultdict(list)
    q = select(RATING.c.counter_id, RATING.c.pressed_at, RATING.c.flags).where(
        RATING.c.counter_id.in_(sorted(candidates)),
        RATING.c.day >= first_day,
        RATING.c.day <= last_day,
        RATING.c.score == 1,
        RATING.c.pressed_at >= since,
        RATING.c.pressed_at <= now,
    )
    for counter_id, pressed_at, flags in session.execute(q):
        if not REPEAT_FLAGS.intersection((flags or "").split(",")):
            presses[counter_id].append(pressed_at)
    latest = _latest_windows(session, sorted(presses), since - widest)
    rows = []
    for rule in counter_rules:
        window = timedelta(minutes=rule.window_minutes)
        for counter_id, times in sorted(presses.items()):
            seen = latest.get((rule.id, counter_id))
            fresh = [t for t in times if seen is None or t > seen + window]
            counter_name, unit_id, unit_name = candidates[counter_id]
            for burst in find_bursts(fresh, rule.count, window):
                rows.append(
                    {
                        "key": f"{rule.id}|counter|{counter_id}|{burst.start.isoformat()}",
                        "rule": rule.id,
                        "unit_id": unit_id,
                        "counter_id": counter_id,
                        "raised_at": now,
                        "window_start": burst.start,
                        "window_end": burst.end,
                        "value": float(burst.ratings),
                        "message": counter_message(
                            burst, rule.window_minutes, counter_name, unit_name
                        ),
                    }
                )
    return _insert_new(session, rows)


def _level1_counters(
    session: Session, first: date, last: date, at_least: int, only: Sequence[str] | None
) -> dict[str, tuple[str, str, str]]:
    """counter id → (counter name, unit id, unit name) of registered counters with at least
    `at_least` level-1 ratings on first..last, from the day rollups."""
    q = (
        select(ROLLUP_DAY.c.counter_id)
        .where(ROLLUP_DAY.c.day >= first, ROLLUP_DAY.c.day <= last, ROLLUP_DAY.c.score == 1)
        .group_by(ROLLUP_DAY.c.counter_id)
        .having(func.sum(ROLLUP_DAY.c.n) >= at_least)
    )
    if only is not None:
        q = q.where(ROLLUP_DAY.c.counter_id.in_(list(only)))
    ids = list(session.execute(q).scalars())
    if not ids:
        return {}
    named = select(col(Counter.id), col(Counter.name), col(Counter.unit_id), col(Unit.name)).join(
        Unit, col(Unit.id) == col(Counter.unit_id)
    )
    rows = session.execute(named.where(col(Counter.id).in_(ids)))
    return {cid: (cname, uid, uname) for cid, cname, uid, uname in rows}


def _latest_windows(
    session: Session, counter_ids: Sequence[str], since: datetime
) -> dict[tuple[str, str], datetime]:
    """(rule, counter) → start of its latest alert window raised since `since`."""
    if not counter_ids:
        return {}
    q = (
        select(ALERT.c.rule, ALERT.c.counter_id, func.max(ALERT.c.window_start))
        .where(ALERT.c.raised_at >= since, ALERT.c.counter_id.in_(list(counter_ids)))
        .group_by(ALERT.c.rule, ALERT.c.counter_id)
    )
    return {(rule, counter_id): start for rule, counter_id, start in session.execute(q)}


def check_units(session: Session, rules: Iterable[AlertRule], now: datetime) -> list[Alert]:
    """Raise the unit_satisfied_below alerts of the Vietnam day that has ended (`unit_day`);
    returns those this call inserted. The caller commits.

    Figures come from the day rollups and leave out the ratings flagged as misuse, as the
    reports do, so the alert and the unit's report of that day show the same %."""
    unit_rules = [r for r in rules if isinstance(r, UnitSatisfiedBelow)]
    if not unit_rules:
        return []
    day = unit_day(now)
    per_unit: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
    for unit_id, scale, score, n, flagged, _ticketed in reading.tallies(
        session, RATINGS, day, day, ["unit_id"]
    ):
        if unit_id and n > flagged:
            per_unit[unit_id][(scale, score)] = n - flagged
    if not per_unit:
        return []
    named = select(col(Unit.id), col(Unit.name)).where(col(Unit.id).in_(sorted(per_unit)))
    names = {unit_id: name for unit_id, name in session.execute(named)}
    start, end = vn_day_start(day), vn_day_start(day + timedelta(days=1))
    rows = []
    for rule in unit_rules:
        for unit_id, counts in sorted(per_unit.items()):
            pct = unit_below(counts, rule.threshold_pct, rule.min_ratings)
            if pct is None:
                continue
            rows.append(
                {
                    "key": f"{rule.id}|unit|{unit_id}|{day.isoformat()}",
                    "rule": rule.id,
                    "unit_id": unit_id,
                    "counter_id": None,
                    "raised_at": now,
                    "window_start": start,
                    "window_end": end,
                    "value": pct,
                    "message": unit_message(
                        names.get(unit_id, unit_id),
                        day,
                        pct,
                        rule.threshold_pct,
                        sum(counts.values()),
                    ),
                }
            )
    return _insert_new(session, rows)


@dataclass(frozen=True)
class _Flagged:
    received_at: datetime
    pressed_at: datetime
    flags: tuple[str, ...]


def check_order(session: Session, rules: Iterable[AlertRule], now: datetime) -> list[Alert]:
    """Raise the ratings_out_of_order alerts of ratings received in the last day that the
    order rules flagged; returns those this call inserted. The caller commits.

    Ratings are grouped by the device that sent them and timed by their receipt, not by the
    time they claim: a month backdated in one second is one incident. Receipts up to the end of
    a device's latest alert window belong to that alert, so an incident is raised once however
    often, and by however many processes, this runs."""
    order_rules = [r for r in rules if isinstance(r, RatingsOutOfOrder)]
    if not order_rules:
        return []
    widest = max(timedelta(minutes=r.window_minutes) for r in order_rules)
    since = now - max(LOOKBACK, widest)
    marked: Any = literal_column("','") + RATING.c.flags + literal_column("','")
    q = select(RATING.c.device_id, RATING.c.received_at, RATING.c.pressed_at, RATING.c.flags).where(
        RATING.c.received_at >= since,
        RATING.c.received_at <= now,
        or_(*(marked.like(f"%,{flag},%") for flag in ORDER_FLAGS)),
    )
    found: dict[str, list[_Flagged]] = defaultdict(list)
    for device_id, received_at, pressed_at, flags in session.execute(q):
        broke = tuple(f for f in ORDER_FLAGS if f in flags.split(","))
        found[device_id].append(_Flagged(received_at, pressed_at, broke))
    if not found:
        return []
    named = (
        select(col(Device.id), col(Counter.id), col(Counter.name), col(Unit.id), col(Unit.name))
        .join(Counter, col(Counter.id) == col(Device.counter_id))
        .join(Unit, col(Unit.id) == col(Counter.unit_id))
        .where(col(Device.id).in_(sorted(found)))
    )
    devices = {d: (c, cname, u, uname) for d, c, cname, u, uname in session.execute(named)}
    latest = _latest_device_windows(session, [r.id for r in order_rules], since - widest)
    rows = []
    for rule in order_rules:
        window = timedelta(minutes=rule.window_minutes)
        for device_id, ratings in sorted(found.items()):
            if device_id not in devices:
                continue
            counter_id, counter_name, unit_id, unit_name = devices[device_id]
            seen = latest.get((rule.id, device_id))
            fresh = [r for r in ratings if seen is None or r.received_at > seen + window]
            for burst in find_bursts([r.received_at for r in fresh], rule.count, window):
                inside = [r for r in fresh if burst.start <= r.received_at <= burst.end]
                per_flag = {f: sum(f in r.flags for r in inside) for f in ORDER_FLAGS}
                pressed = (min(r.pressed_at for r in inside), max(r.pressed_at for r in inside))
                rows.append(
                    {
                        "key": f"{rule.id}|device|{device_id}|{burst.start.isoformat()}",
                        "rule": rule.id,
                        "unit_id": unit_id,
                        "counter_id": counter_id,
                        "raised_at": now,
                        "window_start": burst.start,
                        "window_end": burst.end,
                        "value": float(burst.ratings),
                        "message": order_message(
                            burst,
                            device_id,
                            counter_name,
                            unit_name,
                            pressed,
                            {f: n for f, n in per_flag.items() if n},
                        ),
                    }
                )
    return _insert_new(session, rows)


def _latest_device_windows(
    session: Session, rule_ids: Sequence[str], since: datetime
) -> dict[tuple[str, str], datetime]:
    """(rule, device) → start of its latest alert window raised since `since`. The device is
    read from the alert's key ("rule|device|<device id>|<start>"; neither id holds a "|")."""
    q = (
        select(ALERT.c.key, ALERT.c.window_start)
        .where(ALERT.c.raised_at >= since, ALERT.c.rule.in_(list(rule_ids)))
        .where(ALERT.c.key.like("%|device|%"))
    )
    latest: dict[tuple[str, str], datetime] = {}
    for key, start in session.execute(q):
        rule_id, _, device_id, _ = key.split("|", 3)
        if (rule_id, device_id) not in latest or start > latest[(rule_id, device_id)]:
            latest[(rule_id, device_id)] = start
    return latest


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> list[Alert]:
    """Insert the alerts whose key is new, each with its audit event; rows go in key order so
    that two processes inserting the same keys wait for each other rather than deadlock."""
    insert = bulk.dialect_insert(session)(ALERT)
    stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(ALERT.c.id)
    raised = []
    for row in sorted(rows, key=lambda r: r["key"]):
        alert_id = session.execute(stmt, row).scalar_one_or_none()
        if alert_id is None:
            continue
        alert = Alert(id=alert_id, **row)
        audit.record(
            session,
            audit.SYSTEM,
            "alert.raised",
            target=f"alert:{alert_id}",
            detail={
                "key": alert.key,
                "rule": alert.rule,
                "unit_id": alert.unit_id,
                "counter_id": alert.counter_id,
                "value": alert.value,
            },
            at=row["raised_at"],
        )
        raised.append(alert)
    return raised


def recent(
    session: Session,
    *,
    unit_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Alerts newest first, of one unit or all, raised at or after `since`."""
    q = select(Alert).order_by(col(Alert.raised_at).desc(), col(Alert.id).desc()).limit(limit)
    if unit_id is not None:
        q = q.where(col(Alert.unit_id) == unit_id)
    if since is not None:
        q = q.where(col(Alert.raised_at) >= since)
    return list(session.execute(q).scalars())


# --- delivering ---------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the alert: report it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes) -> int:
    """POST `body` as UTF-8 JSON; the HTTP status, or OSError (or http.client.HTTPException
    for a garbled answer) when no answer came."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "hailong"},
    )
    try:
        with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def webhook_url(url: str, setting: str = "HAILONG_ALERT_WEBHOOK_URL") -> str:
    """The setting checked once at start: only http and https, with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{setting} must be an http:// or https:// URL with a host, such as "
            "https://chat.example.gov.vn/hooks/hailong; leave it empty for no webhook"
        )
    return url


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
        text = f"no answer within {WEBHOOK_TIMEOUT_S:g} s"
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


# --- jobs ---------------------------------------------------------------------------------


def alert_jobs(settings: Settings, policy: Policy) -> list[Job]:
    """The periodic alert work of a server or ingest process: counters and ratings out of order
    every minute, units every ten minutes (each unit's day is raised once, by its key), delivery
    every 30 s when a webhook is set."""
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
    if settings.alert_webhook_url:
        url = webhook_url(settings.alert_webhook_url)

        def deliver_due(session: Session, now: datetime) -> None:
            deliver(session, url, now)

        jobs.append(Job("alerts.deliver", 30, deliver_due))
    return jobs
