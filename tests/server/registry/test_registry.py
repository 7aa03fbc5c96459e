"""The registry a province needs: its migration and rules on SQLite and PostgreSQL, its API, and
revocation against a real Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from hailong.errors import BrokerError, NotFound, RegistryError, UnknownId
from server.access.auth import add_user
from server.broker.dynsec import BrokerAccounts
from server.registry import officers
from server.registry import writes as registry
from server.storage.db import alembic_config, make_engine, migrate
from server.storage.models import (
    Assignment,
    AssignmentCreate,
    AssignmentUpdate,
    Counter,
    CounterCreate,
    CounterPublic,
    Device,
    OfficerCreate,
    OfficerUpdate,
    ServiceFieldCreate,
    UnitCreate,
    UserCreate,
)
from server.timeutil import VN_TZ
from tests.conftest import Broker
from tests.server.broker.test_broker import can_connect, logged_in
from tests.server.factories import seed_registry
from tests.server.web.test_api import (
    RecordingAccounts,
    api_app,
    broker_app,
    device_login,
    login,
    seed,
)


def march(day: int, hour: int = 8) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=VN_TZ)


# --- the migration ------------------------------------------------------------------------------


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


def test_the_migrations_run_up_down_and_up_again_and_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    try:
        command.upgrade(cfg, "head")
        assert schema_differences(engine) == []
        command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


OLD_REGISTRY = (
    """INSERT INTO unit (id, name) VALUES ('DH', 'Phường Diên Hồng'), ('LDB', 'Xã Châu Phong'),
       ('GL', 'Trung tâm Phục vụ hành chính công tỉnh Gia Lai'), ('BK', 'TP Bắc Kạn')""",
    """INSERT INTO counter (id, name, unit_id, field) VALUES
       ('DH-Q1', 'Quầy 1', 'DH', 'Tư pháp – Hộ tịch'),
       ('DH-Q2', 'Quầy 2', 'DH', 'Tu phap - ho tich'),
       ('BK-Q1', 'Quầy 1', 'BK', 'Tư pháp – Hộ tịch'),
       ('LDB-Q1', 'Quầy 1', 'LDB', ' Đất đai '),
       ('GL-Q1', 'Quầy 1', 'GL', NULL), ('GL-Q2', 'Quầy 2', 'GL', '–')""",
    "INSERT INTO officer (id, name, unit_id, active) VALUES ('CB-1', 'Nguyễn Thị Lan', 'DH', true)",
    "INSERT INTO assignment (officer_id, counter_id, start) VALUES ('CB-1', 'DH-Q1', :at)",
    "INSERT INTO device (id, counter_id, created_at) VALUES ('dev-1', 'DH-Q1', :at)",
)


def test_the_free_text_field_becomes_fields_and_comes_back_on_downgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    try:
        command.upgrade(cfg, "0002")
        with engine.begin() as connection:
            for statement in OLD_REGISTRY:
                connection.execute(text(statement), {"at": datetime(2026, 1, 1, tzinfo=UTC)})
        command.upgrade(cfg, "0003")
        with engine.connect() as connection:

            def rows(sql: str) -> list[tuple[Any, ...]]:
                return sorted(tuple(r) for r in connection.execute(text(sql)))

            # Same slug, one field, named as most counters spell it; "–" has no letters: no field.
            assert rows("SELECT id, name FROM field") == [
                ("dat-dai", "Đất đai"),
                ("tu-phap-ho-tich", "Tư pháp – Hộ tịch"),
            ]
            assert rows("SELECT counter_id, field_id FROM counter_field") == [
                ("BK-Q1", "tu-phap-ho-tich"),
                ("DH-Q1", "tu-phap-ho-tich"),
                ("DH-Q2", "tu-phap-ho-tich"),
                ("LDB-Q1", "dat-dai"),
            ]
            assert rows("SELECT id, kind, province FROM unit") == [
                ("BK", "commune", None),
                ("DH", "ward", None),
                ("GL", "provincial_centre", None),
                ("LDB", "commune", None),
            ]
            # The rebuilt counter table kept the rows that refer to it.
            assert rows("SELECT counter_id FROM assignment") == [("DH-Q1",)]
            assert rows("SELECT counter_id FROM device") == [("DH-Q1",)]
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        command.downgrade(cfg, "0002")
        with engine.connect() as connection:
            assert sorted(connection.execute(text("SELECT id, field FROM counter"))) == [
                ("BK-Q1", "Tư pháp – Hộ tịch"),
                ("DH-Q1", "Tư pháp – Hộ tịch"),
                ("DH-Q2", "Tư pháp – Hộ tịch"),
                ("GL-Q1", None),
                ("GL-Q2", None),
                ("LDB-Q1", "Đất đai"),
            ]
            assert "kind" not in {c["name"] for c in inspect(connection).get_columns("unit")}
    finally:
        engine.dispose()


# --- the rules, on each database ------------------------------------------------------------


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """DH (a ward) with counter DH-Q1 serving tu-phap, device dev-dh-q1 and officer CB-0042
    assigned there since 2026-01-01, open."""
    engine = make_engine(database_url)
    migrate(engine)
    try:
        with Session(engine, expire_on_commit=False) as s:
            seed_registry(s)
            yield s
    finally:
        engine.dispose()


def only_assignment(session: Session) -> Assignment:
    return session.exec(select(Assignment)).one()


def test_a_counter_serves_the_fields_it_lists(session: Session) -> None:
    registry.create_field(session, ServiceFieldCreate(id="dia-chinh", name="Địa chính"))
    registry.create_unit(session, UnitCreate(id="LDB", name="Xã Châu Phong", kind="commune"))
    made = registry.create_counter(
        session,
        CounterCreate(
            id="LDB-Q1", name="Quầy 1", unit_id="LDB", field_ids=["tu-phap", "dia-chinh", "tu-phap"]
        ),
    )
    expected = CounterPublic(
        id="LDB-Q1", name="Quầy 1", unit_id="LDB", field_ids=["tu-phap", "dia-chinh"]
    )
    assert made == expected
    assert registry.list_counters(session, unit_id="LDB") == [
        expected.model_copy(update={"field_ids": ["dia-chinh", "tu-phap"]})
    ]
    assert [(c.id, c.field_ids) for c in registry.list_counters(session)] == [
        ("DH-Q1", ["tu-phap"]),
        ("LDB-Q1", ["dia-chinh", "tu-phap"]),
    ]
    assert [f.id for f in registry.list_fields(session)] == ["dia-chinh", "tu-phap"]
    with pytest.raises(RegistryError, match="id: field 'dia-chinh' already exists"):
        registry.create_field(session, ServiceFieldCreate(id="dia-chinh", name="Địa chính"))
    with pytest.raises(
        NotFound, match=r"field_ids: unknown field 'dat-dai'; create the field first"
    ):
        registry.create_counter(
            session, CounterCreate(id="LDB-Q2", name="Q2", unit_id="LDB", field_ids=["dat-dai"])
        )
    assert session.get(Counter, "LDB-Q2") is None


def test_ending_a_shift_must_not_run_into_the_next(session: Session) -> None:
    first = only_assignment(session)
    registry.create_officer(
        session, OfficerCreate(id="CB-0043", name="Trần Văn Hùng", unit_id="DH")
    )
    later = AssignmentCreate(officer_id="CB-0043", counter_id="DH-Q1", start=march(1))
    with pytest.raises(RegistryError, match=rf"to open \(assignment {first.id}\); end that"):
        registry.create_assignment(session, later)

    ended = registry.end_assignment(session, first.id or 0, AssignmentUpdate(end=march(1)))
    assert ended.end == march(1)
    second = registry.create_assignment(session, later)
    with pytest.raises(
        RegistryError,
        match=rf"end: counter 'DH-Q1' already has officer 'CB-0043' from "
        rf"2026-03-01T01:00:00\+00:00 to open \(assignment {second.id}\)",
    ):
        registry.end_assignment(session, first.id or 0, AssignmentUpdate(end=march(2)))
    with pytest.raises(RegistryError, match=r"end: must be after the assignment's start, 2026-03"):
        registry.end_assignment(session, second.id or 0, AssignmentUpdate(end=march(1)))
    with pytest.raises(UnknownId, match="there is no assignment 999"):
        registry.end_assignment(session, 999, AssignmentUpdate(end=march(2)))

    def officers(**filters: Any) -> list[str]:
        return [a.officer_id for a in registry.list_assignments(session, **filters)]

    assert officers(at=march(1) - timedelta(seconds=1)) == ["CB-0042"]
    assert officers(at=march(1)) == ["CB-0043"]
    assert officers(at=datetime(2025, 12, 31, tzinfo=UTC)) == []
    assert officers(counter_id="DH-Q1") == ["CB-0042", "CB-0043"]
    assert officers(officer_id="CB-0043", unit_id="DH") == ["CB-0043"]
    assert officers(unit_id="LDB") == []


def test_an_officer_who_leaves_has_their_shift_ended_and_an_inactive_one_gets_no_shift(
    session: Session,
) -> None:
    first = only_assignment(session)
    ended: list[list[str]] = []
    officers.update_officer(
        session, "CB-0042", OfficerUpdate(active=False), ended.append, now=march(1)
    )
    assert ended == [
        [f"assignment {first.id} at DH-Q1 ended {march(1).astimezone(UTC).isoformat()}"]
    ]
    session.refresh(first)
    assert first.end == march(1)
    officers.update_officer(session, "CB-0042", OfficerUpdate(active=True))
    changed = officers.update_officer(
        session, "CB-0042", OfficerUpdate(active=False, title="Chuyên viên")
    )
    assert (changed.name, changed.title, changed.active) == ("Nguyễn Thị Lan", "Chuyên viên", False)
    assert officers.update_officer(session, "CB-0042", OfficerUpdate(title=None)).title is None
    assert registry.list_officers(session, active=True) == []
    assert [o.id for o in registry.list_officers(session, unit_id="DH", active=False)] == [
        "CB-0042"
    ]
    with pytest.raises(
        RegistryError, match="officer_id: officer 'CB-0042' is inactive and cannot be assigned"
    ):
        registry.create_assignment(
            session, AssignmentCreate(officer_id="CB-0042", counter_id="DH-Q1", start=march(2))
        )
    with pytest.raises(UnknownId, match="there is no officer 'CB-9999'"):
        officers.update_officer(session, "CB-9999", OfficerUpdate(name="A"))


def test_a_device_is_revoked_once_and_its_account_disabled(session: Session) -> None:
    disabled: list[str] = []
    device = registry.revoke_device(session, "dev-dh-q1", disabled.append)
    assert disabled == ["dev-dh-q1"]
    assert device.revoked_at is not None
    assert datetime.now(UTC) - device.revoked_at < timedelta(minutes=1)
    with pytest.raises(
        RegistryError,
        match=r"device 'dev-dh-q1' was already revoked at 20.*; a replacement unit is "
        "registered under a new device id",
    ):
        registry.revoke_device(session, "dev-dh-q1", disabled.append)
    assert disabled == ["dev-dh-q1"], "the broker is not asked again"
    with pytest.raises(UnknownId, match="there is no device 'dev-nope'"):
        registry.revoke_device(session, "dev-nope", disabled.append)
    listed = registry.list_devices(session, unit_id="DH")
    assert [(d.id, d.revoked_at) for d in listed] == [("dev-dh-q1", device.revoked_at)]
    assert registry.list_devices(session, unit_id="LDB") == []


def test_a_revocation_the_broker_did_not_take_changes_nothing(session: Session) -> None:
    def broker_down(device_id: str) -> None:
        raise BrokerError("the broker is not reachable")

    with pytest.raises(BrokerError):
        registry.revoke_device(session, "dev-dh-q1", broker_down)
    session.rollback()
    device = session.get(Device, "dev-dh-q1", populate_existing=True)
    assert device is not None and device.revoked_at is None


def test_users_are_made_once_and_listed_without_their_password(session: Session) -> None:
    made = registry.create_user(
        session,
        UserCreate(username="lan.dh", password="mat-khau-dai", role="unit_head", unit_id="DH"),
    )
    assert (made.username, made.role, made.unit_id) == ("lan.dh", "unit_head", "DH")
    with pytest.raises(RegistryError, match="username: user 'lan.dh' already exists"):
        registry.create_user(
            session, UserCreate(username="lan.dh", password="another-one", role="viewer")
        )
    with pytest.raises(NotFound, match="unit_id: unknown unit 'XX'; create the unit first"):
        registry.create_user(
            session,
            UserCreate(username="hung", password="mat-khau-dai", role="unit_head", unit_id="XX"),
        )
    with pytest.raises(NotFound, match="officer_id: unknown officer 'CB-9'; create the officer"):
        registry.create_user(
            session,
            UserCreate(username="hung", password="mat-khau-dai", role="officer", officer_id="CB-9"),
        )
    officer = registry.create_user(
        session,
        UserCreate(username="lan", password="mat-khau-dai", role="officer", officer_id="CB-0042"),
    )
    assert (officer.role, officer.officer_id, officer.unit_id) == ("officer", "CB-0042", "DH")
    listed = registry.list_users(session)
    assert [u.username for u in listed] == ["lan", "lan.dh"]
    assert "password_hash" not in listed[0].model_dump()
    with pytest.raises(RegistryError, match="--unit: the admin role is not limited to a unit"):
        add_user(session, "root", "mat-khau-dai", "admin", "DH")  # as `hailong user add` does


# --- the API ------------------------------------------------------------------------------------


class RecordingIngest:
    def __init__(self) -> None:
        self.refreshes = 0

    def request_config_refresh(self) -> None:
        self.refreshes += 1


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """Unit DH as test_api seeds it, and unit LDB with its own counter, officer and device;
    `head` is DH's unit_head."""
    app = api_app(tmp_path)
    with TestClient(app) as c:
        auth = login(c, "admin")
        seed(c, auth)
        for path, body in [
            ("/api/v1/units", {"id": "LDB", "name": "Xã Châu Phong", "kind": "commune"}),
            ("/api/v1/fields", {"id": "dia-chinh", "name": "Địa chính"}),
            (
                "/api/v1/counters",
                {"id": "LDB-Q1", "name": "Quầy 1", "unit_id": "LDB", "field_ids": ["dia-chinh"]},
            ),
            ("/api/v1/officers", {"id": "CB-0100", "name": "Lê Văn Tâm", "unit_id": "LDB"}),
            (
                "/api/v1/assignments",
                {"officer_id": "CB-0100", "counter_id": "LDB-Q1", "start": "2026-01-01T00:00Z"},
            ),
            ("/api/v1/devices", {"id": "dev-dh-q1", "counter_id": "DH-Q1"}),
            ("/api/v1/devices", {"id": "dev-ldb-q1", "counter_id": "LDB-Q1"}),
        ]:
            r = c.post(path, json=body, headers=auth)
            assert r.status_code == 201, (path, r.text)
        with Session(app.state.engine) as s:
            add_user(s, "head", "head-password", "unit_head", "DH")
        app.state.ingest = RecordingIngest()
        yield c


def ids(response: Any, key: str = "id") -> list[Any]:
    assert response.status_code == 200, response.text
    return [row[key] for row in response.json()]


def test_units_have_a_kind_and_a_province(client: TestClient) -> None:
    auth = login(client, "admin")
    centre = {
        "id": "GL",
        "name": "Trung tâm Phục vụ hành chính công tỉnh Gia Lai",
        "kind": "provincial_centre",
        "province": " Gia Lai ",
    }
    r = client.post("/api/v1/units", json=centre, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json() == {**centre, "province": "Gia Lai", "signin": "none"}
    bad = client.post("/api/v1/units", json={**centre, "id": "X", "kind": "district"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "kind"]
    assert (
        "must be one of commune (xã), ward (phường), provincial_centre (Trung tâm Phục vụ hành "
        "chính công tỉnh); not 'district'" in bad.json()["detail"][0]["msg"]
    )
    missing = client.post("/api/v1/units", json={"id": "X", "name": "X"}, headers=auth)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "kind"]
    listed = client.get("/api/v1/units", headers=login(client, "hr"))
    assert [(u["id"], u["kind"]) for u in listed.json()] == [
        ("DH", "ward"),
        ("GL", "provincial_centre"),
        ("LDB", "commune"),
    ]
    assert ids(client.get("/api/v1/units", headers=login(client, "head"))) == ["DH"]


def test_fields_and_the_counters_that_serve_them(client: TestClient) -> None:
    auth = login(client, "admin")
    again = client.post("/api/v1/fields", json={"id": "tu-phap", "name": "Tư pháp"}, headers=auth)
    assert again.status_code == 409
    assert again.json()["detail"] == "id: field 'tu-phap' already exists"
    spaced = client.post("/api/v1/fields", json={"id": "tư pháp", "name": "x"}, headers=auth)
    assert spaced.status_code == 422 and spaced.json()["detail"][0]["loc"] == ["body", "id"]
    assert client.get("/api/v1/fields", headers=login(client, "hr")).json() == [
        {"id": "dia-chinh", "name": "Địa chính"},
        {"id": "tu-phap", "name": "Tư pháp – Hộ tịch"},
    ]
    unknown = client.post(
        "/api/v1/counters",
        json={"id": "DH-Q9", "name": "Q9", "unit_id": "DH", "field_ids": ["tu-phap", "dat-dai"]},
        headers=auth,
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        "field_ids: unknown field 'dat-dai'; create the field first (POST /api/v1/fields)"
    )
    assert client.get("/api/v1/counters", headers=login(client, "hr")).json() == [
        {"id": "DH-Q1", "name": "Quầy 1", "unit_id": "DH", "field_ids": ["tu-phap"]},
        {"id": "LDB-Q1", "name": "Quầy 1", "unit_id": "LDB", "field_ids": ["dia-chinh"]},
    ]
    head = login(client, "head")
    assert ids(client.get("/api/v1/counters", headers=head)) == ["DH-Q1"]
    other = client.get("/api/v1/counters", params={"unit_id": "LDB"}, headers=head)
    assert other.status_code == 403
    assert other.json()["detail"] == "unit_id: a unit_head sees only their own unit, 'DH'"


def test_officers_change_and_an_inactive_one_gets_no_shift(client: TestClient) -> None:
    auth = login(client, "admin")
    ingest: RecordingIngest = client.app.state.ingest  # type: ignore[attr-defined]
    r = client.patch("/api/v1/officers/CB-0042", json={"title": "Chuyên viên"}, headers=auth)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["title"], r.json()["active"]) == (
        "Nguyễn Thị Lan",
        "Chuyên viên",
        True,
    )
    assert ingest.refreshes == 1, "the unit's Config shows the new title"
    for body, message in [
        ({"name": None}, "must not be null; leave the field out to keep its value"),
        ({"name": "  "}, "must not be empty"),
        ({"active": None}, "must not be null; leave the field out to keep its value"),
    ]:
        r = client.patch("/api/v1/officers/CB-0042", json=body, headers=auth)
        assert r.status_code == 422 and message in r.json()["detail"][0]["msg"], r.text
    unknown = client.patch("/api/v1/officers/CB-9", json={"active": False}, headers=auth)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "there is no officer 'CB-9'"
    hr = client.patch("/api/v1/officers/CB-0042", json={"title": "x"}, headers=login(client, "hr"))
    assert hr.status_code == 403

    # An officer who leaves: their open assignment ends now, and the audit event says so.
    r = client.patch("/api/v1/officers/CB-0042", json={"active": False}, headers=auth)
    assert r.status_code == 200 and r.json()["active"] is False
    shift = client.get("/api/v1/assignments?officer_id=CB-0042", headers=auth).json()[0]
    assert shift["end"] is not None
    event = client.get("/api/v1/audit?action=officer.update", headers=auth).json()[0]
    assert event["detail"]["active"] is False
    (ended,) = event["detail"]["ended"]
    text, moment = ended.rsplit(" ", 1)
    assert text == "assignment 1 at DH-Q1 ended"
    assert datetime.fromisoformat(moment) == datetime.fromisoformat(shift["end"])
    refused = client.post(
        "/api/v1/assignments",
        json={"officer_id": "CB-0042", "counter_id": "DH-Q1", "start": "2026-04-01T07:30+07:00"},
        headers=auth,
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "officer_id: officer 'CB-0042' is inactive and cannot be assigned; make them active "
        "first (PATCH /api/v1/officers/CB-0042)"
    )
    hr = login(client, "hr")
    assert ids(client.get("/api/v1/officers", params={"active": False}, headers=hr)) == ["CB-0042"]
    assert ids(client.get("/api/v1/officers", params={"active": True}, headers=hr)) == ["CB-0100"]
    assert ids(client.get("/api/v1/officers", headers=login(client, "head"))) == ["CB-0042"]


def test_a_shift_is_ended_without_overlapping_the_next_and_listed_by_moment(
    client: TestClient,
) -> None:
    auth = login(client, "admin")
    for body, status, message in [
        ({"end": "2025-12-31T00:00:00+07:00"}, 409, "end: must be after the assignment's start"),
        ({"end": "2026-03-01T08:00:00"}, 422, "timezone"),
        ({}, 422, "Field required"),
    ]:
        r = client.patch("/api/v1/assignments/1", json=body, headers=auth)
        assert r.status_code == status and message in r.text, r.text
    unknown = client.patch(
        "/api/v1/assignments/99", json={"end": "2026-03-01T08:00:00+07:00"}, headers=auth
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "there is no assignment 99"

    r = client.patch("/api/v1/assignments/1", json={"end": "2026-03-01T08:00+07:00"}, headers=auth)
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["end"]) == march(1)
    client.post(
        "/api/v1/officers",
        json={"id": "CB-0043", "name": "Trần Văn Hùng", "unit_id": "DH"},
        headers=auth,
    )
    second = client.post(
        "/api/v1/assignments",
        json={"officer_id": "CB-0043", "counter_id": "DH-Q1", "start": "2026-03-01T08:00+07:00"},
        headers=auth,
    )
    assert second.status_code == 201, second.text
    overlap = client.patch(
        "/api/v1/assignments/1", json={"end": "2026-03-02T08:00+07:00"}, headers=auth
    )
    assert overlap.status_code == 409
    assert overlap.json()["detail"] == (
        f"end: counter 'DH-Q1' already has officer 'CB-0043' from 2026-03-01T01:00:00+00:00 to "
        f"open (assignment {second.json()['id']}); end that assignment first"
    )

    def officers(user: str = "hr", **params: str) -> list[str]:
        r = client.get("/api/v1/assignments", params=params, headers=login(client, user))
        return ids(r, "officer_id")

    assert officers(counter_id="DH-Q1", at="2026-02-01T00:00:00+07:00") == ["CB-0042"]
    assert officers(counter_id="DH-Q1", at="2026-03-05T09:00:00+07:00") == ["CB-0043"]
    assert officers(officer_id="CB-0043") == ["CB-0043"]
    assert officers() == ["CB-0100", "CB-0042", "CB-0043"], "by start"
    assert officers("head") == ["CB-0042", "CB-0043"]
    naive = client.get(
        "/api/v1/assignments", params={"at": "2026-02-01T00:00:00"}, headers=login(client, "hr")
    )
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["query", "at"]


def test_a_revoked_device_is_cut_off_and_listed_as_revoked(client: TestClient) -> None:
    auth = login(client, "admin")
    accounts: RecordingAccounts = client.app.state.accounts  # type: ignore[attr-defined]
    ingest: RecordingIngest = client.app.state.ingest  # type: ignore[attr-defined]
    r = client.post("/api/v1/devices/dev-dh-q1/revoke", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None
    assert accounts.disabled == ["dev-dh-q1"]
    assert ingest.refreshes == 1
    again = client.post("/api/v1/devices/dev-dh-q1/revoke", headers=auth)
    assert again.status_code == 409
    assert again.json()["detail"].startswith("device 'dev-dh-q1' was already revoked at 20")
    assert again.json()["detail"].endswith("a replacement unit is registered under a new device id")
    unknown = client.post("/api/v1/devices/dev-nope/revoke", headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "there is no device 'dev-nope'"
    hr = client.post("/api/v1/devices/dev-ldb-q1/revoke", headers=login(client, "hr"))
    assert hr.status_code == 403

    accounts.down = True
    down = client.post("/api/v1/devices/dev-ldb-q1/revoke", headers=auth)
    assert down.status_code == 503 and "broker" in down.json()["detail"]
    listed = client.get("/api/v1/devices", headers=login(client, "hr")).json()
    assert [(d["id"], d["revoked_at"] is not None) for d in listed] == [
        ("dev-dh-q1", True),
        ("dev-ldb-q1", False),
    ], "a revocation the broker did not take is not recorded"
    assert {"firmware", "state", "last_seen_at", "outbox", "ignored_presses"} <= set(listed[0])
    assert ids(client.get("/api/v1/devices", headers=login(client, "head"))) == ["dev-dh-q1"]
    by_counter = client.get(
        "/api/v1/devices", params={"counter_id": "LDB-Q1"}, headers=login(client, "hr")
    )
    assert ids(by_counter) == ["dev-ldb-q1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"role": "unit_head"}, "unit_id: a unit_head needs the unit they are limited to"),
        (
            {"role": "admin", "unit_id": "DH"},
            "unit_id: the admin role is not limited to a unit; leave unit_id out",
        ),
        ({"role": "viewer", "unit_id": "DH"}, "unit_id: the viewer role is not limited to a unit"),
        ({"role": "officer"}, "officer_id: an officer's login needs the officer whose figures"),
        (
            {"role": "officer", "officer_id": "CB-0042", "unit_id": "DH"},
            "unit_id: an officer's unit is the officer's own; leave unit_id out",
        ),
        (
            {"role": "unit_head", "unit_id": "DH", "officer_id": "CB-0042"},
            "officer_id: only an officer's login belongs to an officer",
        ),
        (
            {"role": "officer", "officer_id": "CB-9"},
            "officer_id: unknown officer 'CB-9'; create the officer first",
        ),
        ({"role": "boss"}, "must be one of admin, hr, unit_head, officer, viewer; not 'boss'"),
        ({"role": "hr", "password": "short"}, "at least 8 characters"),
        ({"role": "hr", "username": "Nguyễn Lan"}, "A-Z a-z 0-9 . _ -"),
        ({"role": "unit_head", "unit_id": "XX"}, "unit_id: unknown unit 'XX'; create the unit"),
    ],
)
def test_a_user_that_breaks_a_rule_is_refused_with_the_reason(
    client: TestClient, body: dict[str, str], message: str
) -> None:
    full = {"username": "lan", "password": "mat-khau-dai", **body}
    r = client.post("/api/v1/users", json=full, headers=login(client, "admin"))
    assert r.status_code == 422
    assert message in r.text


def test_users_are_made_by_admins_and_listed_without_passwords(client: TestClient) -> None:
    auth = login(client, "admin")
    body = {"username": "lan", "password": "mat-khau-dai", "role": "unit_head", "unit_id": "DH"}
    r = client.post("/api/v1/users", json={**body, "full_name": "Nguyễn Thị Lan"}, headers=auth)
    assert r.status_code == 201, r.text
    assert set(r.json()) == {
        "id", "username", "full_name", "role", "unit_id", "officer_id", "created_at"
    }  # fmt: skip
    assert r.json()["full_name"] == "Nguyễn Thị Lan"
    again = client.post("/api/v1/users", json={**body, "password": "other-password"}, headers=auth)
    assert again.status_code == 409
    assert again.json()["detail"] == "username: user 'lan' already exists"
    token = client.post("/api/v1/auth/token", data={"username": "lan", "password": "mat-khau-dai"})
    lan = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert ids(client.get("/api/v1/units", headers=lan)) == ["DH"]
    listed = client.get("/api/v1/users", headers=auth)
    assert ids(listed, "username") == ["admin", "head", "hr", "lan", "viewer"]
    assert {u["username"]: u["full_name"] for u in listed.json()}["lan"] == "Nguyễn Thị Lan"
    assert "password" not in listed.text
    hr = login(client, "hr")
    assert client.get("/api/v1/users", headers=hr).status_code == 403
    assert client.post("/api/v1/users", json=body, headers=hr).status_code == 403


@pytest.mark.parametrize(
    "path", ["/units", "/fields", "/counters", "/officers", "/assignments", "/devices"]
)
def test_registry_reads_need_a_reporting_role(client: TestClient, path: str) -> None:
    assert client.get(f"/api/v1{path}").status_code == 401
    viewer = client.get(f"/api/v1{path}", headers=login(client, "viewer"))
    assert viewer.status_code == 403
    assert "this needs the role admin or hr or unit_head" in viewer.json()["detail"]


# --- revocation against a real broker -----------------------------------------------------------


def test_revoking_disconnects_a_connected_unit_at_once(broker: Broker, tmp_path: Path) -> None:
    with TestClient(broker_app(broker.server_url, tmp_path)) as c:
        auth = login(c, "admin")
        seed(c, auth)
        made = c.post(
            "/api/v1/devices", json={"id": "dev-dh-q1", "counter_id": "DH-Q1"}, headers=auth
        )
        assert made.status_code == 201, made.text
        target = device_login(c, auth, "dev-dh-q1")
        with logged_in(target) as dropped:
            r = c.post("/api/v1/devices/dev-dh-q1/revoke", headers=auth)
            assert r.status_code == 200, r.text
            assert dropped.wait(10), "the broker did not disconnect the revoked unit"
        assert not can_connect(target)


def test_disabling_an_account_the_broker_never_had_is_not_an_error(broker: Broker) -> None:
    accounts = BrokerAccounts(broker.server_target, broker.server_target)
    accounts.disable_device("never-registered")
    target = broker.add_device("dev-a", "a-password")
    accounts.disable_device("dev-a")
    assert not can_connect(target)
