"""The Dash app on a real SQLite database: layouts, pages and callbacks through Dash's HTTP routes.

Flask's test client speaks to the routes at "/", as they are once the mount has stripped
"/dashboard", and plays the login guard by putting the user where the guard puts it; the mount
and the guard themselves are tested in test_same_numbers.py and test_browser.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import dash
import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from dashboard import alerts_panel, report_view, review_period, tables
from dashboard.app import create_dash
from dashboard.pages import devices, satisfaction
from dashboard.sources import Sources
from devtools.dashboard_demo import OFFICERS, UNITS
from server.access.roles import ACCESS_KEY, Access
from server.policy import load_policy
from server.reporting import reports
from server.reporting.periods import parse_period, period_of
from server.storage.db import session_scope
from tests.dashboard.conftest import DH_ALERT, XA_ALERT
from tests.dashboard.rows import (
    HEAD_Q1,
    HR,
    OFFICER_1,
    TODAY,
    VIEWER,
    callback_body,
    factory,
)

LAST_30_DAYS = period_of("range", TODAY - timedelta(days=29), TODAY)
OCTOBER = parse_period("2026-10")  # the last complete month on TODAY, 20 November 2026
LINK = re.compile(r"\[(.*)\]\(")


def plain(name: str) -> str:
    """A grid name cell's text without its link (markdown "[name](href)")."""
    found = LINK.match(name)
    return found.group(1) if found else name


def make_app(engine: Engine) -> Dash:
    return create_dash(factory(engine), today=lambda: TODAY)


def client_as(app: Dash, access: Access | None) -> FlaskClient:
    """A client whose requests carry `access` as the login guard passes it (a2wsgi's scope)."""
    client = app.server.test_client()
    if access is not None:
        client.environ_base["asgi.scope"] = {ACCESS_KEY: access}
    return client


def post(client: FlaskClient, output_id: str, inputs: dict[tuple[str, str], Any]) -> Any:
    """Run the callback that writes `output_id`, as the browser would; the raw response."""
    body = callback_body(client.get("/_dash-dependencies").get_json(), output_id, inputs)
    return client.post("/_dash-update-component", json=body)


Inputs = dict[tuple[str, str], Any]


def call(client: FlaskClient, output_id: str, inputs: Inputs) -> dict[str, Any]:
    """The callback's outputs, by component id."""
    response = post(client, output_id, inputs)
    assert response.status_code == 200, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()["response"]
    return result


def report_inputs(
    period: str | None = None, scope: str = "officer", unit: str = "*", flagged: bool = False
) -> dict[tuple[str, str], Any]:
    return {
        (satisfaction.PERIOD, "value"): period,
        (satisfaction.SCOPE, "value"): scope,
        (satisfaction.UNIT, "value"): unit,
        (satisfaction.FLAGGED, "value"): [satisfaction.INCLUDE_FLAGGED] if flagged else [],
    }


def layout_as(app: Dash, access: Access, **query: str) -> Any:
    with app.server.test_request_context("/", environ_base={"asgi.scope": {ACCESS_KEY: access}}):
        return satisfaction.layout(**query)


def options(component: Any) -> list[Any]:
    return [o["value"] for o in component.options]


# --- the app and its pages ------------------------------------------------------------------


def test_served_under_the_mount_prefix_with_every_script_local(engine: Engine) -> None:
    app = make_app(engine)
    assert app.config.routes_pathname_prefix == "/"
    assert app.config.requests_pathname_prefix == "/dashboard/"

    index = client_as(app, HR).get("/").get_data(as_text=True)

    assert '<html lang="vi">' in index
    assert "<title>Hài Lòng</title>" in index
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', index)
    assert sources and all(s.startswith("/dashboard/") for s in sources), sources
    assert "/dashboard/assets/style.css" in index
    assert "cdn." not in index
    assert "validation_layout" not in index, "the first visitor's page would go to everyone"


def test_pages_are_registered_and_the_header_links_them(engine: Engine) -> None:
    app = make_app(engine)

    paths = {page["path"]: page for page in dash.page_registry.values()}
    assert paths["/"]["name"] == "Mức độ hài lòng"
    assert paths["/devices"]["name"] == "Thiết bị"
    layout = client_as(app, HR).get("/_dash-layout").get_json()
    links = re.findall(r'"href": "([^"]+)"', str(layout).replace("'", '"'))
    assert links[:3] == ["/dashboard/", "/dashboard/compare", "/dashboard/devices"]
    # the drill-down pages are opened from a review row, not from the header
    in_header = [p for p, page in paths.items() if page.get("nav", True)]
    assert sorted(links) == sorted(f"/dashboard{p}" for p in in_header)
    assert {"/officer/none", "/unit/none"} <= set(paths) - set(in_header)
    assert "Hài Lòng" in str(layout)


def test_the_header_names_the_user_and_the_way_out(engine: Engine) -> None:
    client = client_as(make_app(engine), HEAD_Q1)
    client.get("/")

    out = call(client, "user-badge", {("url", "pathname"): "/dashboard/"})

    text = str(out["user-badge"]["children"])
    assert "truongq1" in text and "Trưởng đơn vị" in text and "/logout" in text


def test_without_a_logged_in_user_nothing_is_shown(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    client = client_as(app, None)
    client.get("/")

    response = post(client, satisfaction.TABLE, report_inputs())

    assert response.status_code == 403
    assert OFFICERS[0].name not in response.get_data(as_text=True)


def test_router_serves_each_page(engine: Engine) -> None:
    client = client_as(make_app(engine), HR)
    client.get("/")

    for pathname, marker in (
        ("/dashboard/", satisfaction.CHART),
        ("/dashboard/devices", devices.TABLE),
    ):
        out = call(
            client,
            "_pages_content",
            {("_pages_location", "pathname"): pathname, ("_pages_location", "search"): ""},
        )
        assert marker in str(out["_pages_content"]["children"])


# --- the satisfaction page's layout, per user -----------------------------------------------


def test_hr_chooses_among_every_unit_and_report(demo_engine: Engine) -> None:
    page = layout_as(make_app(demo_engine), HR)

    # the last complete month, whatever the role (test_review_browser.py opens it in a browser)
    assert page[satisfaction.PERIOD].value == OCTOBER.text
    assert page[satisfaction.PERIOD_KIND].value == "month"
    assert page[satisfaction.MONTH].value == OCTOBER.text
    assert page[satisfaction.NEXT].disabled is False
    unit = page[satisfaction.UNIT]
    assert unit.options[0] == {"label": "Tất cả đơn vị (all units)", "value": "*"}
    assert {o["value"]: o["label"] for o in unit.options[1:]} == UNITS
    assert unit.value == "*" and not unit.disabled
    assert options(page[satisfaction.SCOPE]) == ["officer", "counter", "field", "unit"]
    assert page[satisfaction.FLAGGED].value == []
    assert alerts_panel.TABLE in str(page)


def test_a_unit_head_is_offered_their_own_unit_only_and_its_alerts(demo_engine: Engine) -> None:
    page = layout_as(make_app(demo_engine), HEAD_Q1)

    unit = page[satisfaction.UNIT]
    assert unit.options == [{"label": UNITS["Q1-MOTCUA"], "value": "Q1-MOTCUA"}]
    assert unit.value == "Q1-MOTCUA" and unit.disabled
    assert options(page[satisfaction.SCOPE]) == ["officer", "counter", "field", "unit"]
    assert alerts_panel.TABLE in str(page)


def test_an_officer_and_a_viewer_get_no_alerts_and_the_viewer_no_officers(
    demo_engine: Engine,
) -> None:
    app = make_app(demo_engine)
    officer, viewer = layout_as(app, OFFICER_1), layout_as(app, VIEWER)

    assert options(officer[satisfaction.SCOPE]) == ["officer"]
    assert options(officer[satisfaction.UNIT]) == ["Q1-MOTCUA"]
    assert options(viewer[satisfaction.SCOPE]) == ["counter", "field", "unit"]
    assert viewer[satisfaction.SCOPE].value == "counter"
    assert set(options(viewer[satisfaction.UNIT])) == {"*", *UNITS}
    for page in (officer, viewer):
        assert alerts_panel.TABLE not in str(page)


def test_the_url_presets_the_controls_within_what_the_user_may_see(demo_engine: Engine) -> None:
    app = make_app(demo_engine)

    preset = layout_as(app, HR, period="2026-Q4", scope="counter", unit="BN-MOTCUA", flagged="1")
    refused = layout_as(app, VIEWER, period="garbage", scope="officer", unit="nowhere")

    assert preset[satisfaction.PERIOD].value == "2026-Q4"
    assert preset[satisfaction.PERIOD_KIND].value == "quarter"
    assert (preset[satisfaction.SCOPE].value, preset[satisfaction.UNIT].value) == (
        "counter",
        "BN-MOTCUA",
    )
    assert preset[satisfaction.FLAGGED].value == [satisfaction.INCLUDE_FLAGGED]
    assert preset[satisfaction.NEXT].disabled is True  # Q4 holds today
    assert refused[satisfaction.PERIOD].value == OCTOBER.text
    assert refused[satisfaction.SCOPE].value == "counter"
    assert refused[satisfaction.UNIT].value == "*"


# --- the satisfaction page's callbacks ------------------------------------------------------


def test_report_callback_over_http_shows_the_reports_figures(demo_engine: Engine) -> None:
    client = client_as(make_app(demo_engine), HR)
    client.get("/")

    out = call(client, satisfaction.TABLE, report_inputs())

    with session_scope(demo_engine) as session:
        query = reports.Query("officer", OCTOBER, today=TODAY)
        expected = reports.report(session, query, load_policy(None)).as_dict()
    rows = {r["officer_id"]: r for r in expected["officers"]}
    records = out[satisfaction.TABLE]["rowData"]
    assert {plain(r["name"]) for r in records} == {o.name for o in OFFICERS}
    for record in records:
        row = rows[record["id"]]
        assert record["ratings_text"] == tables.format_count(row["ratings"])
        assert record["satisfied_pct"] == row["satisfied_pct"]
        assert record["certain"] == row["wilson_low"]
        assert record["rank"] == row["rank"]
    ranks = [r["rank"] for r in records if r["rank"] is not None]
    assert ranks == sorted(ranks), "rank order by default"
    bars, _satisfied, _happy = out[satisfaction.CHART]["figure"]["data"]
    assert sum(bars["y"]) == expected["total"]["ratings"]
    assert out[satisfaction.KPI_RATINGS]["children"] == tables.format_count(sum(bars["y"]))
    assert out[satisfaction.TABLE_BOX]["hidden"] is False
    assert out[satisfaction.EMPTY]["hidden"] is True
    assert out[satisfaction.RULES]["hidden"] is False
    assert out[satisfaction.NOTICE]["hidden"] is True  # October is over
    assert "2026-12-vi-du-3" in str(out[satisfaction.CAPTION]["children"])
    assert out[satisfaction.URL]["search"] == "?period=2026-10&scope=officer"


def test_a_unit_heads_request_for_another_unit_is_refused(demo_engine: Engine) -> None:
    client = client_as(make_app(demo_engine), HEAD_Q1)
    client.get("/")

    response = post(client, satisfaction.TABLE, report_inputs(unit="BN-MOTCUA"))
    own = call(client, satisfaction.TABLE, report_inputs(unit="Q1-MOTCUA"))

    assert response.status_code == 403
    assert "only their own unit" in response.get_data(as_text=True)
    names = {plain(r["name"]) for r in own[satisfaction.TABLE]["rowData"]}
    assert names == {o.name for o in OFFICERS if o.unit_id == "Q1-MOTCUA"}


def test_a_viewers_request_for_officers_is_refused(demo_engine: Engine) -> None:
    client = client_as(make_app(demo_engine), VIEWER)
    client.get("/")

    assert post(client, satisfaction.TABLE, report_inputs(scope="officer")).status_code == 403
    units = call(client, satisfaction.TABLE, report_inputs(scope="unit"))[satisfaction.TABLE]
    # names without links: a viewer has no unit page to open
    assert {r["name"] for r in units["rowData"]} == set(UNITS.values())


def test_an_unreadable_period_says_so_and_leaves_the_page(demo_engine: Engine) -> None:
    client = client_as(make_app(demo_engine), HR)
    client.get("/")

    out = call(client, satisfaction.TABLE, report_inputs(period="2026-13"))

    assert "Không đọc được khoảng thời gian" in out[satisfaction.PERIOD_ERROR]["children"]
    assert "no month 13" in out[satisfaction.PERIOD_ERROR]["children"]
    assert set(out) == {satisfaction.PERIOD_ERROR}, "nothing else changes"


def test_a_running_period_is_noticed_and_ranks_nobody(demo_engine: Engine) -> None:
    client = client_as(make_app(demo_engine), HR)
    client.get("/")

    out = call(client, satisfaction.TABLE, report_inputs(period="2026-11", flagged=True))

    assert "Tháng 11/2026 chưa kết thúc" in str(out[satisfaction.NOTICE]["children"])
    assert out[satisfaction.NOTICE]["hidden"] is False
    assert out[satisfaction.RULES]["hidden"] is True
    records = out[satisfaction.TABLE]["rowData"]
    assert {r["rank"] for r in records} == {None}
    assert {r["classification"] for r in records} == {"Chưa gợi ý (kỳ chưa kết thúc)"}
    # the change compares 1-20 November with 1-20 October, and says so
    change = [c for c in out[satisfaction.TABLE]["columnDefs"] if c["field"] == "change"]
    assert change[0]["headerName"].startswith("So với 01/10/2026 – 20/10/2026 (điểm %)")
    assert out[satisfaction.URL]["search"] == "?period=2026-11&scope=officer&flagged=1"


@pytest.mark.parametrize(
    ("move", "text", "expected"),
    [
        (satisfaction.PREVIOUS, "2026-10", ("2026-09", "month", "2026-09", False)),
        (satisfaction.NEXT, "2026-10", ("2026-11", "month", "2026-11", True)),
        (satisfaction.NEXT, "2026-11", (None, "month", "2026-11", True)),  # stays
        (satisfaction.MONTH, "2026-10", ("2025-12", "month", "2025-12", False)),
    ],
)
def test_the_arrows_and_the_month_picker_move_the_period(
    engine: Engine, move: str, text: str, expected: tuple[Any, ...]
) -> None:
    client = client_as(make_app(engine), HR)
    client.get("/")
    prop = "value" if move == satisfaction.MONTH else "n_clicks"
    inputs = {
        (move, prop): "2025-12" if move == satisfaction.MONTH else 1,
        (satisfaction.PERIOD, "value"): text,
        (satisfaction.PERIOD_KIND, "value"): "month",
    }

    out = call(client, satisfaction.PERIOD, inputs)

    shown = (
        out.get(satisfaction.PERIOD, {}).get("value"),
        out[satisfaction.PERIOD_KIND]["value"],
        out[satisfaction.MONTH]["value"],
        out[satisfaction.NEXT]["disabled"],
    )
    assert shown == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("month", "2026-10-24..2026-11-20", "2026-11"),
        ("quarter", "2026-10", "2026-Q4"),
        ("year", "2025-Q2", "2025"),
        ("range", "2026-10", "2026-10-01..2026-10-31"),
        ("day", "2027", TODAY.isoformat()),  # never past today
    ],
)
def test_the_kind_buttons_rewrite_the_period(
    engine: Engine, kind: str, text: str, expected: str
) -> None:
    client = client_as(make_app(engine), HR)
    client.get("/")

    out = call(
        client,
        satisfaction.PERIOD,
        {(satisfaction.PERIOD_KIND, "value"): kind, (satisfaction.PERIOD, "value"): text},
    )

    assert out[satisfaction.PERIOD]["value"] == expected


def test_a_typed_period_sets_the_kind(engine: Engine) -> None:
    client = client_as(make_app(engine), HR)
    client.get("/")
    inputs = {(satisfaction.PERIOD, "value"): "2026-Q3", (satisfaction.PERIOD_KIND, "value"): "x"}

    out = call(client, satisfaction.PERIOD, inputs)

    assert out == {
        satisfaction.PERIOD_KIND: {"value": "quarter"},
        satisfaction.MONTH: {"value": None},
        satisfaction.NEXT: {"disabled": False},
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, OCTOBER),
        ("  ", OCTOBER),
        ("2026-10", OCTOBER),
        ("2026-Q4", period_of("quarter", date(2026, 10, 1))),
        ("2026", period_of("year", date(2026, 1, 1))),
        ("2026-10-05..2026-12-14", period_of("range", date(2026, 10, 5), date(2026, 12, 14))),
    ],
)
def test_read_period(text: str | None, expected: Any) -> None:
    assert review_period.read_period(text, TODAY) == expected


def test_read_period_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="not a report period"):
        review_period.read_period("last week", TODAY)


def test_view_of_one_unit_lists_only_its_officers(demo_sources: Sources) -> None:
    view = report_view.view(demo_sources, HR, LAST_30_DAYS, "officer", "BN-MOTCUA")

    expected = {o.name for o in OFFICERS if o.unit_id == "BN-MOTCUA"}
    assert {plain(r["name"]) for r in view.records} == expected
    assert {r["unit"] for r in view.records} == {UNITS["BN-MOTCUA"]}
    assert view.records[0]["name"].endswith(
        f"(/dashboard/officer/{view.records[0]['id']}?period=2026-10-22..2026-11-20)"
    )


def test_view_of_a_period_without_ratings_shows_the_empty_state(demo_sources: Sources) -> None:
    view = report_view.view(demo_sources, HR, parse_period("2020-01"), "officer", "*")

    assert view.table_hidden is True and view.empty_hidden is False
    assert view.chart.data == () and view.reasons.data == ()
    assert "Chưa có đánh giá" in view.chart.layout.annotations[0].text
    assert (view.ratings, view.satisfied_pct) == ("0", "—")
    assert all(r["ratings"] == 0 for r in view.records)


def test_view_of_counters_has_no_classification(demo_sources: Sources) -> None:
    view = report_view.view(demo_sources, HR, LAST_30_DAYS, "counter", "*")

    assert len(view.records) == len(OFFICERS)  # one counter each
    assert "classification" not in {c["field"] for c in view.columns}
    assert view.rules_hidden is True


def test_including_flagged_ratings_changes_the_figures_not_the_flagged_count(
    report_sources: Sources,
) -> None:
    head = Access("unit_head", "head-dh", unit_id="DH")
    left_out = report_view.view(report_sources, head, OCTOBER, "officer", "DH")
    included = report_view.view(report_sources, head, OCTOBER, "officer", "DH", True)

    assert (left_out.ratings, included.ratings) == ("59", "60")
    assert left_out.flagged == included.flagged == "1"
    assert "include_flagged=true" in included.csv_href
    assert "include_flagged" not in left_out.csv_href


# --- links ----------------------------------------------------------------------------------


def test_export_links_are_the_apis_same_query() -> None:
    href = report_view.export_href("counter", OCTOBER, "DH", True, "xlsx")

    assert href == (
        "/api/v1/reports/counters?period=2026-10&unit_id=DH&include_flagged=true&format=xlsx"
    )
    whole = report_view.export_href("officer", LAST_30_DAYS, None, False, "csv")
    assert whole == "/api/v1/reports/officers?period=2026-10-22..2026-11-20&format=csv"


def test_the_printable_month_is_the_periods_last_month_up_to_now() -> None:
    assert report_view.monthly_month(OCTOBER, TODAY) == OCTOBER
    assert report_view.monthly_month(parse_period("2026"), TODAY).text == "2026-11"
    assert report_view.monthly_href("DH", OCTOBER, False) == (
        "/api/v1/reports/units/DH/monthly?month=2026-10"
    )


def test_the_printable_month_is_offered_for_one_unit_to_those_who_may_print_it(
    report_sources: Sources,
) -> None:
    head = Access("unit_head", "head-dh", unit_id="DH")
    officer = Access("officer", "officer-a", unit_id="DH", officer_id="CB-A")

    for_head = report_view.view(report_sources, head, OCTOBER, "unit", "DH")
    for_hr_all = report_view.view(report_sources, HR, OCTOBER, "unit", "*")
    for_officer = report_view.view(report_sources, officer, OCTOBER, "officer", None)

    assert for_head.monthly_hidden is False
    assert for_head.monthly_href == "/api/v1/reports/units/DH/monthly?month=2026-10"
    assert for_head.pdf_href == "/api/v1/reports/units/DH/monthly?month=2026-10&format=pdf"
    assert "tháng 10/2026" in str(for_head.monthly_label)
    assert for_hr_all.monthly_hidden is True  # no one unit chosen
    assert for_officer.monthly_hidden is True
    assert for_officer.csv_href == "/api/v1/reports/officers?period=2026-10&unit_id=DH&format=csv"


# --- alerts ---------------------------------------------------------------------------------


def test_alerts_panel_over_http_shows_the_unit_heads_alerts_only(report_engine: Engine) -> None:
    """The panel's cards (more in test_alerts_panel.py, which answers alerts too)."""
    app = make_app(report_engine)
    head = client_as(app, Access("unit_head", "head-dh", unit_id="DH"))
    head.get("/")
    inputs = {
        (satisfaction.UNIT, "value"): "DH",
        (alerts_panel.REFRESH, "n_intervals"): 0,
        (alerts_panel.ANSWERED, "data"): 0,
    }
    body = callback_body(
        head.get("/_dash-dependencies").get_json(), alerts_panel.TABLE, inputs, states={}
    )
    body["state"] = [[]]  # no confirmation form open
    response = head.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    out = response.get_json()["response"]

    cards = str(out[alerts_panel.TABLE]["children"])
    assert DH_ALERT in cards and XA_ALERT not in cards
    assert "Phường Diên Hồng · Quầy 1" in cards
    assert out[alerts_panel.EMPTY]["hidden"] is True


def test_two_dashboards_in_one_process_each_read_their_own_database(
    engine: Engine, demo_engine: Engine
) -> None:
    """Dash's page registry is process-wide; the sources must still be per app."""
    full, empty = make_app(demo_engine), make_app(engine)
    full_client, empty_client = client_as(full, HR), client_as(empty, HR)
    full_client.get("/")
    empty_client.get("/")

    full_rows = call(full_client, satisfaction.TABLE, report_inputs())[satisfaction.TABLE]
    empty_rows = call(empty_client, satisfaction.TABLE, report_inputs())[satisfaction.TABLE]

    assert len(full_rows["rowData"]) == 6
    assert empty_rows["rowData"] == []
    assert len(layout_as(empty, HR)[satisfaction.UNIT].options) == 1


# --- the devices page -----------------------------------------------------------------------


def test_devices_view_lists_every_device(demo_sources: Sources) -> None:
    view = devices.view(demo_sources, HR)

    by_id = {r["id"]: r for r in view.records}
    assert set(by_id) == {"HL-01", "HL-02", "HL-03", "HL-04", "HL-05", "HL-06", "HL-99"}
    assert by_id["HL-05"]["state"] == "Mất kết nối (offline)" and by_id["HL-05"]["outbox"] == 37
    assert by_id["HL-99"]["state"] == "Đã thu hồi (revoked)"
    assert view.table_hidden is False and view.empty_hidden is True


def test_devices_view_of_a_unit_head_is_their_units(demo_sources: Sources) -> None:
    view = devices.view(demo_sources, HEAD_Q1)

    assert {r["counter"].split(" · ")[1] for r in view.records} == {UNITS["Q1-MOTCUA"]}


def test_devices_view_without_devices_shows_the_empty_state(engine: Engine) -> None:
    view = devices.view(Sources(factory(engine)), HR)

    assert view.records == [] and view.table_hidden is True and view.empty_hidden is False
