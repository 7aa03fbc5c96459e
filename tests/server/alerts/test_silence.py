"""The silent-unit alert on real SQLite and PostgreSQL: raised once per spell, only for office
hours' minutes, never for a revoked device, seen by the unit's heads, sent to the webhook."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from server.access.auth import add_user
from server.alerts.delivery import deliver
from server.alerts.silence import check_silent
from server.policy import OfficeHours, UnitSilent, load_policy
from server.storage.models import Alert, Device, DeviceConnection
from server.storage.schedule import Absence
from server.timeutil import VN_TZ
from tests.server.factories import seed_registry
from tests.server.ingest.test_fleet import NOW, add_fleet
from tests.server.web.test_api import api_app, login

RULES = (UnitSilent("unit-silent", 30, "im lặng", "silent"),)
HOURS = OfficeHours()
MIN = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Vietnam time; NOW is Wednesday the 4th at 09:00."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VN_TZ)


def hear(session: Session, device_id: str, moment: datetime, state: str = "online") -> None:
    """The device's Status came at `moment`."""
    device = session.get_one(Device, device_id)
    device.state, device.last_seen_at = state, moment
    session.add(device)
    session.commit()


def raised(session: Session, now: datetime) -> list[tuple[str, str | None]]:
    """Check at `now`; which (device) alerts this check raised, as (key's device, counter)."""
    found = check_silent(session, RULES, HOURS, now)
    session.commit()
    return sorted((a.key.split("|")[2], a.counter_id) for a in found)


def test_the_default_policy_alerts_silent_units() -> None:
    policy = load_policy(None)
    assert [r for r in policy.alerts if isinstance(r, UnitSilent)] == [
        UnitSilent(
            "unit-silent",
            30,
            "Thiết bị im lặng quá 30 phút trong giờ làm việc",
            "A unit silent for over 30 minutes of office hours",
        )
    ]


def test_raised_once_per_spell_after_30_office_minutes(session: Session) -> None:
    """At 09:00, dev-dh-q3 has been offline since 08:00 and dev-dh-q2 silent since 08:50; the
    revoked dev-dh-q4, unheard for a day, never alerts; dev-dh-q1 was never seen."""
    add_fleet(session)
    assert at(4, 9) == NOW
    assert raised(session, NOW) == [("dev-dh-q3", "DH-Q3")]
    assert raised(session, NOW) == [], "a second check raises nothing new"
    hear(session, "dev-hb-1", at(4, 9, 19))  # someone is heard: the server is listening
    assert raised(session, at(4, 9, 20)) == [], "dev-dh-q2: 30 minutes, not more"
    assert raised(session, at(4, 9, 21)) == [("dev-dh-q2", "DH-Q2")]
    assert raised(session, at(4, 16)) == []
    (alert,) = session.exec(select(Alert).where(Alert.counter_id == "DH-Q3")).all()
    assert (alert.rule, alert.unit_id, alert.window_start, alert.value) == (
        "unit-silent",
        "DH",
        at(4, 8),
        60.0,
    )
    assert alert.message == (
        "Thiết bị dev-dh-q3 tại Quầy Hộ tịch (Phường Diên Hồng) mất kết nối từ 08:00 ngày "
        "04/03/2026. / Unit dev-dh-q3 at Quầy Hộ tịch (Phường Diên Hồng) offline since 08:00 "
        "04/03/2026 (ICT)."
    )
    silent = session.exec(select(Alert).where(Alert.counter_id == "DH-Q2")).one()
    assert "không gửi tín hiệu từ 08:50" in silent.message
    # dev-dh-q3 connects again at 10:00 and drops at 10:30: a new spell, a new alert
    for state, moment in (("online", at(4, 10)), ("offline", at(4, 10, 30))):
        session.add(
            DeviceConnection(device_id="dev-dh-q3", state=state, received_at=moment, live=True)
        )
    hear(session, "dev-dh-q3", at(4, 10, 30), "offline")
    assert raised(session, at(4, 11)) == []
    assert raised(session, at(4, 11, 1)) == [("dev-dh-q3", "DH-Q3")]
    assert len(session.exec(select(Alert).where(Alert.counter_id == "DH-Q3")).all()) == 2


def test_a_unit_off_overnight_is_not_alerted_before_30_office_minutes(session: Session) -> None:
    """Switched off at 17:10 on Tuesday (its Last Will) and still off on Wednesday morning: the
    evening and the night do not count, so 07:31 is one minute, and it is raised after 08:00."""
    hear(session, "dev-dh-q1", at(3, 17, 10), "offline")
    for state, moment in (("online", at(3, 7, 20)), ("offline", at(3, 17, 10))):
        session.add(
            DeviceConnection(device_id="dev-dh-q1", state=state, received_at=moment, live=True)
        )
    session.commit()
    assert raised(session, at(3, 23)) == []
    assert raised(session, at(4, 7, 31)) == []
    assert raised(session, at(4, 8)) == []
    assert raised(session, at(4, 8, 1)) == [("dev-dh-q1", "DH-Q1")]


def test_holidays_and_a_revoked_device_never_alert(session: Session) -> None:
    add_fleet(session)
    session.add(Absence(start=at(4, 0), end=at(5, 0), note="holiday"))  # no officer, no unit
    session.commit()
    hear(session, "dev-hb-1", at(4, 15, 59))
    assert raised(session, at(4, 16)) == []
    hear(session, "dev-hb-1", at(5, 8))
    assert raised(session, at(5, 8, 1)) == [("dev-dh-q2", "DH-Q2"), ("dev-dh-q3", "DH-Q3")]
    assert not any(a.counter_id == "DH-Q4" for a in session.exec(select(Alert)).all())


def test_a_unit_day_off_is_not_office_time_for_that_unit(session: Session) -> None:
    """DH is closed on Wednesday; HB is open, and its unit went offline at 08:00."""
    add_fleet(session)
    session.add(Absence(unit_id="DH", start=at(4, 0), end=at(5, 0)))
    session.add(
        DeviceConnection(device_id="dev-hb-1", state="offline", received_at=at(4, 8), live=True)
    )
    session.commit()
    hear(session, "dev-hb-1", at(4, 8), "offline")
    assert raised(session, at(4, 16)) == [("dev-hb-1", "HB-Q1")]


def test_silent_units_wait_while_no_unit_at_all_is_heard(session: Session) -> None:
    """With dev-hb-1 unheard too, the server is the likelier deaf one: only dev-dh-q3, which the
    broker saw go, is raised; silent dev-dh-q2 and dev-hb-1 wait until someone is heard."""
    add_fleet(session)
    assert raised(session, at(4, 10)) == [("dev-dh-q3", "DH-Q3")]
    hear(session, "dev-hb-1", at(4, 9, 59))
    assert raised(session, at(4, 10)) == [("dev-dh-q2", "DH-Q2")]


def test_the_unit_head_sees_it_and_the_webhook_gets_it(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with Session(app.state.engine) as session:
        seed_registry(session)
        add_fleet(session)
        add_user(session, "head-dh", "head-dh-password", "unit_head", "DH")
        add_user(session, "head-hb", "head-hb-password", "unit_head", "HB")
        (alert,) = check_silent(session, RULES, HOURS, NOW)
        session.commit()
        posted: list[dict[str, object]] = []

        def post(url: str, body: bytes) -> int:
            posted.append(json.loads(body))
            return 200

        assert deliver(session, "https://hook.example/x", NOW, post=post) == 1
    assert [(p["rule"], p["unit_id"], p["counter_id"], p["message"]) for p in posted] == [
        ("unit-silent", "DH", "DH-Q3", alert.message)
    ]
    with TestClient(app) as client:
        for user, seen in (("admin", [alert.id]), ("head-dh", [alert.id]), ("head-hb", [])):
            r = client.get("/api/v1/alerts", headers=login(client, user))
            assert [a["id"] for a in r.json()] == seen, user
