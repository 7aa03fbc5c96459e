"""Who may do what: every role against every API route, the scopes of a unit_head, an officer
and a viewer, tokens that follow the user's row, and `hailong user add`."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from server.access.auth import add_user
from server.access.roles import Access, Forbidden
from server.storage.db import make_engine, migrate
from server.storage.models import ROLES, AuditEvent, User
from system.cli import main
from tests.server.factories import seed_registry
from tests.server.web.test_api import api_app, login, seed

ANONYMOUS = "anonymous"
EVERYONE = frozenset({*ROLES, ANONYMOUS})
LOGGED_IN = frozenset(ROLES)
REGISTRY = frozenset({"admin", "hr", "unit_head"})
ADMIN = frozenset({"admin"})
PAPER = frozenset({"admin", "hr"})  # paper survey forms: any unit's, never a unit_head's own
LOGOUT = "/api/v1/auth/logout"

# Every /api/v1 route and the roles allowed to call it; a route missing here fails
# test_every_api_route_is_in_the_access_table.
ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/auth/token"): EVERYONE,
    ("POST", "/api/v1/auth/logout"): LOGGED_IN,
    ("GET", "/api/v1/units"): REGISTRY,
    ("POST", "/api/v1/units"): ADMIN,
    ("GET", "/api/v1/fields"): REGISTRY,
    ("POST", "/api/v1/fields"): ADMIN,
    ("GET", "/api/v1/officers"): REGISTRY,
    ("POST", "/api/v1/officers"): ADMIN,
    ("PATCH", "/api/v1/officers/{officer_id}"): ADMIN,
    ("GET", "/api/v1/officers/{officer_id}/credentials"): ADMIN,
    ("POST", "/api/v1/officers/{officer_id}/credentials"): ADMIN,
    ("PATCH", "/api/v1/units/{unit_id}"): ADMIN,
    ("GET", "/api/v1/counters"): REGISTRY,
    ("POST", "/api/v1/counters"): ADMIN,
    ("GET", "/api/v1/assignments"): REGISTRY,
    ("POST", "/api/v1/assignments"): ADMIN,
    ("PATCH", "/api/v1/assignments/{assignment_id}"): ADMIN,
    ("GET", "/api/v1/devices"): REGISTRY,
    ("POST", "/api/v1/devices"): ADMIN,
    ("POST", "/api/v1/devices/{device_id}/revoke"): ADMIN,
    ("POST", "/api/v1/devices/{device_id}/bundle"): ADMIN,
    ("POST", "/api/v1/units/{unit_id}/bundle"): ADMIN,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/rejected"): ADMIN,
    ("GET", "/api/v1/rejected/dropped"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", "/api/v1/reports/{scope}"): LOGGED_IN,  # each within its scope, see below
    ("GET", "/api/v1/reports/units/{unit_id}/monthly"): REGISTRY,
    ("GET", "/api/v1/alerts"): REGISTRY,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): REGISTRY,
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): REGISTRY,
    ("POST", "/api/v1/services"): ADMIN,  # and a `services` token (test_machine_tokens.py)
    ("GET", "/api/v1/tokens"): ADMIN,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("POST", "/api/v1/tokens/{name}/revoke"): ADMIN,
    ("GET", "/api/v1/rota"): REGISTRY,
    ("POST", "/api/v1/rota"): ADMIN,
    ("DELETE", "/api/v1/rota/{rota_id}"): ADMIN,
    ("GET", "/api/v1/absences"): REGISTRY,
    ("POST", "/api/v1/absences"): ADMIN,
    ("DELETE", "/api/v1/absences/{absence_id}"): ADMIN,
    ("GET", "/api/v1/roster"): REGISTRY,
    ("GET", "/api/v1/fleet"): REGISTRY,
    ("POST", "/api/v1/import"): ADMIN,
    ("GET", "/api/v1/import/template"): ADMIN,
    ("POST", "/api/v1/paper"): PAPER,
    ("GET", "/api/v1/paper/template"): PAPER,
    ("GET", "/api/v1/units/{unit_id}/qr-cards.pdf"): frozenset({"admin", "unit_head"}),
}
# A route that checks the role in its body does so only once its parameters are valid, so
# every call carries these; the unit_head's and the officer's records are all in DH.
PATH_SAMPLES = {
    "officer_id": "CB-0042",
    "assignment_id": "999",
    "rota_id": "999",
    "absence_id": "999",
    "device_id": "dev-none",
    "scope": "officers",
    "unit_id": "DH",
    "alert_id": "999",
    "name": "no-such-token",
}
QUERY_SAMPLES = {"period": "2026-10", "month": "2026-10"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def add_role_users(app: FastAPI) -> None:
    """A login per role named after it (password `<role>-password`, as `login` expects):
    the unit_head of DH and officer CB-0042 of DH, beside test_api's admin, hr and viewer."""
    with Session(app.state.engine) as session:
        add_user(session, "unit_head", "unit_head-password", "unit_head", "DH")
        add_user(session, "officer", "officer-password", "officer", officer_id="CB-0042")


def seed_second_unit(client: TestClient, auth: dict[str, str]) -> None:
    for path, body in [
        ("/api/v1/units", {"id": "LDB", "name": "Xã Châu Phong", "kind": "commune"}),
        ("/api/v1/officers", {"id": "CB-0100", "name": "Lê Văn Tâm", "unit_id": "LDB"}),
    ]:
        assert client.post(path, json=body, headers=auth).status_code == 201


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    """Units DH and LDB, a login per role, and each role's headers (anonymous: none); the
    client answers a server error with 500 instead of raising, since only 401/403 matter."""
    app = api_app(tmp_path_factory.mktemp("access"))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = login(client, "admin")
        seed(client, admin)
        seed_second_unit(client, admin)
        add_role_users(app)
        headers = {role: login(client, role) for role in ROLES}
        yield client, {**headers, ANONYMOUS: {}}


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """From the OpenAPI document, which lists every route of every included router."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
        if method.upper() in METHODS
    }


def test_every_api_route_is_in_the_access_table(world: tuple[TestClient, dict]) -> None:
    client, _ = world
    routes = api_routes(client.app)  # type: ignore[arg-type]
    missing = sorted(routes - ACCESS.keys())
    assert not missing, f"add the new route to the access table ACCESS: {missing}"
    assert not sorted(ACCESS.keys() - routes), "the access table lists routes that are gone"


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_every_role_against_every_route(
    world: tuple[TestClient, dict], method: str, path: str
) -> None:
    client, headers = world
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_SAMPLES[m.group(1)], path)
    allowed = ACCESS[(method, path)]
    for role in sorted(EVERYONE):
        sent = headers[role]
        if path == LOGOUT and role != ANONYMOUS:
            sent = login(client, role)  # a login of its own: the shared ones stay valid
        r = client.request(method, url, params=QUERY_SAMPLES, headers=sent)
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
        elif role == ANONYMOUS:
            assert r.status_code == 401, r.text
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            assert r.json()["detail"], "a refusal says why"


# --- scopes -------------------------------------------------------------------------------------


def officer_rows(client: TestClient, headers: dict[str, str], **params: str) -> list[dict]:
    r = client.get(
        "/api/v1/reports/officers", params={"period": "2026-10", **params}, headers=headers
    )
    assert r.status_code == 200, r.text
    rows: list[dict] = r.json()["officers"]
    return rows


def test_a_unit_head_sees_only_their_unit(world: tuple[TestClient, dict]) -> None:
    client, headers = world
    head = headers["unit_head"]
    r = client.get("/api/v1/officers", params={"unit_id": "LDB"}, headers=head)
    assert r.status_code == 403
    assert r.json()["detail"] == "unit_id: a unit_head sees only their own unit, 'DH'"
    assert [o["id"] for o in client.get("/api/v1/officers", headers=head).json()] == ["CB-0042"]
    other = client.get(
        "/api/v1/reports/officers", params={"period": "2026-10", "unit_id": "LDB"}, headers=head
    )
    assert other.status_code == 403
    assert [row["officer_id"] for row in officer_rows(client, head)] == ["CB-0042"]
    assert [row["officer_id"] for row in officer_rows(client, headers["hr"])] == [
        "CB-0042",
        "CB-0100",
    ]


def test_an_officer_sees_only_their_own_figures(world: tuple[TestClient, dict]) -> None:
    client, headers = world
    officer = headers["officer"]
    rows = officer_rows(client, officer)
    assert [(row["officer_id"], row["name"]) for row in rows] == [("CB-0042", "Nguyễn Thị Lan")]
    someone_else = client.get(
        "/api/v1/reports/officers",
        params={"period": "2026-10", "officer_id": "CB-0100"},
        headers=officer,
    )
    assert someone_else.status_code == 403
    assert "an officer sees only their own figures" in someone_else.json()["detail"]
    counters = client.get("/api/v1/reports/counters", params={"period": "2026-10"}, headers=officer)
    assert counters.status_code == 403
    assert client.get("/api/v1/officers", headers=officer).status_code == 403


def test_a_viewer_gets_figures_without_names(world: tuple[TestClient, dict]) -> None:
    client, headers = world
    rows = officer_rows(client, headers["viewer"])
    assert len(rows) == 2
    assert sorted(row["unit_id"] for row in rows) == ["DH", "LDB"]
    for row in rows:
        assert not {"officer_id", "name", "title"} & set(row), row
        assert "ratings" in row and "happy_index" in row
    named = client.get(
        "/api/v1/reports/officers",
        params={"period": "2026-10", "officer_id": "CB-0042"},
        headers=headers["viewer"],
    )
    assert named.status_code == 403


# --- Access as a value --------------------------------------------------------------------------


def test_access_scopes_per_role() -> None:
    admin = Access("admin", "a")
    head = Access("unit_head", "h", unit_id="DH")
    officer = Access("officer", "o", unit_id="DH", officer_id="CB-0042")
    viewer = Access("viewer", "v")
    assert admin.unit_scope("LDB") == "LDB" and admin.unit_scope(None) is None
    assert viewer.unit_scope("LDB") == "LDB"
    assert head.unit_scope(None) == head.unit_scope("DH") == "DH"
    assert officer.unit_scope(None) == "DH"
    with pytest.raises(Forbidden, match="a unit_head sees only their own unit, 'DH'"):
        head.unit_scope("LDB")
    assert officer.officer_scope(None) == officer.officer_scope("CB-0042") == "CB-0042"
    assert head.officer_scope("CB-0100") == "CB-0100", "narrowed by the unit scope instead"
    with pytest.raises(Forbidden, match="an officer sees only their own figures"):
        officer.officer_scope("CB-0100")
    assert [a.may_see_names for a in (admin, head, officer, viewer)] == [True, True, True, False]
    assert all(a.may_export for a in (admin, head, officer, viewer))


def test_an_unknown_role_or_a_scoped_role_without_its_scope_gets_nothing() -> None:
    stranger = Access("auditor", "x")
    with pytest.raises(Forbidden, match="the role 'auditor' sees no unit"):
        stranger.unit_scope(None)
    assert not stranger.may_see_names and not stranger.may_export
    with pytest.raises(Forbidden, match="has no unit"):
        Access("unit_head", "h").unit_scope(None)
    with pytest.raises(Forbidden, match="without an officer"):
        Access("officer", "o", unit_id="DH").officer_scope(None)


def test_redacted_rows_carry_no_names_and_no_order_by_name() -> None:
    rows: list[dict[str, Any]] = [
        {"officer_id": "CB-1", "name": "An", "title": "x", "unit_id": "DH", "ratings": 9},
        {"officer_id": "CB-2", "name": "Bình", "title": None, "unit_id": "DH", "ratings": 3},
        {"officer_id": "CB-3", "name": "Chi", "title": None, "unit_id": "AB", "ratings": 5},
    ]
    shown = Access("viewer", "v").redact(rows)
    assert shown == [
        {"unit_id": "AB", "ratings": 5},
        {"unit_id": "DH", "ratings": 3},
        {"unit_id": "DH", "ratings": 9},
    ]
    assert Access("hr", "h").redact(rows) == rows


# --- tokens follow the user's row ---------------------------------------------------------------


def test_a_token_carries_the_users_current_role_and_dies_with_the_user(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with TestClient(app) as client:
        hr = login(client, "hr")
        assert client.get("/api/v1/units", headers=hr).status_code == 200
        with Session(app.state.engine) as session:
            user = session.exec(select(User).where(User.username == "hr")).one()
            user.role = "viewer"
            session.add(user)
            session.commit()
        assert client.get("/api/v1/units", headers=hr).status_code == 403
        with Session(app.state.engine) as session:
            add_user(session, "hr", "a-new-password", "hr")
        reset = client.get("/api/v1/units", headers=hr)
        assert reset.status_code == 401
        assert reset.json()["detail"] == "the password has changed since this login; log in again"
        viewer = login(client, "viewer")
        with Session(app.state.engine) as session:
            session.delete(session.exec(select(User).where(User.username == "viewer")).one())
            session.commit()
        gone = client.get("/api/v1/reports/officers?period=2026-10", headers=viewer)
        assert gone.status_code == 401
        assert gone.json()["detail"] == "the user of this token no longer exists"


# --- hailong user add ---------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's database, with unit DH and officer CB-0042."""
    monkeypatch.delenv("HAILONG_DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'hailong.db'}")
    migrate(engine)
    with Session(engine) as session:
        seed_registry(session)
    engine.dispose()
    return tmp_path


def user_add(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str, password: str = "mat-khau-dai"
) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return main(["user", "add", *args, "--password-stdin", "--data-dir", str(data_dir)])


def test_user_add_makes_an_officers_login_in_the_officers_unit(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = ("lan", "--role", "officer", "--officer", "CB-0042", "--full-name", "Trần Thị Lan")
    assert user_add(data_dir, monkeypatch, *first) == 0
    assert capsys.readouterr().out == "user 'lan' saved with role officer, unit DH\n"
    assert user_add(data_dir, monkeypatch, "lan", "--role", "officer", "--officer", "CB-0042") == 0
    engine = make_engine(f"sqlite:///{data_dir / 'hailong.db'}")
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "lan")).one()
        assert (user.role, user.unit_id, user.officer_id) == ("officer", "DH", "CB-0042")
        assert user.full_name == "Trần Thị Lan", "a reset without --full-name keeps the name"
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    engine.dispose()
    assert [(e.actor, e.action, e.target) for e in events] == [
        ("console", "user.create", "lan"),
        ("console", "user.reset", "lan"),
    ]
    assert json.loads(events[0].detail) == {
        "officer_id": "CB-0042",
        "role": "officer",
        "unit_id": None,
    }
    assert all("mat-khau-dai" not in e.detail for e in events)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "officer"], "--officer: an officer's login needs the officer whose figures"),
        (["--role", "officer", "--officer", "CB-9"], "unknown officer 'CB-9'; create the officer"),
        (
            ["--role", "officer", "--officer", "CB-0042", "--unit", "DH"],
            "--unit: an officer's unit is the officer's own; leave --unit out",
        ),
        (["--role", "hr", "--officer", "CB-0042"], "--officer: only an officer's login belongs"),
        (["--role", "unit_head"], "--unit: a unit_head needs the unit they are limited to"),
        (["--role", "viewer", "--unit", "DH"], "--unit: the viewer role is not limited to a unit"),
    ],
)
def test_user_add_says_what_is_wrong(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert user_add(data_dir, monkeypatch, "lan", *args) == 2
    assert message in capsys.readouterr().err
    engine = make_engine(f"sqlite:///{data_dir / 'hailong.db'}")
    with Session(engine) as session:
        assert session.exec(select(User)).first() is None
        assert session.exec(select(AuditEvent)).first() is None, "a refused user is not audited"
    engine.dispose()
