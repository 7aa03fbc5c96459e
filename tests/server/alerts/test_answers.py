"""Answering an alert: acknowledged and resolved by whom and when, audited, refused to those who
may not see it and when already done (saying by whom), on both databases and through the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from hailong.errors import UnknownId
from server.access.auth import add_user
from server.access.roles import Access, Forbidden
from server.alerts import answers, listing
from server.storage.models import Alert, AuditEvent, Counter, Unit, User
from tests.server.web.test_api import api_app, login, seed

RAISED = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
HR = Access("hr", "hr1")
HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")
HEAD_XA = Access("unit_head", "head-xa", unit_id="XA")


def add_alert(session: Session, unit_id: str = "DH", counter_id: str | None = "DH-Q1") -> int:
    alert = Alert(
        key=f"test:{unit_id}:{counter_id}",
        rule="three-in-an-hour",
        unit_id=unit_id,
        counter_id=counter_id,
        raised_at=RAISED,
        window_start=RAISED - timedelta(hours=1),
        window_end=RAISED,
        message="3 đánh giá Không hài lòng tại Quầy Tư pháp (Phường Diên Hồng) trong 60 phút",
    )
    session.add(alert)
    session.commit()
    assert alert.id is not None
    return alert.id


def events(session: Session, action: str) -> list[AuditEvent]:
    found = select(AuditEvent).where(col(AuditEvent.action) == action)
    return list(session.exec(found.order_by(col(AuditEvent.id))).all())


def test_acknowledge_then_resolve_stamps_who_and_when_and_audits_each(session: Session) -> None:
    alert_id = add_alert(session)
    seen_at = RAISED + timedelta(minutes=5)

    seen = answers.acknowledge(session, HEAD_DH, alert_id, client="10.0.0.5", now=seen_at)
    session.commit()
    assert (seen.acknowledged_by, seen.acknowledged_at) == ("head-dh", seen_at)
    assert listing.state(seen) == "acknowledged"
    [ack] = events(session, answers.ACKNOWLEDGED)
    assert (ack.actor, ack.role, ack.target, ack.client) == (
        "head-dh",
        "unit_head",
        f"alert:{alert_id}",
        "10.0.0.5",
    )

    done = answers.resolve(session, HR, alert_id, "  Đã nhắc nhở cán bộ  ", now=seen_at)
    session.commit()
    assert (done.resolved_by, done.resolution_note) == ("hr1", "Đã nhắc nhở cán bộ")
    assert done.acknowledged_by == "head-dh"  # the first answer stays
    [res] = events(session, answers.RESOLVED)
    assert json.loads(res.detail or "{}")["note"] == "Đã nhắc nhở cán bộ"


def test_answering_again_says_when_and_by_whom(session: Session) -> None:
    alert_id = add_alert(session)
    answers.acknowledge(session, HR, alert_id, now=RAISED)
    session.commit()
    with pytest.raises(
        answers.AlreadyAnswered, match="đã được xem lúc 09:00 ngày 05/10/2026 bởi hr1"
    ):
        answers.acknowledge(session, HEAD_DH, alert_id)
    session.rollback()

    answers.resolve(session, HEAD_DH, alert_id, "xong", now=RAISED + timedelta(hours=1))
    session.commit()
    again = 'đã được xử lý lúc 10:00 ngày 05/10/2026 bởi head-dh \\(ghi chú: "xong"\\)'
    with pytest.raises(answers.AlreadyAnswered, match=again):
        answers.resolve(session, HR, alert_id)
    session.rollback()
    with pytest.raises(answers.AlreadyAnswered, match="đã được xử lý"):
        answers.acknowledge(session, HR, alert_id)
    session.rollback()
    assert len(events(session, answers.RESOLVED)) == 1


def test_resolving_unseen_alert_acknowledges_it_too(session: Session) -> None:
    alert_id = add_alert(session)
    done = answers.resolve(session, HR, alert_id, None, now=RAISED)
    session.commit()
    assert (done.acknowledged_by, done.acknowledged_at, done.resolution_note) == (
        "hr1",
        RAISED,
        None,
    )


def test_who_may_not_see_an_alert_may_not_answer_it(session: Session) -> None:
    session.add(Unit(id="XA", name="Xã An", kind="commune", province="Gia Lai"))
    session.commit()
    alert_id = add_alert(session)
    for access in (
        HEAD_XA,
        Access("viewer", "v"),
        Access("officer", "o", unit_id="DH", officer_id="CB-0042"),
    ):
        with pytest.raises(Forbidden):
            answers.acknowledge(session, access, alert_id)
        with pytest.raises(Forbidden):
            answers.resolve(session, access, alert_id, "x")
    with pytest.raises(UnknownId, match="Không có cảnh báo số 999"):
        answers.acknowledge(session, HR, 999)
    with pytest.raises(ValueError, match="tối đa 500 ký tự"):
        answers.resolve(session, HR, alert_id, "x" * 501)
    session.rollback()
    alert = session.get_one(Alert, alert_id)
    assert (alert.acknowledged_at, alert.resolved_at) == (None, None)
    assert events(session, answers.ACKNOWLEDGED) == events(session, answers.RESOLVED) == []


def test_rows_name_the_unit_counter_and_people_and_tell_the_webhook_honestly(
    session: Session,
) -> None:
    alert_id = add_alert(session)
    session.get_one(
        User, add_user(session, "hr1", "hr1-password", "hr").id
    ).full_name = "Trần Thị Hoa"
    session.commit()
    answers.acknowledge(session, HR, alert_id, now=RAISED)
    session.commit()

    [row] = listing.visible(session, HEAD_DH, None, limit=10, webhook=False)
    assert (row.unit, row.counter, row.time) == (
        "Phường Diên Hồng",
        "Quầy Tư pháp",
        "09:00 05/10/2026",
    )
    assert row.state_text == "Đã xem (Trần Thị Hoa, 09:00 05/10/2026)"
    assert row.delivery_text == "Không gửi ra ngoài (chưa cấu hình webhook)"
    assert listing.open_count([row]) == 1

    alert = session.get_one(Alert, alert_id)
    assert listing.delivery_text(alert, True) == "Đang chờ gửi webhook"
    alert.attempts, alert.last_error = 2, "hook.example: HTTP 500"
    assert listing.delivery_text(alert, True) == (
        "Gửi webhook lỗi (2 lần), sẽ thử lại: hook.example: HTTP 500"
    )
    alert.delivered_at = RAISED + timedelta(minutes=1)
    assert listing.delivery_text(alert, False) == "Đã gửi webhook lúc 09:01 05/10/2026"
    session.rollback()
    with pytest.raises(Forbidden):
        listing.visible(session, HEAD_XA, "DH", limit=10, webhook=False)


def test_the_api_answers_alerts_for_the_roles_that_see_them(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with TestClient(app) as client:
        admin = login(client, "admin")
        seed(client, admin)
        with Session(app.state.engine) as session:
            add_user(session, "head", "head-password", "unit_head", "DH")
            session.add(Unit(id="XA", name="Xã An", kind="commune", province="Gia Lai"))
            session.commit()
            session.add(Counter(id="XA-Q1", name="Quầy 1", unit_id="XA"))
            session.commit()
            mine, other = add_alert(session), add_alert(session, "XA", "XA-Q1")
        head, viewer = login(client, "head"), login(client, "viewer")

        listed = client.get("/api/v1/alerts", headers=head).json()
        assert [(a["id"], a["state"], a["delivery"]) for a in listed] == [
            (mine, "new", "not_configured")
        ]
        assert listed[0]["delivery_vi"] == "Không gửi ra ngoài (chưa cấu hình webhook)"

        r = client.post(f"/api/v1/alerts/{mine}/acknowledge", headers=head)
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["acknowledged_by"]) == ("acknowledged", "head")
        again = client.post(f"/api/v1/alerts/{mine}/acknowledge", headers=head)
        assert again.status_code == 409 and "bởi head" in again.json()["detail"]

        r = client.post(f"/api/v1/alerts/{mine}/resolve", json={"note": "Đã xử lý"}, headers=head)
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["resolution_note"]) == ("resolved", "Đã xử lý")
        again = client.post(f"/api/v1/alerts/{mine}/resolve", headers=head)
        assert again.status_code == 409 and "đã được xử lý" in again.json()["detail"]

        assert client.post(f"/api/v1/alerts/{other}/resolve", headers=head).status_code == 403
        assert client.post(f"/api/v1/alerts/{other}/acknowledge", headers=viewer).status_code == 403
        assert client.post("/api/v1/alerts/999/acknowledge", headers=admin).status_code == 404
        long = client.post(
            f"/api/v1/alerts/{other}/resolve", json={"note": "x" * 501}, headers=admin
        )
        assert long.status_code == 422
        r = client.post(f"/api/v1/alerts/{other}/resolve", headers=admin)
        assert r.status_code == 200 and r.json()["resolution_note"] is None

        shown = client.get("/api/v1/alerts", params={"unit_id": "DH"}, headers=admin).json()
        assert shown[0]["resolved_by"] == "head" and shown[0]["resolved_at"] is not None
    with Session(app.state.engine) as session:
        assert [e.actor for e in events(session, answers.RESOLVED)] == ["head", "admin"]
