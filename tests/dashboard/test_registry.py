"""The registry screens on a real SQLite database, through Dash's HTTP routes: an admin's writes
are the API's (same service, same audit event, same Config refresh), a unit head reads their
unit only and writes nothing, and the other roles do not get in."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from dashboard import registry_view
from dashboard.app import create_dash, shown_paths
from dashboard.pages import counters, officers, units, users
from dashboard.registry_screen import Screen
from server.access import audit
from server.access.auth import add_user
from server.access.roles import ACCESS_KEY, Access
from server.storage.db import session_scope
from server.storage.models import CounterField, Officer, Unit
from tests.dashboard.rows import HR, TODAY, VIEWER, callback_body, factory
from tests.server.factories import seed_registry

ADMIN = Access("admin", "quantri")
HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")


class Changes:
    """Counts the Config refreshes a write asks for."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """Unit DH with counter DH-Q1 (field tu-phap) and officer CB-0042 at it; unit XA beside it."""
    with session_scope(engine) as session:
        seed_registry(session)
        session.add(Unit(id="XA", name="Xã An", kind="commune"))
        session.commit()
        session.add(Officer(id="CB-0099", name="Lê Thị Cúc", unit_id="XA"))
        session.commit()
    return engine


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def app(seeded: Engine, changes: Changes) -> Dash:
    return create_dash(factory(seeded), today=lambda: TODAY, registry_changed=changes)


def client_as(app: Dash, access: Access) -> FlaskClient:
    client = app.server.test_client()
    client.environ_base["asgi.scope"] = {ACCESS_KEY: access}
    client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    client.get("/")
    return client


def run(
    client: FlaskClient,
    output_id: str,
    inputs: dict[tuple[str, str], Any],
    states: dict[tuple[str, str], Any] | None = None,
) -> Any:
    body = callback_body(client.get("/_dash-dependencies").get_json(), output_id, inputs, states)
    return client.post("/_dash-update-component", json=body)


def save(client: FlaskClient, screen: Screen, values: dict[str, Any]) -> dict[str, Any]:
    """Fill the screen's form with `values` and press Save; the callback's outputs."""
    states = {(screen.box_id(box), "value"): values.get(box.name) for box in screen.boxes}
    states[(screen.id("saved"), "data")] = 0
    response = run(client, screen.id("message"), {(screen.id("save"), "n_clicks"): 1}, states)
    assert response.status_code == 200, response.get_data(as_text=True)
    out: dict[str, Any] = response.get_json()["response"]
    return out


def listed(client: FlaskClient, screen: Screen, search: str | None = None) -> list[dict[str, Any]]:
    response = run(
        client,
        screen.id("table"),
        {(screen.id("search"), "value"): search, (screen.id("saved"), "data"): 1},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    rows: list[dict[str, Any]] = response.get_json()["response"][screen.id("table")]["rowData"]
    return rows


def page(client: FlaskClient, path: str) -> Any:
    return run(
        client,
        "_pages_content",
        {("_pages_location", "pathname"): f"/dashboard{path}", ("_pages_location", "search"): ""},
    )


def events(engine: Engine, action: str) -> list[Any]:
    with session_scope(engine) as session:
        return list(audit.events(session, action=action))


# --- an admin writes as the API does --------------------------------------------------------


def test_an_admin_adds_an_officer_and_it_is_listed_audited_and_configs_refreshed(
    app: Dash, seeded: Engine, changes: Changes
) -> None:
    client = client_as(app, ADMIN)

    out = save(
        client,
        officers.SCREEN,
        {"id": "CB-0100", "name": "Phạm Văn Dũng", "title": "Chuyên viên", "unit_id": "DH"},
    )

    message = out["officers-message"]
    assert message["children"] == "Đã thêm cán bộ CB-0100 · Officer CB-0100 added"
    assert message["className"] == "form-message"
    assert out["officers-saved"]["data"] == 1
    assert [r["id"] for r in listed(client, officers.SCREEN, "dung")] == ["CB-0100"]
    (event,) = events(seeded, "officer.create")
    assert (event.actor, event.role, event.target, event.client) == (
        "quantri",
        "admin",
        "CB-0100",
        "10.0.0.9",
    )
    assert event.detail["name"] == "Phạm Văn Dũng"
    assert changes.count == 1


def test_a_refused_write_shows_the_services_reason_and_writes_nothing(
    app: Dash, seeded: Engine, changes: Changes
) -> None:
    client = client_as(app, ADMIN)

    out = save(
        client,
        counters.SCREEN,
        {"id": "DH-Q2", "name": "Quầy 2", "unit_id": "DH", "field_ids": ["dat-dai"]},
    )

    message = out["counters-message"]
    assert message["className"] == "form-message error"
    assert message["children"].startswith(registry_view.NOT_SAVED)
    assert "field_ids: unknown field 'dat-dai'; create the field first" in message["children"]
    assert "counters-saved" not in out
    assert events(seeded, "counter.") == []
    assert changes.count == 0


def test_an_empty_form_is_refused_before_the_service(app: Dash) -> None:
    out = save(client_as(app, ADMIN), units.SCREEN, {"id": "  ", "name": "Phường Mới"})

    assert "id, kind: cần điền · required" in out["units-message"]["children"]


def test_saving_an_existing_id_edits_it(app: Dash, seeded: Engine) -> None:
    client = client_as(app, ADMIN)

    out = save(
        client,
        counters.SCREEN,
        {"id": "DH-Q1", "name": "Quầy Một cửa", "unit_id": "DH", "field_ids": []},
    )

    assert out["counters-message"]["children"] == ("Đã cập nhật quầy DH-Q1 · Counter DH-Q1 updated")
    assert listed(client, counters.SCREEN, "DH-Q1") == [
        {"id": "DH-Q1", "name": "Quầy Một cửa", "unit_id": "DH", "field_ids": ""}
    ]
    with session_scope(seeded) as session:
        assert session.exec(select(CounterField)).all() == []
    assert [e.target for e in events(seeded, "counter.update")] == ["DH-Q1"]


def test_a_picked_row_fills_the_form_to_edit_it(app: Dash) -> None:
    client = client_as(app, ADMIN)
    (row,) = listed(client, counters.SCREEN, "DH-Q1")
    boxes = [counters.SCREEN.box_id(box) for box in counters.SCREEN.boxes]

    response = run(client, boxes[0], {(counters.SCREEN.id("table"), "selectedRows"): [row]})

    out = response.get_json()["response"]
    assert [out[box]["value"] for box in boxes] == ["DH-Q1", row["name"], "DH", ["tu-phap"]]


def test_a_counter_does_not_move_to_another_unit(app: Dash) -> None:
    out = save(
        client_as(app, ADMIN),
        counters.SCREEN,
        {"id": "DH-Q1", "name": "Quầy Tư pháp", "unit_id": "XA"},
    )

    assert (
        "counter 'DH-Q1' belongs to unit 'DH' and stays there"
        in (out["counters-message"]["children"])
    )


def test_an_admin_deactivates_an_officer_after_confirming(app: Dash, seeded: Engine) -> None:
    client = client_as(app, ADMIN)
    asked = run(
        client,
        officers.CONFIRM,
        {(officers.DEACTIVATE, "n_clicks"): 1},
        {(officers.PICK, "value"): "CB-0099"},
    )
    assert asked.get_json()["response"][officers.CONFIRM]["displayed"] is True
    assert "CB-0099" in asked.get_json()["response"][officers.CONFIRM]["message"]

    response = run(
        client,
        officers.ACT_MESSAGE,
        {(officers.CONFIRM, "submit_n_clicks"): 1},
        {(officers.PICK, "value"): "CB-0099", (officers.SCREEN.id("saved"), "data"): 3},
    )

    out = response.get_json()["response"]
    assert out[officers.ACT_MESSAGE]["children"] == (
        "Cán bộ CB-0099 đã nghỉ việc · Officer CB-0099 deactivated"
    )
    with session_scope(seeded) as session:
        officer = session.get(Officer, "CB-0099")
        assert officer is not None and officer.active is False
    (event,) = events(seeded, "officer.update")
    assert (event.target, event.detail) == ("CB-0099", {"active": False})


def act(app: Dash, officer_id: str, unit_id: str | None, button: tuple[str, str]) -> Any:
    response = run(
        client_as(app, ADMIN),
        officers.ACT_MESSAGE,
        {button: 1},
        {(officers.PICK, "value"): officer_id, (officers.TO_UNIT, "value"): unit_id},
    )
    return response.get_json()["response"][officers.ACT_MESSAGE]


def test_an_officer_moves_to_another_unit(app: Dash, seeded: Engine) -> None:
    out = act(app, "CB-0099", "DH", (officers.MOVE, "n_clicks"))

    assert out["children"] == "Đã chuyển CB-0099 sang DH · CB-0099 moved to DH"
    with session_scope(seeded) as session:
        officer = session.get(Officer, "CB-0099")
        assert officer is not None and officer.unit_id == "DH"
    (event,) = events(seeded, "officer.update")
    assert event.detail == {"unit_id": "DH"}


def test_a_move_is_refused_while_the_officer_has_shifts_at_the_old_unit(
    app: Dash, seeded: Engine
) -> None:
    out = act(app, "CB-0042", "XA", (officers.MOVE, "n_clicks"))

    assert out["className"] == "form-message error"
    assert out["children"].startswith(registry_view.NOT_SAVED + "unit_id:")
    assert "DH-Q1" in out["children"]
    assert events(seeded, "officer.update") == []


def test_deactivating_ends_the_officers_shifts_and_says_so_in_the_log(
    app: Dash, seeded: Engine
) -> None:
    out = act(app, "CB-0042", None, (officers.CONFIRM, "submit_n_clicks"))

    assert out["children"] == "Cán bộ CB-0042 đã nghỉ việc · Officer CB-0042 deactivated"
    (event,) = events(seeded, "officer.update")
    assert event.detail["active"] is False
    assert any("DH-Q1" in ended for ended in event.detail["ended"])


def test_an_admin_adds_a_user_whose_password_stays_out_of_the_log(
    app: Dash, seeded: Engine
) -> None:
    client = client_as(app, ADMIN)

    out = save(
        client,
        users.SCREEN,
        {
            "username": "head-xa",
            "full_name": "Đỗ Thị Hà",
            "password": "head-xa-password",
            "role": "unit_head",
            "unit_id": "XA",
        },
    )

    assert out["users-message"]["children"] == "Đã thêm người dùng head-xa · User head-xa added"
    (password,) = (box for box in users.SCREEN.boxes if box.name == "password")
    assert out[users.SCREEN.box_id(password)]["value"] == ""
    (row,) = listed(client, users.SCREEN, "head-xa")
    assert row["role"] == "Trưởng đơn vị · Unit head" and row["unit_id"] == "XA"
    assert row["full_name"] == "Đỗ Thị Hà"
    (event,) = events(seeded, "user.create")
    assert event.detail == {"role": "unit_head", "unit_id": "XA", "officer_id": None}
    assert "head-xa-password" not in str(out)


def test_a_taken_username_is_refused(app: Dash, seeded: Engine) -> None:
    with session_scope(seeded) as session:
        add_user(session, "head-xa", "first-password", "unit_head", "XA")

    out = save(
        client_as(app, ADMIN),
        users.SCREEN,
        {"username": "head-xa", "password": "other-password", "role": "viewer"},
    )

    assert "username: user 'head-xa' already exists" in out["users-message"]["children"]


def test_search_ignores_case_and_accents() -> None:
    rows = [{"name": "Đặng Đức Thắng"}, {"name": "Nguyễn Thị Lan", "unit": "DH"}]

    assert registry_view.search(rows, "dang thang") == [rows[0]]
    assert registry_view.search(rows, "NGUYEN dh") == [rows[1]]
    assert registry_view.search(rows, "  ") == rows


# --- who sees what --------------------------------------------------------------------------


def test_a_unit_head_reads_their_unit_and_has_no_form(app: Dash) -> None:
    client = client_as(app, HEAD_DH)

    content = str(page(client, "/officers").get_json()["response"]["_pages_content"]["children"])

    assert "Nguyễn Thị Lan" in content and "Lê Thị Cúc" not in content
    assert "'officers-save'" not in content and officers.DEACTIVATE not in content
    assert [r["id"] for r in listed(client, officers.SCREEN)] == ["CB-0042"]
    assert [r["id"] for r in listed(client, units.SCREEN)] == ["DH"]


def test_a_unit_heads_write_is_refused_even_when_posted_by_hand(app: Dash, seeded: Engine) -> None:
    client = client_as(app, HEAD_DH)
    states = {(officers.SCREEN.box_id(b), "value"): "X" for b in officers.SCREEN.boxes}

    response = run(client, "officers-message", {("officers-save", "n_clicks"): 1}, states)

    assert response.status_code == 403
    assert events(seeded, "officer.") == []


@pytest.mark.parametrize("access", [HR, VIEWER])
def test_other_roles_do_not_open_the_registry_screens(app: Dash, access: Access) -> None:
    client = client_as(app, access)

    assert page(client, "/officers").status_code == 403
    assert run(client, "units-table", {("units-search", "value"): ""}).status_code == 403


def test_only_an_admin_opens_users(app: Dash) -> None:
    assert page(client_as(app, HEAD_DH), "/users").status_code == 403
    assert page(client_as(app, ADMIN), "/users").status_code == 200


def test_the_menu_shows_each_role_the_pages_it_may_open(app: Dash) -> None:
    registry = {"/units", "/fields", "/counters", "/officers"}
    every = {"/", "/devices"}

    assert shown_paths("admin") >= every | registry | {"/users"}
    assert shown_paths("unit_head") & (registry | {"/users"}) == registry
    for role in ("hr", "officer", "viewer"):
        assert shown_paths(role) & (registry | {"/users"}) == set()
        assert shown_paths(role) >= every
