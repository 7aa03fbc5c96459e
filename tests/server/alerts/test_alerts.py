"""Alerts: the rules decided by hand, raised once on both databases, delivered to a real local
webhook, and read back through the API by the roles allowed to."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hailong.errors import ConfigError
from server.access.auth import add_user
from server.alerts.checks import check_counters, check_order, check_units
from server.alerts.delivery import deliver, next_attempt_at
from server.alerts.jobs import alert_jobs
from server.alerts.messages import counter_message, unit_message
from server.alerts.rules import Burst, find_bursts, unit_below, unit_day
from server.broker.mosquitto import free_port
from server.ingest.store import Incoming, store_batch, store_rows
from server.jobs import Jobs
from server.policy import RatingsOutOfOrder, UnitSatisfiedBelow, UnsatisfiedAtCounter, load_policy
from server.settings import Settings
from server.storage.db import make_engine, migrate
from server.storage.models import Alert, Assignment, AuditEvent, Device, Officer, Rating, Unit
from server.storage.models import Counter as CounterRow
from server.timeutil import vn_day
from tests.server.factories import RULES as INGEST_RULES
from tests.server.factories import rating_payload, stored_row
from tests.server.web.test_api import api_app, login

HOUR = timedelta(minutes=60)
COUNTER_RULE = UnsatisfiedAtCounter(
    id="three-in-an-hour", count=3, window_minutes=60, label_vi="", label_en=""
)
UNIT_RULE = UnitSatisfiedBelow(
    id="unit-below-70", threshold_pct=70, min_ratings=10, label_vi="", label_en=""
)
ORDER_RULE = RatingsOutOfOrder(
    id="out-of-order", count=1, window_minutes=60, label_vi="", label_en=""
)
RULES = (COUNTER_RULE, UNIT_RULE, ORDER_RULE)


def vn(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of October 2026 given in Vietnam time (UTC+7), as an aware UTC datetime."""
    return datetime(2026, 10, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


# deciding, by hand ---------------------------------------------------------------------------


def test_three_within_the_hour_fire_but_spread_over_61_minutes_do_not() -> None:
    exactly = [vn(5, 9, 0), vn(5, 9, 30), vn(5, 10, 0)]
    assert find_bursts(exactly, 3, HOUR) == [Burst(vn(5, 9, 0), vn(5, 10, 0), 3)]
    spread = [vn(5, 9, 0), vn(5, 9, 30), vn(5, 10, 1)]
    assert find_bursts(spread, 3, HOUR) == []
    assert find_bursts(exactly[:2], 3, HOUR) == []
    # the order they arrive in does not matter
    assert find_bursts(reversed(exactly), 3, HOUR) == find_bursts(exactly, 3, HOUR)


def test_a_growing_burst_keeps_its_start_and_the_next_hour_is_a_new_one() -> None:
    presses = [vn(5, 9, 10), vn(5, 9, 30), vn(5, 9, 52), vn(5, 9, 58), vn(5, 10, 10)]
    seen = [find_bursts(presses[:n], 3, HOUR) for n in range(3, len(presses) + 1)]
    assert [b[0].start for b in seen] == [vn(5, 9, 10)] * 3
    assert [b[0].ratings for b in seen] == [3, 4, 5]
    assert all(len(b) == 1 for b in seen)
    later = [*presses, vn(5, 10, 15), vn(5, 10, 20)]
    assert find_bursts(later, 3, HOUR) == [Burst(vn(5, 9, 10), vn(5, 10, 10), 5)]
    assert find_bursts([*later, vn(5, 10, 30)], 3, HOUR)[1] == Burst(
        vn(5, 10, 15), vn(5, 10, 30), 3
    )


def test_an_earlier_lone_press_does_not_hold_back_a_burst_after_it() -> None:
    presses = [vn(5, 7, 0), vn(5, 8, 30), vn(5, 8, 40), vn(5, 8, 50)]
    assert find_bursts(presses, 3, HOUR) == [Burst(vn(5, 8, 30), vn(5, 8, 50), 3)]


def test_unit_below_the_threshold_with_enough_ratings() -> None:
    # 10 of 16 satisfied (vn4 levels 3 and 4) is 62.5 %
    counts = {("vn4", 4): 6, ("vn4", 3): 4, ("vn4", 2): 2, ("vn4", 1): 4}
    assert unit_below(counts, 70, 10) == 62.5
    assert unit_below(counts, 62.5, 10) is None  # equal is not below
    assert unit_below(counts, 70, 17) is None  # too few ratings to judge
    # vn3 counts level 2 ("Hài lòng") as satisfied, as reports do
    assert unit_below({("vn3", 2): 7, ("vn3", 1): 3}, 70, 10) is None
    assert unit_below({("vn3", 2): 6, ("vn3", 1): 4}, 70, 10) == 60.0
    # 69.997 % is shown as 70 %, so it is not "below 70 %"
    assert unit_below({("vn4", 3): 2333, ("vn4", 1): 1000}, 70, 10) is None
    assert unit_below({}, 70, 1) is None


def test_a_unit_day_is_judged_once_it_has_ended_and_settled() -> None:
    # 17:00 UTC is midnight in Vietnam: 16:59 UTC is still 5 October there
    assert vn_day(datetime(2026, 10, 5, 16, 59, tzinfo=UTC)) == date(2026, 10, 5)
    assert vn_day(datetime(2026, 10, 5, 17, 0, tzinfo=UTC)) == date(2026, 10, 6)
    assert unit_day(vn(6, 0, 29)) == date(2026, 10, 4)  # 5 October's last presses may be late
    assert unit_day(vn(6, 0, 30)) == date(2026, 10, 5)
    assert unit_day(vn(6, 23, 59)) == date(2026, 10, 5)


def test_webhook_retries_back_off_up_to_an_hour() -> None:
    raised = vn(5, 9)
    waits = [next_attempt_at(raised, n) - raised for n in range(10)]
    minutes = [int(w.total_seconds() // 60) for w in waits]
    assert minutes == [0, 1, 3, 7, 15, 31, 63, 123, 183, 243]


def test_messages_are_vietnamese_with_vietnam_times() -> None:
    burst = Burst(vn(5, 9, 10), vn(5, 9, 52), 3)
    assert (
        counter_message(burst, 60, "Q-01", "UBND xã X")
        == "3 đánh giá Không hài lòng tại quầy Q-01 (UBND xã X) trong 60 phút, 09:10–09:52 "
        "ngày 05/10/2026"
    )
    assert counter_message(burst, 60, "Quầy Tư pháp", "X").startswith(
        "3 đánh giá Không hài lòng tại Quầy Tư pháp (X)"
    )
    assert (
        unit_message("UBND xã X", date(2026, 10, 5), 62.5, 70, 16)
        == "Tỷ lệ hài lòng của UBND xã X ngày 05/10/2026: 62,5 % (dưới 70 %), 16 đánh giá"
    )
    assert "66,67 % (dưới 72,5 %)" in unit_message("X", date(2026, 1, 1), 66.67, 72.5, 3)


def test_alert_jobs_follow_the_policy_and_the_webhook_setting() -> None:
    policy = load_policy(None)
    jobs = alert_jobs(Settings(), policy)
    assert [(j.name, j.every_s) for j in jobs] == [
        ("alerts.counters", 60),
        ("alerts.units", 600),
        ("alerts.order", 60),
        ("alerts.silent", 60),
    ]
    with_hook = alert_jobs(Settings(alert_webhook_url="https://hook.example/x"), policy)
    assert [j.name for j in with_hook][-1] == "alerts.deliver"
    assert with_hook[-1].every_s == 30
    for wrong in ("file:///etc/passwd", "hook.example/x", "https://"):
        with pytest.raises(ConfigError, match="HAILONG_ALERT_WEBHOOK_URL"):
            alert_jobs(Settings(alert_webhook_url=wrong), policy)


# on a database -------------------------------------------------------------------------------

NOW = vn(5, 10)


def _seed(session: Session) -> None:
    session.add(Unit(id="U1", name="UBND xã Một", kind="commune"))
    session.add(Unit(id="U2", name="UBND phường Hai", kind="ward"))
    session.commit()
    for i, unit in ((1, "U1"), (2, "U2")):
        session.add(CounterRow(id=f"Q{i}", name=f"Một cửa {i}", unit_id=unit))
        session.add(Officer(id=f"CB-{i}", name=f"Cán bộ {i}", unit_id=unit))
    session.commit()
    for i in (1, 2):
        session.add(Device(id=f"dev-{i}", counter_id=f"Q{i}", created_at=vn(1, 8)))
        session.add(Assignment(officer_id=f"CB-{i}", counter_id=f"Q{i}", start=vn(1, 7)))
    session.commit()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        _seed(session)
    yield engine
    engine.dispose()


_seq = itertools.count(1)


def _store(engine: Engine, presses: list[tuple[int, datetime, int]], now: datetime) -> None:
    """Store (counter number, pressed at, score) ratings the way the ingest does."""
    batch = [
        Incoming(
            f"hailong/v1/devices/dev-{i}/ratings",
            rating_payload(
                device_id=f"dev-{i}",
                seq=next(_seq),
                pressed_at=at.isoformat(),
                score=score,
                officer_id=None,
                counter_id=None,
            ),
        )
        for i, at, score in presses
    ]
    with Session(engine) as session:
        result = store_batch(session, batch, now, INGEST_RULES)
        session.commit()
    assert result.stored == len(batch)


def _count(engine: Engine, model: type[Alert] | type[AuditEvent]) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _check_counters(engine: Engine, now: datetime, **kw: list[str]) -> list[Alert]:
    with Session(engine) as session:
        raised = check_counters(session, RULES, now, **kw)
        session.commit()
    return raised


def test_a_counter_burst_is_raised_once_however_often_it_is_checked(engine: Engine) -> None:
    _store(
        engine,
        [
            (1, vn(5, 9, 10), 1),
            (1, vn(5, 9, 30), 1),
            (1, vn(5, 9, 40), 4),
            (1, vn(5, 9, 52), 1),
            (2, vn(5, 9, 20), 1),
            (2, vn(5, 9, 21), 1),
        ],
        NOW,
    )
    assert _check_counters(engine, NOW, counter_ids=["Q2"]) == []
    [alert] = _check_counters(engine, NOW)
    assert alert.key == f"three-in-an-hour|counter|Q1|{vn(5, 9, 10).isoformat()}"
    assert (alert.rule, alert.unit_id, alert.counter_id, alert.value) == (
        "three-in-an-hour",
        "U1",
        "Q1",
        3.0,
    )
    assert (alert.window_start, alert.window_end, alert.raised_at) == (
        vn(5, 9, 10),
        vn(5, 9, 52),
        NOW,
    )
    assert alert.message == (
        "3 đánh giá Không hài lòng tại quầy Một cửa 1 (UBND xã Một) trong 60 phút, "
        "09:10–09:52 ngày 05/10/2026"
    )
    assert _check_counters(engine, NOW) == []
    assert _check_counters(engine, NOW + timedelta(minutes=1)) == []

    # the same burst grows: still the one alert
    _store(engine, [(1, vn(5, 10, 5), 1)], vn(5, 10, 6))
    assert _check_counters(engine, vn(5, 10, 6)) == []

    # after the burst's hour, three more are a new incident
    _store(engine, [(1, vn(5, 10, 15), 1), (1, vn(5, 10, 20), 1)], vn(5, 10, 21))
    assert _check_counters(engine, vn(5, 10, 21)) == []
    _store(engine, [(1, vn(5, 10, 30), 1)], vn(5, 10, 31))
    [second] = _check_counters(engine, vn(5, 10, 31))
    assert second.window_start == vn(5, 10, 15)
    # a day later the first presses have left the lookback; the rest still belong to the alerts
    assert _check_counters(engine, vn(6, 9, 11)) == []
    assert _count(engine, Alert) == 2

    with Session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "alert.raised")
            .order_by(col(AuditEvent.id))
        ).all()
    assert [(e.actor, e.target) for e in events] == [
        ("system", f"alert:{alert.id}"),
        ("system", f"alert:{second.id}"),
    ]
    assert json.loads(events[0].detail)["counter_id"] == "Q1"


def test_processes_checking_at_once_raise_one_alert(engine: Engine) -> None:
    _store(engine, [(2, vn(5, 9, m), 1) for m in (0, 1, 2, 3)], NOW)
    _store(engine, [(1, vn(5, 9, m), 1) for m in (5, 15, 25)], NOW)
    start = threading.Barrier(4)
    raised: list[Alert] = []
    errors: list[BaseException] = []

    def check() -> None:
        try:
            with Session(engine) as session:
                start.wait()
                found = check_counters(session, RULES, NOW)
                session.commit()
            raised.extend(found)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(a.counter_id or "" for a in raised) == ["Q1", "Q2"]
    assert _count(engine, Alert) == 2
    assert _count(engine, AuditEvent) == 2


def test_repeated_presses_of_one_visitor_count_once(engine: Engine) -> None:
    # the second press a second after the first is flagged "cooldown" by the ingest
    presses = [vn(5, 3), vn(5, 9, 0), vn(5, 9, 30), vn(5, 9, 30, 1)]
    _store(engine, [(1, at, 1) for at in presses], NOW)
    with Session(engine) as session:
        flags = session.exec(select(Rating.flags).where(Rating.pressed_at == presses[-1])).one()
    assert "cooldown" in flags.split(",")
    assert _check_counters(engine, NOW) == []
    _store(engine, [(1, vn(5, 9, 40), 1)], NOW)
    [alert] = _check_counters(engine, NOW)
    assert (alert.window_start, alert.window_end, alert.value) == (vn(5, 9), vn(5, 9, 40), 3.0)


def test_a_unit_day_below_the_threshold_is_raised_once(engine: Engine) -> None:
    last_press = datetime(2026, 10, 5, 16, 59, tzinfo=UTC)  # 23:59 on 5 October in Vietnam
    next_day = datetime(2026, 10, 5, 17, 0, tzinfo=UTC)  # 00:00 on 6 October
    presses = [(1, vn(5, 8, i), s) for i, s in enumerate([4] * 6 + [3] * 3 + [2] * 2 + [1] * 4)]
    presses += [(1, last_press, 3), (1, next_day, 1)]
    presses += [(2, vn(5, 9, i), 1) for i in range(9)]  # U2: all bad, but too few to judge
    checked = vn(6, 0, 40)
    _store(engine, presses, checked)

    def check(now: datetime) -> list[Alert]:
        with Session(engine) as session:
            raised = check_units(session, RULES, now)
            session.commit()
        return raised

    assert check(vn(6, 0, 10)) == []  # 5 October is not judged before it has settled
    [alert] = check(checked)
    assert alert.message == (
        "Tỷ lệ hài lòng của UBND xã Một ngày 05/10/2026: 62,5 % (dưới 70 %), 16 đánh giá"
    )
    assert (alert.key, alert.unit_id, alert.counter_id, alert.value) == (
        "unit-below-70|unit|U1|2026-10-05",
        "U1",
        None,
        62.5,
    )
    assert (alert.window_start, alert.window_end) == (vn(5, 0), vn(6, 0))
    assert check(checked + timedelta(minutes=10)) == []
    assert check(vn(6, 23, 50)) == []
    assert _count(engine, Alert) == 1


def test_a_unit_day_is_judged_without_the_presses_flagged_as_misuse(engine: Engine) -> None:
    presses = [(1, vn(7, 8, i), s) for i, s in enumerate([4] * 7 + [1] * 3)]  # 70 %: not below
    # three more "Không hài lòng", each a second after another press: flagged "cooldown"
    presses += [(1, vn(7, 8, i) + timedelta(seconds=1), 1) for i in range(3)]
    _store(engine, presses, vn(8, 1))
    with Session(engine) as session:
        assert check_units(session, RULES, vn(8, 1)) == []  # counted, 7/13 would be 53.8


# delivering to a real webhook ----------------------------------------------------------------

TOKEN = "s3cret-token"


@dataclass
class Hook:
    """What a local webhook received; `statuses` are its next answers (then 204)."""

    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(body.decode("utf-8")) for _, _, body in self.requests]


@contextmanager
def webhook() -> Iterator[tuple[Hook, str]]:
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(hook.delay_s)
            with hook.lock:
                hook.requests.append((self.path, self.headers["Content-Type"], body))
                status = hook.statuses.pop(0) if hook.statuses else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook, f"http://127.0.0.1:{server.server_address[1]}/hook?token={TOKEN}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _add_alert(engine: Engine, n: int, raised_at: datetime, unit_id: str = "U1") -> int:
    alert = Alert(
        key=f"test|{n}",
        rule="three-in-an-hour",
        unit_id=unit_id,
        counter_id="Q1" if unit_id == "U1" else "Q2",
        raised_at=raised_at,
        window_start=raised_at - timedelta(minutes=40),
        window_end=raised_at - timedelta(minutes=1),
        value=3.0,
        message=f"{n}: 3 đánh giá Không hài lòng tại quầy Một cửa 1",
    )
    with Session(engine) as session:
        session.add(alert)
        session.commit()
        session.refresh(alert)
    assert alert.id is not None
    return alert.id


def _deliver(engine: Engine, url: str, now: datetime) -> int:
    with Session(engine) as session:
        return deliver(session, url, now)


def _stored(engine: Engine, alert_id: int) -> Alert:
    with Session(engine) as session:
        return session.get_one(Alert, alert_id)


def test_an_alert_is_posted_once_as_utf8_json(engine: Engine) -> None:
    alert_id = _add_alert(engine, 1, NOW)
    with webhook() as (hook, url):
        assert _deliver(engine, url, NOW) == 1
        assert _deliver(engine, url, NOW + timedelta(minutes=5)) == 0
    assert len(hook.requests) == 1
    path, content_type, _ = hook.requests[0]
    assert path == f"/hook?token={TOKEN}"
    assert content_type == "application/json; charset=utf-8"
    assert hook.bodies() == [
        {
            "id": alert_id,
            "rule": "three-in-an-hour",
            "unit_id": "U1",
            "unit_name": "UBND xã Một",
            "counter_id": "Q1",
            "raised_at": NOW.isoformat(),
            "window": {
                "start": (NOW - timedelta(minutes=40)).isoformat(),
                "end": (NOW - timedelta(minutes=1)).isoformat(),
            },
            "value": 3.0,
            "message": "1: 3 đánh giá Không hài lòng tại quầy Một cửa 1",
        }
    ]
    stored = _stored(engine, alert_id)
    assert (stored.delivered_at, stored.attempts, stored.last_error) == (NOW, 1, None)


def test_a_failed_post_is_retried_after_the_backoff(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    first = _add_alert(engine, 1, NOW)
    second = _add_alert(engine, 2, NOW + timedelta(seconds=1))
    with webhook() as (hook, url), caplog.at_level(logging.WARNING, "hailong.alerts"):
        hook.statuses = [500]
        assert _deliver(engine, url, NOW + timedelta(seconds=5)) == 0
        assert len(hook.requests) == 1  # the round stops at the first failure
        failed = _stored(engine, first)
        assert (failed.delivered_at, failed.attempts) == (None, 1)
        assert failed.last_error == "127.0.0.1: HTTP 500"

        # the second, never tried, goes now; the first waits out its minute
        assert _deliver(engine, url, NOW + timedelta(seconds=30)) == 1
        assert [b["id"] for b in hook.bodies()] == [first, second]
        assert _deliver(engine, url, NOW + timedelta(seconds=59)) == 0
        assert len(hook.requests) == 2
        assert _deliver(engine, url, NOW + timedelta(minutes=1)) == 1
        assert [b["id"] for b in hook.bodies()] == [first, second, first]
    done = _stored(engine, first)
    assert (done.delivered_at, done.attempts, done.last_error) == (
        NOW + timedelta(minutes=1),
        2,
        None,
    )
    assert TOKEN not in caplog.text and "127.0.0.1" in caplog.text


def test_a_webhook_that_is_down_leaves_the_alert_undelivered(engine: Engine) -> None:
    alert_id = _add_alert(engine, 1, NOW)
    url = f"http://127.0.0.1:{free_port()}/hook?token={TOKEN}"
    assert _deliver(engine, url, NOW) == 0
    stored = _stored(engine, alert_id)
    assert (stored.delivered_at, stored.attempts) == (None, 1)
    assert stored.last_error is not None and stored.last_error.startswith("127.0.0.1: ")
    assert "refused" in stored.last_error.lower() and TOKEN not in stored.last_error
    assert _deliver(engine, url, NOW + timedelta(seconds=30)) == 0  # not due yet: not tried
    assert _stored(engine, alert_id).attempts == 1


def test_processes_delivering_at_once_send_each_alert_once(engine: Engine) -> None:
    ids = [_add_alert(engine, n, NOW + timedelta(seconds=n)) for n in range(3)]
    with webhook() as (hook, url):
        hook.delay_s = 0.2
        start = threading.Barrier(4)

        def run() -> None:
            with Session(engine) as session:
                start.wait()
                deliver(session, url, NOW + timedelta(seconds=10))

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(b["id"] for b in hook.bodies()) == sorted(ids)  # type: ignore[type-var]
    with Session(engine) as session:
        undelivered = session.exec(select(Alert).where(col(Alert.delivered_at).is_(None))).all()
    assert undelivered == []


def test_the_jobs_raise_and_deliver(engine: Engine) -> None:
    _store(engine, [(1, vn(5, 9, m), 1) for m in (10, 20, 30)], NOW)
    _store_order(engine, 2, 3, NOW - timedelta(minutes=2), pressed=vn(1, 9))
    clock = [NOW]
    with webhook() as (hook, url):
        settings = Settings(alert_webhook_url=url)
        jobs = Jobs(engine, alert_jobs(settings, load_policy(None)), clock=lambda: clock[0])
        assert jobs.run_due() == [
            "alerts.counters",
            "alerts.units",
            "alerts.order",
            "alerts.silent",
            "alerts.deliver",
        ]
    bodies = hook.bodies()
    assert [b["rule"] for b in bodies] == ["unsatisfied-at-counter", "ratings-out-of-order"]
    assert (bodies[1]["unit_id"], bodies[1]["counter_id"], bodies[1]["value"]) == ("U2", "Q2", 3.0)
    assert "Đánh giá sai thứ tự trên thiết bị dev-2" in str(bodies[1]["message"])
    assert _stored(engine, bodies[0]["id"]).delivered_at == NOW  # type: ignore[arg-type]


# ratings out of order ------------------------------------------------------------------------


def _store_order(
    engine: Engine,
    unit: int,
    n: int,
    received: datetime,
    pressed: datetime,
    flags: str = "out_of_order",
) -> None:
    """`n` ratings of counter `unit`'s device received within a second at `received`, claiming
    to be pressed an hour apart from `pressed` on: a month backdated with the unit's password,
    as the order rules flag it."""
    rows = [
        stored_row(
            pressed + timedelta(hours=i),
            flags,
            received_at=received + timedelta(milliseconds=5 * i),
            device_id=f"dev-{unit}",
            seq=next(_seq),
            counter_id=f"Q{unit}",
            unit_id=f"U{unit}",
            officer_id=f"CB-{unit}",
        )
        for i in range(n)
    ]
    with Session(engine) as session:
        store_rows(session, rows, INGEST_RULES, received)
        session.commit()


def _check_order(engine: Engine, now: datetime) -> list[Alert]:
    with Session(engine) as session:
        raised = check_order(session, RULES, now)
        session.commit()
    return raised


def test_an_out_of_order_burst_is_one_alert_however_often_it_is_checked(engine: Engine) -> None:
    # 150 ratings claiming September sent in under a second on 5/10 at 09:58 (Vietnam time);
    # four reuse a seq. Unit 2 has only an old incident and a rating flagged otherwise.
    month_ago = vn(1, 8) - timedelta(days=30)
    _store_order(engine, 1, 146, NOW - timedelta(minutes=2), pressed=month_ago)
    _store_order(engine, 1, 4, NOW - timedelta(minutes=1), month_ago, "seq_reused,out_of_order")
    _store_order(engine, 2, 1, NOW - timedelta(days=2), pressed=vn(1, 9))
    _store_order(engine, 2, 1, NOW - timedelta(minutes=1), pressed=vn(5, 9), flags="cooldown")

    [alert] = _check_order(engine, NOW)
    assert _check_order(engine, NOW) == []  # checked again, by this or another process
    assert _check_order(engine, NOW + timedelta(minutes=1)) == []

    assert (alert.rule, alert.unit_id, alert.counter_id) == ("out-of-order", "U1", "Q1")
    assert alert.value == 150.0
    assert alert.key == f"out-of-order|device|dev-1|{(NOW - timedelta(minutes=2)).isoformat()}"
    assert alert.message == (
        "Đánh giá sai thứ tự trên thiết bị dev-1 (quầy Một cửa 1, UBND xã Một): 150 đánh giá "
        "nhận 09:58–09:59 ngày 05/10/2026, ghi bấm ngày 01/09/2026–07/09/2026 "
        "(seq_reused 4, out_of_order 150). / Ratings out of order on unit dev-1: 150."
    )
    assert _count(engine, Alert) == 1
    assert _count(engine, AuditEvent) == 1

    # More of the same within the hour belong to this incident; after it, a new one.
    _store_order(engine, 1, 2, NOW + timedelta(minutes=30), pressed=vn(2, 9))
    assert _check_order(engine, NOW + timedelta(minutes=31)) == []
    late = "late_while_online"
    _store_order(engine, 1, 1, NOW + timedelta(minutes=90), pressed=vn(2, 9), flags=late)
    [later] = _check_order(engine, NOW + timedelta(minutes=91))
    assert (later.value, later.window_start) == (1.0, NOW + timedelta(minutes=90))
    assert "(late_while_online 1)" in later.message


def test_processes_checking_order_at_once_raise_one_alert(engine: Engine) -> None:
    _store_order(engine, 1, 20, NOW - timedelta(minutes=3), pressed=vn(1, 9))
    start = threading.Barrier(3)
    raised: list[int] = []

    def run() -> None:
        with Session(engine) as session:
            start.wait()
            raised.append(len(check_order(session, RULES, NOW)))
            session.commit()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(raised) == [0, 0, 1]
    assert _count(engine, Alert) == 1


def test_the_out_of_order_alert_reaches_the_unit_head_and_admin_only(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    engine = app.state.engine
    with Session(engine) as session:
        _seed(session)
        add_user(session, "head1", "head1-password", "unit_head", "U1")
        add_user(session, "head2", "head2-password", "unit_head", "U2")
    _store_order(engine, 1, 150, NOW - timedelta(minutes=2), pressed=vn(1, 9) - timedelta(days=30))
    [alert] = _check_order(engine, NOW)

    with TestClient(app) as client:

        def seen(user: str) -> list[str]:
            r = client.get("/api/v1/alerts", headers=login(client, user))
            assert r.status_code == 200, r.text
            return [a["message"] for a in r.json()]

        assert seen("admin") == [alert.message]
        assert seen("head1") == [alert.message]
        assert seen("head2") == []
    assert alert.message.startswith("Đánh giá sai thứ tự trên thiết bị dev-1")


# the API -------------------------------------------------------------------------------------


def test_alerts_api_shows_each_role_what_it_may_see(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    engine = app.state.engine
    with Session(engine) as session:
        _seed(session)
        add_user(session, "head1", "head1-password", "unit_head", "U1")
        add_user(session, "officer1", "officer1-password", "officer", officer_id="CB-1")
    old = _add_alert(engine, 1, NOW - HOUR, "U1")
    other = _add_alert(engine, 2, NOW - HOUR / 2, "U2")
    new = _add_alert(engine, 3, NOW, "U1")
    with Session(engine) as session:
        session.get_one(Alert, old).delivered_at = NOW - HOUR
        session.commit()

    with TestClient(app) as client:

        def ids(user: str, query: str = "", status: int = 200) -> list[int]:
            r = client.get(f"/api/v1/alerts{query}", headers=login(client, user))
            assert r.status_code == status, r.text
            return [a["id"] for a in r.json()] if status == 200 else []

        assert client.get("/api/v1/alerts").status_code == 401
        assert ids("admin") == [new, other, old]
        assert ids("hr", "?unit_id=U2") == [other]
        assert ids("head1") == [new, old]
        assert ids("head1", "?unit_id=U1&limit=1") == [new]
        assert ids("head1", "?unit_id=U2", status=403) == []
        assert ids("officer1", status=403) == []
        assert ids("viewer", status=403) == []
        assert ids("admin", "?since=2026-10-05T09:30:00%2B07:00") == [new, other]

        body = client.get("/api/v1/alerts", headers=login(client, "head1")).json()
    assert body[1] == {
        "id": old,
        "rule": "three-in-an-hour",
        "unit_id": "U1",
        "counter_id": "Q1",
        "raised_at": "2026-10-05T02:00:00Z",
        "window_start": "2026-10-05T01:20:00Z",
        "window_end": "2026-10-05T01:59:00Z",
        "value": 3.0,
        "message": "1: 3 đánh giá Không hài lòng tại quầy Một cửa 1",
        "delivered": True,
        "delivered_at": "2026-10-05T02:00:00Z",
        "delivery": "sent",
        "delivery_vi": "Đã gửi webhook lúc 09:00 05/10/2026",
        "last_error": None,
        "state": "new",
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_at": None,
        "resolved_by": None,
        "resolution_note": None,
    }
    assert body[0]["delivered"] is False
    assert body[0]["delivery"] == "not_configured"  # api_app sets no webhook
