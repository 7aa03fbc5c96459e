"""One number everywhere: the dashboard's tables hold the API's report values for the same data,
period and user, and the server's login guard tells the dashboard who that user is.

The server is the real one (tests/server/report_data.py: the API over hand-computed data, a
login per role), driven through FastAPI's TestClient.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dashboard import alerts_panel, queries, report_view, review_grid, tables
from dashboard.pages import satisfaction
from dashboard.sources import Sources
from server.access.roles import Access
from server.ingest.store import store_rows
from server.reporting.periods import parse_period
from server.storage.models import User
from server.timeutil import VN_TZ
from tests.dashboard.conftest import DH_ALERT, XA_ALERT, seed_alerts
from tests.dashboard.rows import TODAY, callback_body, factory
from tests.server.factories import RULES, stored_row
from tests.server.report_data import login, report_app

OCTOBER = parse_period("2026-10")
RUN_FIELDS = ("run_id", "generated_at", "generated_by", "sha256")
USERS = {
    "hr": Access("hr", "hr"),
    "head-dh": Access("unit_head", "head-dh", unit_id="DH"),
    "officer-a": Access("officer", "officer-a", unit_id="DH", officer_id="CB-A"),
    "viewer": Access("viewer", "viewer"),
}
CASES = [
    (user, scope, include_flagged)
    for user, access in USERS.items()
    for scope in queries.scopes(access)
    for include_flagged in (False, True)
]


# Ratings at Xã An's counter in October carrying the flags of the time, order and attribution
# rules, stored as the ingest stores them: CB-C gets 2 counted clock_corrected ratings, 1 left out
# out_of_order and 1 left out officer_mismatch (also clock_corrected); CB-B one left out
# seq_reused + out_of_order.
FLAGGED = [
    ("dev-x1", "XA-Q1", "XA", "CB-C", "clock_corrected"),
    ("dev-x1", "XA-Q1", "XA", "CB-C", "clock_corrected"),
    ("dev-x1", "XA-Q1", "XA", "CB-C", "out_of_order"),
    ("dev-x1", "XA-Q1", "XA", "CB-C", "officer_mismatch,clock_corrected"),
    ("dev-q2", "DH-Q2", "DH", "CB-B", "seq_reused,out_of_order"),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    made = report_app(tmp_path_factory.mktemp("same-numbers"), dashboard=True)
    seed_alerts(made.state.engine)
    at = datetime(2026, 10, 20, 9, 0, tzinfo=VN_TZ)
    rows = [
        stored_row(at, flags, device_id=d, seq=900 + i, counter_id=c, unit_id=u, officer_id=o)
        for i, (d, c, u, o, flags) in enumerate(FLAGGED)
    ]
    with Session(made.state.engine) as session:
        store_rows(session, rows, RULES, at)
        session.commit()
    return made


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    # as a browser on the server's own pages: cookie-authenticated POSTs (the login form, the
    # dashboard's callbacks) need a same-origin Origin
    with TestClient(app, headers={"Origin": "http://testserver"}) as client:
        yield client


def api_report(
    client: TestClient, user: str, scope: str, include_flagged: bool = False
) -> dict[str, Any]:
    """GET /api/v1/reports/{scope} for October as `user`, less the run's own fields."""
    params = {"period": OCTOBER.text, "include_flagged": str(include_flagged).lower()}
    response = client.get(
        f"/api/v1/reports/{report_view.PATHS[scope]}",  # type: ignore[index]
        params=params,
        headers=login(client, user),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return {k: v for k, v in body.items() if k not in RUN_FIELDS}


@pytest.mark.parametrize(("user", "scope", "include_flagged"), CASES)
def test_the_dashboards_report_is_the_apis(
    app: FastAPI, client: TestClient, user: str, scope: Any, include_flagged: bool
) -> None:
    access = USERS[user]
    expected = api_report(client, user, scope, include_flagged)
    sources = Sources(factory(app.state.engine), lambda: TODAY, app.state.policy)

    with Session(app.state.engine) as session:
        ours = queries.report(
            session,
            access,
            scope,
            OCTOBER,
            None,
            app.state.policy,
            include_flagged=include_flagged,
        )
        units = queries.unit_names(session)
    shown = report_view.view(sources, access, OCTOBER, scope, None, include_flagged)

    assert ours == expected
    api_rows = review_grid.rank_order(tables.report_rows(expected))
    linked = "/dashboard" if access.may_see_names else None  # a viewer has no pages to open
    assert shown.records == review_grid.records(api_rows, scope, units, OCTOBER, prefix=linked)
    assert [r["flags"] for r in shown.records] == [tables.flags_text(r["flags"]) for r in api_rows]
    if user == "viewer":  # every group of this data has fewer than 3 officers: all hidden
        assert {r["suppressed"] for r in api_rows} == {True}
        assert expected["total"]["flags"]  # the total's are shown
    else:
        assert any(r["flags"] for r in api_rows)  # there are flag counts to compare
    assert shown.ratings == tables.format_count(expected["total"]["ratings"])
    assert shown.satisfied_pct == tables.format_pct(expected["total"]["satisfied_pct"])


def test_the_hand_computed_officer_reads_the_same_on_screen(client: TestClient) -> None:
    """CB-A in October (tests/server/reporting/test_reports.py): 27 of 30 satisfied, one flagged
    press, 80 % in September; not yet ranked against CB-B, who has 29 ratings."""
    (api_row,) = [
        r for r in api_report(client, "hr", "officer")["officers"] if r["officer_id"] == "CB-A"
    ]
    units = {"DH": "Phường Diên Hồng"}
    (record,) = review_grid.records([api_row], "officer", units, OCTOBER)

    assert (api_row["satisfied_pct"], api_row["wilson_low"], api_row["wilson_high"]) == (
        90.0,
        74.38,
        96.54,
    )
    assert (record["satisfied_pct_text"], record["certain_text"]) == ("90,00 %", "74,38 – 96,54 %")
    assert record["change_text"] == "+10,00"
    assert record["flagged_text"] == "1"
    assert record["happy_index_text"] == "84,44"
    assert record["dissatisfied"] == 1
    assert record["classification"] == api_row["classification"]["label_vi"]


def test_the_flag_counts_read_the_same_on_screen(app: FastAPI, client: TestClient) -> None:
    """Why CB-C's ratings are what they are: 36 + 2 clock-corrected ratings counted (the clock
    was wrong, not the visitor), the out-of-order one and the one for another officer left out."""
    (api_row,) = [
        r for r in api_report(client, "hr", "officer")["officers"] if r["officer_id"] == "CB-C"
    ]
    sources = Sources(factory(app.state.engine), lambda: TODAY, app.state.policy)
    shown = report_view.view(sources, USERS["hr"], OCTOBER, "officer", None)
    (at,) = [i for i, r in enumerate(shown.records) if r.get("id") == "CB-C"]

    assert api_row["flags"] == {"officer_mismatch": 1, "clock_corrected": 3, "out_of_order": 1}
    assert list(api_row["flags"]) == ["officer_mismatch", "clock_corrected", "out_of_order"]
    assert (api_row["ratings"], api_row["flagged"]) == (42, 2)
    assert shown.records[at]["flags"] == "Sai cán bộ 1 · Đã chỉnh giờ 3 · Sai thứ tự 1"
    total = api_report(client, "hr", "unit")["total"]
    assert total["flags"] == {
        "cooldown": 1,
        "officer_mismatch": 1,
        "clock_corrected": 3,
        "seq_reused": 1,
        "out_of_order": 2,
    }


# --- through the login guard and the mount ------------------------------------------------------


def dash_call(
    client: TestClient, output_id: str, inputs: dict[tuple[str, str], Any]
) -> tuple[int, Any]:
    """A Dash callback through the server's /dashboard mount, with the browser's cookie."""
    deps = client.get("/dashboard/_dash-dependencies").json()
    body = callback_body(deps, output_id, inputs)
    response = client.post("/dashboard/_dash-update-component", json=body)
    return response.status_code, response.json()["response"] if response.is_success else None


def log_in(client: TestClient, user: str) -> None:
    client.cookies.clear()
    form = {"username": user, "password": f"{user}-password", "next": "/dashboard/"}
    made = client.post("/login", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text


def test_a_unit_head_behind_the_login_sees_their_unit_as_the_api_gives_it(
    client: TestClient,
) -> None:
    log_in(client, "head-dh")
    assert client.get("/dashboard/").status_code == 200
    inputs = {
        (satisfaction.PERIOD, "value"): OCTOBER.text,
        (satisfaction.SCOPE, "value"): "officer",
        (satisfaction.UNIT, "value"): "DH",
        (satisfaction.FLAGGED, "value"): [],
    }

    status, out = dash_call(client, satisfaction.TABLE, inputs)
    refused, _ = dash_call(
        client, satisfaction.TABLE, {**inputs, (satisfaction.UNIT, "value"): "XA"}
    )
    page_status, page = dash_call(
        client,
        "_pages_content",
        {("_pages_location", "pathname"): "/dashboard/", ("_pages_location", "search"): ""},
    )
    alerts_inputs = {
        (satisfaction.UNIT, "value"): "DH",
        (alerts_panel.REFRESH, "n_intervals"): 0,
        (alerts_panel.ANSWERED, "data"): 0,
    }
    deps = client.get("/dashboard/_dash-dependencies").json()
    alerts_body = {**callback_body(deps, alerts_panel.TABLE, alerts_inputs), "state": [[]]}
    answered = client.post("/dashboard/_dash-update-component", json=alerts_body)
    alerts_status, alerts = answered.status_code, answered.json()["response"]

    expected = api_report(client, "head-dh", "officer")
    units = {"DH": "Phường Diên Hồng", "XA": "Xã An"}
    rows = review_grid.rank_order(expected["officers"])
    assert status == 200
    shown = out[satisfaction.TABLE]["rowData"]
    assert shown == review_grid.records(rows, "officer", units, OCTOBER)
    assert [r["name"] for r in shown] == [
        "[Nguyễn Thị An](/dashboard/officer/CB-A?period=2026-10)",
        "[Trần Văn Bình](/dashboard/officer/CB-B?period=2026-10)",
    ]
    assert refused == 403
    assert page_status == 200
    text = str(page["_pages_content"]["children"])
    assert "Phường Diên Hồng" in text and "Xã An" not in text
    assert alerts_status == 200
    assert DH_ALERT in str(alerts[alerts_panel.TABLE]["children"])
    assert XA_ALERT not in str(alerts)


def test_an_officer_behind_the_login_sees_only_their_own_row(client: TestClient) -> None:
    log_in(client, "officer-a")
    inputs = {
        (satisfaction.PERIOD, "value"): OCTOBER.text,
        (satisfaction.SCOPE, "value"): "officer",
        (satisfaction.UNIT, "value"): "DH",
        (satisfaction.FLAGGED, "value"): [],
    }

    status, out = dash_call(client, satisfaction.TABLE, inputs)

    assert status == 200
    assert [r["name"] for r in out[satisfaction.TABLE]["rowData"]] == [
        "[Nguyễn Thị An](/dashboard/officer/CB-A?period=2026-10)"  # their own page
    ]
    assert (
        dash_call(client, satisfaction.TABLE, {**inputs, (satisfaction.SCOPE, "value"): "unit"})[0]
        == 403
    )


def test_the_guard_lets_in_every_role_with_a_scope_and_refuses_the_rest(
    app: FastAPI, client: TestClient
) -> None:
    for user in USERS:
        log_in(client, user)
        assert client.get("/dashboard/").status_code == 200, user
    with Session(app.state.engine) as session:
        stranger = session.exec(select(User).where(User.username == "viewer")).one()
        stranger.role = "auditor"  # a row edited by hand: a role no list names
        session.add(stranger)
        session.commit()
    try:
        log_in(client, "viewer")
        page = client.get("/dashboard/")
        assert page.status_code == 403
        assert "the role &#x27;auditor&#x27; sees no unit" in page.text and "/logout" in page.text
    finally:
        with Session(app.state.engine) as session:
            back = session.exec(select(User).where(User.username == "viewer")).one()
            back.role = "viewer"
            session.add(back)
            session.commit()
    client.cookies.clear()
    assert "/login" in str(client.get("/dashboard/").url)


def test_a_header_cannot_claim_a_user(client: TestClient) -> None:
    """The dashboard reads the user from the ASGI scope, where only the guard writes."""
    log_in(client, "viewer")
    client.headers["hailong.access"] = "admin"
    try:
        status, _ = dash_call(
            client, satisfaction.TABLE, {(satisfaction.SCOPE, "value"): "officer"}
        )
    finally:
        del client.headers["hailong.access"]
    assert status == 403
