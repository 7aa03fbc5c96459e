"""The audit log: one event per write and per login, none for a refused write, no secret in any
event, log record or later response, the admin's reading of it, and the login rate limit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from server.access import audit, auth
from server.access.auth import AuthError, TooManyLogins, add_user
from server.storage.db import make_engine, migrate
from server.storage.models import AuditEvent
from server.web.api.deps import now
from tests.server.web.test_api import RecordingAccounts, api_app, login, seed

SECOND = timedelta(seconds=1)


@dataclass
class FakeClock:
    """The rate limit's clock (the `now` dependency), moved by the test."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def client(tmp_path: Any, clock: FakeClock) -> Iterator[TestClient]:
    app = api_app(tmp_path)
    app.dependency_overrides[now] = clock
    # as a browser on the server's own pages: the login form needs a same-origin Origin
    with TestClient(app, headers={"Origin": "http://testserver"}) as c:
        yield c


def events(client: TestClient, *, logins: bool = False) -> list[AuditEvent]:
    """The users' events, oldest first: the writes, or with `logins` only the logins; what
    the server does by itself (actor `system`) is left out."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        found = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    return [e for e in found if e.actor != audit.SYSTEM and e.action.startswith("login.") == logins]


# --- writes -------------------------------------------------------------------------------------


def test_every_write_leaves_exactly_one_event_with_who_what_and_where(client: TestClient) -> None:
    auth = login(client, "admin")
    writes: list[tuple[str, str, dict[str, Any] | None, str, str, dict[str, Any]]] = [
        (
            "POST",
            "/api/v1/units",
            {"id": "DH", "name": "Phường Diên Hồng", "kind": "ward"},
            "unit.create",
            "DH",
            {"id": "DH", "name": "Phường Diên Hồng", "kind": "ward", "province": None},
        ),
        (
            "POST",
            "/api/v1/fields",
            {"id": "tu-phap", "name": "Tư pháp"},
            "field.create",
            "tu-phap",
            {"id": "tu-phap", "name": "Tư pháp"},
        ),
        (
            "POST",
            "/api/v1/officers",
            {"id": "CB-0042", "name": "Nguyễn Thị Lan", "unit_id": "DH"},
            "officer.create",
            "CB-0042",
            {"id": "CB-0042", "name": "Nguyễn Thị Lan", "unit_id": "DH", "title": None},
        ),
        (
            "PATCH",
            "/api/v1/officers/CB-0042",
            {"title": "Công chức Tư pháp"},
            "officer.update",
            "CB-0042",
            {"title": "Công chức Tư pháp"},
        ),
        (
            "POST",
            "/api/v1/counters",
            {"id": "DH-Q1", "name": "Quầy 1", "unit_id": "DH", "field_ids": ["tu-phap"]},
            "counter.create",
            "DH-Q1",
            {"id": "DH-Q1", "name": "Quầy 1", "unit_id": "DH", "field_ids": ["tu-phap"]},
        ),
        (
            "POST",
            "/api/v1/assignments",
            {"officer_id": "CB-0042", "counter_id": "DH-Q1", "start": "2026-01-01T07:30+07:00"},
            "assignment.create",
            "1",
            {
                "officer_id": "CB-0042",
                "counter_id": "DH-Q1",
                "start": "2026-01-01T07:30:00+07:00",
                "end": None,
            },
        ),
        (
            "PATCH",
            "/api/v1/assignments/1",
            {"end": "2026-02-01T17:00+07:00"},
            "assignment.end",
            "1",
            {"end": "2026-02-01T17:00:00+07:00"},
        ),
        (
            "POST",
            "/api/v1/devices",
            {"id": "dev-dh-q1", "counter_id": "DH-Q1"},
            "device.create",
            "dev-dh-q1",
            {"counter_id": "DH-Q1"},
        ),
        ("POST", "/api/v1/devices/dev-dh-q1/revoke", None, "device.revoke", "dev-dh-q1", {}),
        (
            "POST",
            "/api/v1/users",
            {
                "username": "lan",
                "password": "mat-khau-dai",
                "role": "officer",
                "officer_id": "CB-0042",
            },
            "user.create",
            "lan",
            {"role": "officer", "unit_id": None, "officer_id": "CB-0042"},
        ),
    ]
    for method, path, body, action, target, detail in writes:
        before = len(events(client))
        r = client.request(method, path, json=body, headers=auth)
        assert r.status_code in (200, 201), (path, r.text)
        made = events(client)
        assert len(made) == before + 1, path
        event = made[-1]
        assert (event.actor, event.role, event.action, event.target, event.client) == (
            "admin",
            "admin",
            action,
            target,
            "testclient",
        )
        listed = client.get("/api/v1/audit", params={"limit": 1, "action": action}, headers=auth)
        assert listed.json()[0]["detail"] == detail, path
    assert client.post("/api/v1/users", json={}, headers=auth).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/v1/units", {"id": "DH", "name": "again", "kind": "ward"}, 409),
        ("POST", "/api/v1/units", {"id": "bad/id", "name": "x", "kind": "ward"}, 422),
        ("POST", "/api/v1/officers", {"id": "CB-1", "name": "A", "unit_id": "NOPE"}, 422),
        ("PATCH", "/api/v1/officers/CB-0042", {"active": False}, 409),
        ("PATCH", "/api/v1/officers/CB-9", {"name": "B"}, 404),
        (
            "POST",
            "/api/v1/assignments",
            {"officer_id": "CB-0042", "counter_id": "DH-Q1", "start": "2026-03-01T00:00+07:00"},
            409,
        ),
        ("PATCH", "/api/v1/assignments/1", {"end": "2025-01-01T00:00+07:00"}, 409),
        ("POST", "/api/v1/devices", {"id": "dev-2", "counter_id": "NOPE"}, 422),
        ("POST", "/api/v1/devices/dev-none/revoke", None, 404),
        ("POST", "/api/v1/users", {"username": "hr", "password": "12345678", "role": "hr"}, 409),
        (
            "POST",
            "/api/v1/users",
            {"username": "x", "password": "12345678", "role": "unit_head"},
            422,
        ),
    ],
)
def test_a_refused_write_leaves_no_event(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    auth = login(client, "admin")
    seed(client, auth)
    before = events(client)
    r = client.request(method, path, json=body, headers=auth)
    assert r.status_code == status, r.text
    assert events(client) == before


def test_a_registration_the_broker_refused_leaves_no_event(client: TestClient) -> None:
    auth = login(client, "admin")
    seed(client, auth)
    before = events(client)
    accounts: RecordingAccounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.down = True
    r = client.post("/api/v1/devices", json={"id": "dev-x", "counter_id": "DH-Q1"}, headers=auth)
    assert r.status_code == 503
    assert events(client) == before


def test_a_detail_that_names_a_secret_is_refused(client: TestClient) -> None:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        for key in ("password", "mqtt_password", "secret_key", "access_token"):
            with pytest.raises(ValueError, match="looks like a secret"):
                audit.record(session, "admin", "x.y", detail={key: "…"})


# --- logins and the log itself ------------------------------------------------------------------


def test_logins_are_audited_without_the_password(client: TestClient) -> None:
    login(client, "hr")
    r = client.post("/api/v1/auth/token", data={"username": "hr", "password": "wrong-guess"})
    assert r.status_code == 401
    # a password typed into the username box is no user's name, and is not kept
    page = client.post("/login", data={"username": "hr-password", "password": "wrong-guess-2"})
    assert page.status_code == 401
    found = events(client, logins=True)
    assert [(e.actor, e.role, e.action, e.client) for e in found] == [
        ("hr", "hr", "login.ok", "testclient"),
        ("hr", None, "login.failed", "testclient"),
        ("(unknown user)", None, "login.failed", "testclient"),
    ]
    assert not any(
        secret in e.model_dump_json() for e in found for secret in ("wrong-guess", "hr-password")
    )


def test_the_audit_log_is_read_by_admins_with_filters_and_pages(
    client: TestClient, clock: FakeClock
) -> None:
    auth = login(client, "admin")
    seed(client, auth)
    for n in range(3):
        client.post("/api/v1/auth/token", data={"username": "hr", "password": f"no-{n}"})
    assert client.get("/api/v1/audit", headers=login(client, "hr")).status_code == 403

    def read(**params: Any) -> list[dict[str, Any]]:
        r = client.get("/api/v1/audit", params=params, headers=auth)
        assert r.status_code == 200, r.text
        rows: list[dict[str, Any]] = r.json()
        return rows

    everything = read(limit=1000)
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert set(everything[0]) == {
        "id",
        "at",
        "actor",
        "role",
        "action",
        "target",
        "client",
        "detail",
    }
    assert everything[0]["at"].endswith(("Z", "+00:00"))
    logins = read(action="login.")
    assert {e["action"] for e in logins} == {"login.ok", "login.failed"}
    assert [e["action"] for e in read(action="login.failed")] == ["login.failed"] * 3
    assert {e["actor"] for e in read(actor="hr")} == {"hr"}
    assert {e["action"] for e in read(action="unit.")} == {"unit.create"}
    assert read(action="login%") == [], "a prefix, not a pattern"
    first_page = read(limit=2)
    second_page = read(limit=2, before_id=first_page[-1]["id"])
    assert [e["id"] for e in first_page + second_page] == [e["id"] for e in everything[:4]]
    future = (clock.at + timedelta(days=1)).isoformat()
    assert read(since=future) == []
    assert len(read(until=future, limit=1000)) == len(everything)
    for bad in ({"since": "2026-01-01T00:00"}, {"limit": 0}, {"before_id": 2**64}):
        assert client.get("/api/v1/audit", params=bad, headers=auth).status_code == 422, bad


# --- the login rate limit -----------------------------------------------------------------------


def api_login(client: TestClient, user: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": user, "password": password})


def test_five_failures_lock_one_user_for_fifteen_minutes(
    client: TestClient, clock: FakeClock
) -> None:
    for n in range(5):
        assert api_login(client, "hr", f"guess-{n}").status_code == 401
    locked = api_login(client, "hr", "hr-password")
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "900"
    assert locked.json()["detail"] == (
        "too many failed logins for this user; try again in 15 minutes"
    )
    assert api_login(client, "admin", "admin-password").status_code == 200, "others unaffected"
    clock.at += timedelta(minutes=14, seconds=30)
    still = api_login(client, "hr", "hr-password")
    assert still.status_code == 429 and still.headers["Retry-After"] == "30"
    assert still.json()["detail"].endswith("try again in 1 minute")
    clock.at += timedelta(seconds=30)
    assert api_login(client, "hr", "hr-password").status_code == 200
    assert [e.action for e in events(client, logins=True) if e.actor == "hr"][-3:] == [
        "login.throttled",
        "login.throttled",
        "login.ok",
    ]


def test_a_success_does_not_wipe_earlier_failures(client: TestClient, clock: FakeClock) -> None:
    for n in range(4):
        api_login(client, "hr", f"guess-{n}")
    assert api_login(client, "hr", "hr-password").status_code == 200
    assert api_login(client, "hr", "guess-5").status_code == 401
    assert api_login(client, "hr", "hr-password").status_code == 429


def test_the_browser_form_is_locked_the_same_way(client: TestClient, clock: FakeClock) -> None:
    for n in range(5):
        page = client.post("/login", data={"username": "viewer", "password": f"guess-{n}"})
        assert page.status_code == 401
    page = client.post("/login", data={"username": "viewer", "password": "viewer-password"})
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "900"
    assert "too many failed logins for this user; try again in 15 minutes" in page.text
    assert api_login(client, "viewer", "viewer-password").status_code == 429, "one count"
    clock.at += timedelta(minutes=15)
    ok = client.post(
        "/login",
        data={"username": "viewer", "password": "viewer-password"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_twenty_failures_from_one_address_lock_it(client: TestClient) -> None:
    for n in range(20):
        assert api_login(client, f"guess-{n}", "whatever").status_code == 401
    locked = api_login(client, "admin", "admin-password")
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("too many failed logins from this address")


def test_the_limit_and_the_log_queries_on_each_database(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    t0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
    try:
        with Session(engine) as session:
            add_user(session, "lan", "mat-khau-dai", "hr")
            for n in range(5):
                with pytest.raises(AuthError):
                    auth.login(session, "lan", f"x-{n}", client="10.0.0.1", now=t0 + n * SECOND)
            with pytest.raises(TooManyLogins) as locked:
                auth.login(session, "lan", "mat-khau-dai", client="10.0.0.2", now=t0 + 300 * SECOND)
            assert locked.value.retry_after_s == 600, "until the first failure is 15 minutes old"
            later = t0 + timedelta(minutes=15)
            assert auth.login(session, "lan", "mat-khau-dai", client="10.0.0.2", now=later)
            logins = audit.events(session, action="login.", since=t0, until=later + SECOND)
            assert [e.action for e in logins] == ["login.ok", "login.throttled"] + [
                "login.failed"
            ] * 5
            assert [e.client for e in logins[:2]] == ["10.0.0.2", "10.0.0.2"]
            assert audit.events(session, action="login_") == [], "_ is not a wildcard"
            page = audit.events(session, actor="lan", before_id=logins[1].id, limit=2)
            assert [e.id for e in page] == [e.id for e in logins[2:4]]
    finally:
        engine.dispose()


# --- no secret after creation -------------------------------------------------------------------


def test_no_secret_reaches_a_log_an_event_or_a_later_response(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = api_login(client, "admin", "admin-password")
    token = r.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    seed(client, auth)
    body = {"username": "lan", "password": "lan-secret-pw-42", "role": "hr"}
    assert client.post("/api/v1/users", json=body, headers=auth).status_code == 201
    made = client.post("/api/v1/devices", json={"id": "dev-1", "counter_id": "DH-Q1"}, headers=auth)
    assert made.status_code == 201
    mqtt_password = made.json()["mqtt_password"]
    assert api_login(client, "lan", "lan-secret-pw-42").status_code == 200
    secrets = {
        "admin password": "admin-password",
        "new user's password": "lan-secret-pw-42",
        "token": token,
        "secret key": client.app.state.settings.secret_key,  # type: ignore[attr-defined]
        "device's MQTT password": mqtt_password,
    }
    later = [
        client.get(path, headers=auth).text
        for path in ("/api/v1/users", "/api/v1/devices", "/api/v1/audit?limit=1000")
    ]
    logged = [f"{rec.getMessage()} {rec.args!r} {rec.exc_text or ''}" for rec in caplog.records]
    stored = [e.model_dump_json() for e in events(client) + events(client, logins=True)]
    for what, secret in secrets.items():
        for text in logged:
            assert secret not in text, f"the {what} is in a log record"
        for text in later + stored:
            assert secret not in text, f"the {what} is in a response or audit event"
    users = client.get("/api/v1/users", headers=auth)
    assert "password" not in users.text and "$argon2" not in users.text


@pytest.mark.parametrize(
    "body",
    [
        {"username": "lan", "password": "short-1", "role": "hr"},
        {"username": "lan", "password": "a-refused-secret", "role": "unit_head"},
    ],
)
def test_a_refused_user_body_does_not_come_back_with_its_password(
    client: TestClient, body: dict[str, str]
) -> None:
    r = client.post("/api/v1/users", json=body, headers=login(client, "admin"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"], "the reason is still given"
    assert body["password"] not in r.text
