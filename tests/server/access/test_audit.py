"""The audit log: one event per write and per login, none for a refused write, no secret in any
event, log record or later response, the admin's reading of it, and the login slow-down."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher, extract_parameters
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from server.access import audit, auth
from server.access.auth import (
    FAILED_LOGIN_WINDOW,
    MAX_LOGIN_DELAY,
    AuthError,
    TooManyLogins,
    add_user,
)
from server.storage.db import make_engine, migrate
from server.storage.models import AuditEvent
from server.web.api.deps import now
from tests.server.web.test_api import RecordingAccounts, api_app, device_login, login, seed

SECOND = timedelta(seconds=1)
KEY = "k" * 40


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
        ("PATCH", "/api/v1/units/DH", {"signin": "pin"}, "unit.update", "DH", {"signin": "pin"}),
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
            "/api/v1/officers/CB-0042/credentials",
            {"pin": "482913"},
            "officer.credentials",
            "CB-0042",
            {"cleared": [], "set": ["pin"]},
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
        ("PATCH", "/api/v1/officers/CB-0042", {"unit_id": "NOPE"}, 422),
        ("PATCH", "/api/v1/officers/CB-9", {"name": "B"}, 404),
        ("POST", "/api/v1/officers/CB-9/credentials", {"pin": "482913"}, 404),
        ("POST", "/api/v1/officers/CB-0042/credentials", {"pin": "12"}, 422),
        ("PATCH", "/api/v1/units/NOPE", {"signin": "pin"}, 404),
        ("PATCH", "/api/v1/units/DH", {"signin": "face"}, 422),
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
    clock.at += SECOND  # the delay after the third failure
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


# --- the login slow-down -------------------------------------------------------------------------


def api_login(client: TestClient, user: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": user, "password": password})


def test_failures_slow_a_user_down_by_growing_delays(client: TestClient, clock: FakeClock) -> None:
    for n in range(3):
        assert api_login(client, "hr", f"guess-{n}").status_code == 401, "two free, then 1 s"
    for delay in (1, 2, 4):
        refused = api_login(client, "hr", "hr-password")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == str(delay)
        clock.at += (delay - 0.5) * SECOND
        assert api_login(client, "hr", "hr-password").status_code == 429, "not yet"
        clock.at += 0.5 * SECOND
        if delay < 4:
            assert api_login(client, "hr", f"guess-{delay}").status_code == 401
    assert refused.json()["detail"] == (
        "too many failed logins for this user; try again in 4 seconds"
    )
    assert api_login(client, "admin", "admin-password").status_code == 200, "others unaffected"
    assert api_login(client, "hr", "hr-password").status_code == 200
    actions = [e.action for e in events(client, logins=True) if e.actor == "hr"]
    assert actions.count("login.failed") == 5, "a refused attempt is no failure"
    assert actions[-3:] == ["login.throttled", "login.throttled", "login.ok"]


def test_the_delay_is_capped_and_a_success_does_not_wipe_earlier_failures(
    client: TestClient, clock: FakeClock
) -> None:
    waits = []
    for n in range(10):
        assert api_login(client, "hr", f"guess-{n}").status_code == 401
        refused = api_login(client, "hr", "hr-password")
        waits.append(int(refused.headers.get("Retry-After", 0)))
        clock.at += waits[-1] * SECOND
    assert waits == [0, 0, 1, 2, 4, 8, 16, 30, 30, 30]
    assert api_login(client, "hr", "hr-password").status_code == 200
    assert api_login(client, "hr", "guess-again").status_code == 401
    assert api_login(client, "hr", "hr-password").status_code == 429, "still 30 s"
    clock.at += FAILED_LOGIN_WINDOW
    assert api_login(client, "hr", "guess-later").status_code == 401
    assert api_login(client, "hr", "hr-password").status_code == 200, "old failures forgotten"


def test_the_browser_form_is_slowed_the_same_way(client: TestClient, clock: FakeClock) -> None:
    for n in range(3):
        page = client.post("/login", data={"username": "viewer", "password": f"guess-{n}"})
        assert page.status_code == 401
    page = client.post("/login", data={"username": "viewer", "password": "viewer-password"})
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "1"
    # the form says it in Vietnamese first, the API's English below
    assert "với tài khoản này. Vui lòng thử lại sau 1 giây." in page.text
    assert "Too many failed logins for this user; try again in 1 second<" in page.text
    assert api_login(client, "viewer", "viewer-password").status_code == 429, "one count"
    clock.at += SECOND
    ok = client.post(
        "/login",
        data={"username": "viewer", "password": "viewer-password"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_an_address_is_slowed_after_its_free_failures(client: TestClient, clock: FakeClock) -> None:
    for n in range(6):
        assert api_login(client, f"guess-{n}", "whatever").status_code == 401
    refused = api_login(client, "admin", "admin-password")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["detail"].startswith("too many failed logins from this address")
    clock.at += SECOND
    assert api_login(client, "admin", "admin-password").status_code == 200


def test_an_unknown_name_is_slowed_down_exactly_like_a_known_one(
    client: TestClient, clock: FakeClock
) -> None:
    def answers(name: str) -> list[tuple[int, str | None, str]]:
        seen = []
        for n in range(4):
            r = api_login(client, name, f"guess-{n}")
            seen.append((r.status_code, r.headers.get("Retry-After"), r.json()["detail"]))
        clock.at += FAILED_LOGIN_WINDOW  # the next name starts afresh, its address too
        return seen

    known = answers("hr")
    assert known[-1][:2] == (429, "1")
    assert answers("nobody-by-this-name") == known
    failed = [e for e in events(client, logins=True) if e.actor == audit.UNKNOWN_USER]
    assert len(failed) == 4 and len({e.target for e in failed}) == 1
    assert all("nobody" not in e.model_dump_json() for e in failed), "the name is not kept"


def test_an_outsider_cannot_lock_the_admin_out(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    t0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
    outsider, office = "203.0.113.66", "10.0.0.2"
    try:
        with Session(engine) as session:
            add_user(session, "admin", "mat-khau-dai", "admin")
            for n in range(5):
                with pytest.raises(AuthError) as wrong:
                    auth.login(
                        session,
                        "admin",
                        f"x-{n}",
                        client=outsider,
                        now=t0 + n * 10 * SECOND,
                        secret_key=KEY,
                    )
                assert not isinstance(wrong.value, TooManyLogins)
            last = t0 + 40 * SECOND
            with pytest.raises(TooManyLogins) as slowed:
                auth.login(
                    session,
                    "admin",
                    "mat-khau-dai",
                    client=office,
                    now=last + SECOND,
                    secret_key=KEY,
                )
            assert slowed.value.retry_after_s == 3, "4 s after the fifth failure"
            assert auth.login(
                session,
                "admin",
                "mat-khau-dai",
                client=office,
                now=last + 4 * SECOND,
                secret_key=KEY,
            )
            # however long the outsider keeps guessing, the admin waits at most 30 s
            at = last + 4 * SECOND
            for n in range(20):
                at += MAX_LOGIN_DELAY
                with pytest.raises(AuthError) as wrong:
                    auth.login(session, "admin", f"y-{n}", client=outsider, now=at, secret_key=KEY)
                assert not isinstance(wrong.value, TooManyLogins)
            with pytest.raises(TooManyLogins) as slowed:
                auth.login(session, "admin", "mat-khau-dai", client=office, now=at, secret_key=KEY)
            assert slowed.value.retry_after_s == 30
            assert auth.login(
                session,
                "admin",
                "mat-khau-dai",
                client=office,
                now=at + 30 * SECOND,
                secret_key=KEY,
            )
            logins = audit.events(
                session, action="login.", since=t0, until=at + MAX_LOGIN_DELAY + SECOND
            )
            assert [e.action for e in logins[:3]] == ["login.ok", "login.throttled", "login.failed"]
            assert [e.client for e in logins[:2]] == [office, office]
            assert audit.events(session, action="login_") == [], "_ is not a wildcard"
            page = audit.events(session, actor="admin", before_id=logins[1].id, limit=2)
            assert [e.id for e in page] == [e.id for e in logins[2:4]]
    finally:
        engine.dispose()


class CountingHasher(PasswordHasher):
    """Argon2 that counts its verifications: the cost of a login, whatever the clock says."""

    verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifications += 1
        return super().verify(hash, password)


def test_an_unknown_username_costs_as_much_as_a_known_one(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    hasher = CountingHasher()
    t0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
    costs = {}
    try:
        with Session(engine) as session:
            add_user(session, "lan", "mat-khau-dai", "hr")
            attempts = {"known, wrong": ("lan", "x"), "unknown": ("nobody", "x")}
            attempts["known, right"] = ("lan", "mat-khau-dai")
            for n, (what, (name, password)) in enumerate(attempts.items()):
                before = hasher.verifications
                try:
                    auth.login(
                        session,
                        name,
                        password,
                        client=f"10.0.0.{n}",
                        now=t0,
                        secret_key=KEY,
                        hasher=hasher,
                    )
                except TooManyLogins:
                    raise
                except AuthError:
                    pass
                costs[what] = hasher.verifications - before
    finally:
        engine.dispose()
    assert costs == {"known, wrong": 1, "unknown": 1, "known, right": 1}
    # the dummy hash is as costly to check as a user's hash made with the same hasher
    dummy = extract_parameters(auth._dummy_hash(hasher))
    assert dummy == extract_parameters(hasher.hash("mat-khau-dai"))
    assert dummy.time_cost == hasher.time_cost and dummy.memory_cost == hasher.memory_cost


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
    mqtt_password = device_login(client, auth, "dev-1").password
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


def test_a_user_is_created_with_the_persons_name_and_listed_with_it(client: TestClient) -> None:
    token = api_login(client, "admin", "admin-password").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"username": "lan", "password": "mat-khau-dai", "role": "hr", "full_name": "Trần Lan"}

    made = client.post("/api/v1/users", json=body, headers=auth)

    assert made.status_code == 201, made.text
    assert made.json()["full_name"] == "Trần Lan"
    listed = {
        u["username"]: u["full_name"] for u in client.get("/api/v1/users", headers=auth).json()
    }
    assert listed["lan"] == "Trần Lan"
