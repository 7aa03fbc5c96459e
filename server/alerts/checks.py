"""The alert rules checked against the database, each new alert inserted once, and the alerts
read back.

Each check reads the ratings (or the day rollups) a rule needs and lets server/alerts/rules.py
decide; it inserts each alert under its `key` with ON CONFLICT DO NOTHING, because every server
and ingest process runs the checks, and records it in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, literal_column, or_, select
from sqlmodel import Session, col

from server.access import audit
from server.alerts.messages import counter_message, order_message, unit_message
from server.alerts.rules import find_bursts, unit_below, unit_day
from server.ingest.ordering import ORDER_FLAGS
from server.policy import AlertRule, RatingsOutOfOrder, UnitSatisfiedBelow, UnsatisfiedAtCounter
from server.reporting import reading
from server.storage import bulk
from server.storage.models import Alert, Counter, Device, Rating, Unit
from server.storage.rollups import RATINGS
from server.timeutil import vn_day, vn_day_start

ALERT: Table = Alert.__table__  # type: ignore[attr-defined]
ROLLUP_DAY: Table = RATINGS.tables["day"]
RATING: Table = Rating.__table__  # type: ignore[attr-defined]

# A burst is found if its ratings reach the server within a day: a unit that was offline
# delivers its outbox late, and the alert says when the ratings were pressed.
LOOKBACK = timedelta(days=1)
# Presses that repeat the one before on the same device (ingest's misuse flags): one visitor
# pressing three times is one complaint, not three.
REPEAT_FLAGS = frozenset({"cooldown", "burst"})


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
    return insert_new(session, rows)


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
    return insert_new(session, rows)


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
    # The order rules' flags (server/storage/flags.py): what ratings replayed or backdated with
    # a unit's password leave behind, whatever day they claim.
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
    return insert_new(session, rows)


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


def insert_new(session: Session, rows: list[dict[str, Any]]) -> list[Alert]:
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
