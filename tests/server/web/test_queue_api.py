"""The queue system through POST /api/v1/services with an API token: ticket events stored once
whatever their order, the unit told of a new call, the served ticket's link and service, and
the token held to its unit. The broker side is a recorder of what would be published."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from hailong.protocol import Service
from server.storage.channels import ApiToken, QueueTicket, RatingInvite
from server.storage.models import AuditEvent, ServiceRecord
from server.timeutil import VN_TZ
from server.web.api.deps import now
from tests.server.web.test_api import api_app, login, seed

DAY = "2026-10-05"


class RecordingIngest:
    """Stands in for the ingest's MQTT link: what it would publish, and whether it is up."""

    def __init__(self) -> None:
        self.services: list[tuple[str, Service]] = []
        self.up = True
        self.now = datetime(2026, 10, 5, 8, 6, tzinfo=VN_TZ)  # the route's clock

    def publish_service(self, device_id: str, service: Service) -> bool:
        if not self.up:
            return False
        self.services.append((device_id, service))
        return True

    def request_config_refresh(self) -> None:
        pass


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], RecordingIngest]]:
    """Unit DH (counter DH-Q1 with CB-0042 on duty and unit dev-dh-q1; DH-Q2 with nobody and
    no unit), unit LDB, and the admin's headers; the ingest is the recorder."""
    app = api_app(tmp_path)
    with TestClient(app) as client:
        admin = login(client, "admin")
        seed(client, admin)
        for path, body in [
            ("/api/v1/counters", {"id": "DH-Q2", "name": "Quầy 2", "unit_id": "DH"}),
            ("/api/v1/devices", {"id": "dev-dh-q1", "counter_id": "DH-Q1"}),
            ("/api/v1/units", {"id": "LDB", "name": "Xã Châu Phong", "kind": "commune"}),
        ]:
            assert client.post(path, json=body, headers=admin).status_code == 201, path
        recorder = RecordingIngest()
        app.state.ingest = recorder
        app.dependency_overrides[now] = lambda: recorder.now
        yield client, admin, recorder


def make_token(client: TestClient, admin: dict[str, str], name: str, **extra: Any) -> str:
    r = client.post(
        "/api/v1/tokens", json={"name": name, "scope": "services", **extra}, headers=admin
    )
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    assert token.startswith("hlt_")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event(kind: str, at: str, ticket: str = "A-0153", **extra: str) -> dict[str, str]:
    where = {} if kind == "issued" else {"counter_id": "DH-Q1"}
    return {
        "event": kind,
        "ticket": ticket,
        "at": f"{DAY}T{at}+07:00",
        "unit_id": "DH",
        **where,
        **extra,
    }


def post(client: TestClient, token: str, *events: dict[str, str]) -> Any:
    return client.post("/api/v1/services", json={"events": list(events)}, headers=bearer(token))


def rows(client: TestClient, table: Any) -> list[Any]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(table)).all())


def test_a_ticket_issued_called_and_served(queue: tuple[TestClient, dict, RecordingIngest]) -> None:
    client, admin, recorder = queue
    token = make_token(client, admin, "queue-dh")
    events = [event("issued", "08:01:00"), event("called", "08:05:00"), event("served", "08:12:00")]
    r = post(client, token, *events)
    assert r.status_code == 200, r.text
    answers = r.json()["events"]
    assert [a["state"] for a in answers] == ["issued", "called", "served"]
    assert [a["unit_told"] for a in answers] == [False, True, False]
    link = answers[2]["rating_url"]
    assert link.startswith("http://testserver/r/") and answers[1]["rating_url"] == link
    [(device, service)] = recorder.services
    assert (device, service.ticket, service.officer_id) == ("dev-dh-q1", "A-0153", "CB-0042")
    assert service.rating_url == link and service.open_s == 120
    [ticket] = rows(client, QueueTicket)
    assert (ticket.state, ticket.counter_id, ticket.officer_id) == ("served", "DH-Q1", "CB-0042")
    [served] = rows(client, ServiceRecord)
    assert (served.ticket, served.officer_id, served.unit_id) == ("A-0153", "CB-0042", "DH")
    [invite] = rows(client, RatingInvite)
    assert link.endswith(invite.token) and invite.ticket == "A-0153"

    again = post(client, token, *events)  # the same events twice change nothing
    assert again.status_code == 200
    assert [a["rating_url"] for a in again.json()["events"]][1:] == [link, link]
    assert len(recorder.services) == 1, "a repeated call does not reopen the unit's rating"
    assert len(rows(client, QueueTicket)) == len(rows(client, ServiceRecord)) == 1
    actors = {e.actor for e in rows(client, AuditEvent) if e.action == "services.events"}
    assert actors == {"token:queue-dh"}
    used = rows(client, ApiToken)[0]
    assert used.last_used_at is not None


def test_events_out_of_order_serve_without_calling_the_unit(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, recorder = queue
    token = make_token(client, admin, "queue-dh")
    r = post(client, token, event("served", "09:10:00", "A-0007"))
    assert r.json()["events"][0]["state"] == "served"
    late = post(
        client, token, event("called", "09:02:00", "A-0007"), event("issued", "08:59:00", "A-0007")
    )
    assert [a["state"] for a in late.json()["events"]] == ["served", "served"]
    elsewhere = post(client, token, event("called", "09:03:00", "A-0007", counter_id="DH-Q2"))
    assert elsewhere.json()["events"][0]["state"] == "served"
    assert recorder.services == [], "a ticket already served is not opened at the unit"
    [ticket] = rows(client, QueueTicket)
    assert ticket.issued_at is not None and ticket.called_at is not None
    assert ticket.counter_id == "DH-Q1", "a late call elsewhere does not move a served ticket"
    assert len(rows(client, ServiceRecord)) == 1


def test_a_call_with_no_officer_or_no_broker_says_the_unit_was_not_told(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, recorder = queue
    token = make_token(client, admin, "queue-dh")
    recorder.now = datetime(2026, 10, 5, 10, 1, 30, tzinfo=VN_TZ)
    late = post(client, token, event("called", "09:59:00", "B-0000"))
    assert "the call is older than 120 s" in late.json()["events"][0]["note"]
    nobody = post(client, token, event("called", "10:00:00", "B-0001", counter_id="DH-Q2"))
    [answer] = nobody.json()["events"]
    assert not answer["unit_told"] and "no officer is known at counter DH-Q2" in answer["note"]
    assert answer["note"].startswith("chưa biết cán bộ")
    recorder.up = False
    down = post(client, token, event("called", "10:01:00", "B-0002"))
    [answer] = down.json()["events"]
    assert not answer["unit_told"] and "not connected to the broker" in answer["note"]
    assert recorder.services == []


def test_an_unknown_counter_refuses_the_whole_batch(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, _ = queue
    token = make_token(client, admin, "queue-dh")
    r = post(
        client, token, event("issued", "08:00:00"), event("called", "08:01:00", counter_id="DH-Q9")
    )
    assert r.status_code == 422
    assert "DH-Q9" in r.json()["detail"] and r.json()["detail"].startswith("không có quầy")
    assert rows(client, QueueTicket) == []


def test_an_event_at_a_counter_of_another_unit_is_refused_alone(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, _ = queue
    token = make_token(client, admin, "queue-all")
    r = post(
        client,
        token,
        event("called", "08:01:00", unit_id="LDB"),
        event("issued", "08:02:00", "A-2"),
    )
    assert r.status_code == 200
    assert r.json()["errors"] == [
        {"index": 0, "detail": r.json()["events"][0]["error"]},
    ]
    assert "counter DH-Q1 belongs to unit DH, not LDB" in r.json()["errors"][0]["detail"]
    assert [t.ticket for t in rows(client, QueueTicket)] == ["A-2"]


def test_a_token_of_one_unit_posts_only_its_counters(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, _ = queue
    token = make_token(client, admin, "queue-ldb", unit_id="LDB")
    r = post(client, token, event("called", "08:01:00", unit_id="DH"))
    assert r.status_code == 403
    assert "counter DH-Q1 belongs to unit DH" in r.json()["detail"]
    export = {
        "services": [{"counter_id": "DH-Q1", "ticket": "A-1", "served_at": f"{DAY}T08:00:00+07:00"}]
    }
    r = client.post("/api/v1/services", json=export, headers=bearer(token))
    assert r.status_code == 403 and "DH-Q1" in r.json()["detail"]
    assert rows(client, QueueTicket) == [] and rows(client, ServiceRecord) == []


def test_the_old_export_still_works_with_a_token_or_an_admin(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, _ = queue
    token = make_token(client, admin, "queue-dh", unit_id="DH")
    export = {
        "services": [{"counter_id": "DH-Q1", "ticket": "A-1", "served_at": f"{DAY}T08:00:00+07:00"}]
    }
    r = client.post("/api/v1/services", json=export, headers=bearer(token))
    assert r.json() == {"stored": 1, "duplicates": 0}
    r = client.post("/api/v1/services", json=export, headers=admin)
    assert r.json() == {"stored": 0, "duplicates": 1}
    both = client.post(
        "/api/v1/services", json={**export, "events": [event("issued", "08:00:00")]}, headers=admin
    )
    assert both.status_code == 422


def test_tokens_are_listed_without_the_token_and_revoked_at_once(
    queue: tuple[TestClient, dict, RecordingIngest],
) -> None:
    client, admin, _ = queue
    token = make_token(client, admin, "queue-dh")
    [listed] = client.get("/api/v1/tokens", headers=admin).json()
    assert listed["name"] == "queue-dh" and listed["routes"] == ["POST /api/v1/services"]
    assert "token" not in listed and "token_hash" not in listed
    assert token not in client.get("/api/v1/tokens", headers=admin).text
    duplicate = client.post("/api/v1/tokens", json={"name": "queue-dh"}, headers=admin)
    assert duplicate.status_code == 409
    for wrong in (
        {"name": "a b"},
        {"name": "x", "scope": "reports"},
        {"name": "x", "unit_id": "Z"},
    ):
        refused = client.post("/api/v1/tokens", json=wrong, headers=admin)
        assert refused.status_code == 422, (wrong, refused.text)
    assert post(client, token, event("issued", "08:00:00")).status_code == 200
    revoked = client.post("/api/v1/tokens/queue-dh/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = post(client, token, event("issued", "08:00:00"))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    unknown = post(client, "hlt_" + "x" * 43, event("issued", "08:00:00"))
    assert unknown.status_code == 401
    actions = [e.action for e in rows(client, AuditEvent) if e.action.startswith("api_token.")]
    assert actions == ["api_token.create", "api_token.revoke"]
