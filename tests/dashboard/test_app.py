"""The Dash app on a real SQLite database: layouts, pages and callbacks through Dash's HTTP routes.

Flask's test client speaks to the routes at "/", as they are once the mount has stripped
"/dashboard"; the browser test covers the mount itself.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import dash
import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from dashboard.app import create_dash
from dashboard.demo import OFFICERS, UNITS
from dashboard.pages import devices, satisfaction
from dashboard.sources import Sources
from server.db import session_scope
from server.reports import officer_report
from tests.dashboard.rows import TODAY, factory


def make_app(engine: Engine) -> Dash:
    return create_dash(factory(engine), today=lambda: TODAY)


def call(client: FlaskClient, output_id: str, inputs: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """Run the callback that writes `output_id`, as the browser would; returns its outputs."""
    (dep,) = [
        d for d in client.get("/_dash-dependencies").get_json() if f"{output_id}." in d["output"]
    ]
    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in dep["output"].strip(".").split("...")
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{**i, "value": inputs[(i["id"], i["property"])]} for i in dep["inputs"]],
        "changedPropIds": [f"{i}.{p}" for i, p in inputs],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()["response"]
    return result


# --- the app and its pages ------------------------------------------------------------------


def test_served_under_the_mount_prefix_with_every_script_local(engine: Engine) -> None:
    app = make_app(engine)
    assert app.config.routes_pathname_prefix == "/"
    assert app.config.requests_pathname_prefix == "/dashboard/"

    index = app.server.test_client().get("/").get_data(as_text=True)

    assert '<html lang="vi">' in index
    assert "<title>Hài Lòng</title>" in index
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', index)
    assert sources and all(s.startswith("/dashboard/") for s in sources), sources
    assert "/dashboard/assets/style.css" in index
    assert "cdn." not in index


def test_pages_are_registered_and_the_header_links_them(engine: Engine) -> None:
    app = make_app(engine)

    paths = {page["path"]: page for page in dash.page_registry.values()}
    assert paths["/"]["name"] == "Mức độ hài lòng"
    assert paths["/devices"]["name"] == "Thiết bị"
    layout = app.server.test_client().get("/_dash-layout").get_json()
    links = re.findall(r'"href": "([^"]+)"', str(layout).replace("'", '"'))
    assert links == ["/dashboard/", "/dashboard/devices"]
    assert "Hài Lòng" in str(layout)


def test_satisfaction_layout_defaults_to_the_last_30_vietnam_days(demo_engine: Engine) -> None:
    app = make_app(demo_engine)

    with app.server.test_request_context("/"):
        page = satisfaction.layout()

    period = page[satisfaction.PERIOD]
    assert period.start_date == (TODAY - timedelta(days=29)).isoformat()
    assert period.end_date == TODAY.isoformat()
    options = page[satisfaction.UNIT].options
    assert options[0] == {"label": "Tất cả đơn vị (all units)", "value": "*"}
    assert {o["value"]: o["label"] for o in options[1:]} == UNITS
    assert page[satisfaction.UNIT].value == "*"


def test_router_serves_each_page(engine: Engine) -> None:
    client = make_app(engine).server.test_client()
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


# --- the satisfaction page ------------------------------------------------------------------


def test_satisfaction_callback_over_http_returns_the_reports_figures(demo_engine: Engine) -> None:
    client = make_app(demo_engine).server.test_client()
    client.get("/")
    start = (TODAY - timedelta(days=29)).isoformat()

    out = call(
        client,
        satisfaction.CHART,
        {
            (satisfaction.PERIOD, "start_date"): start,
            (satisfaction.PERIOD, "end_date"): TODAY.isoformat(),
            (satisfaction.UNIT, "value"): "*",
        },
    )

    with session_scope(demo_engine) as session:
        report = officer_report(session, TODAY - timedelta(days=29), TODAY)
    records = out[satisfaction.TABLE]["data"]
    assert {r["name"] for r in records} == {o.name for o in OFFICERS}
    by_id = {r.officer_id: r for r in report}
    for record in records:
        assert record["satisfied_pct"] == by_id[record["officer_id"]].figures.satisfied_pct
        assert record["ratings"] == by_id[record["officer_id"]].figures.ratings
    bars, satisfied, happy = out[satisfaction.CHART]["figure"]["data"]
    assert sum(bars["y"]) == sum(r.figures.ratings for r in report)
    assert out[satisfaction.KPI_RATINGS]["children"] == f"{sum(bars['y']):,}".replace(",", ".")
    assert out[satisfaction.TABLE_BOX]["hidden"] is False
    assert out[satisfaction.EMPTY]["hidden"] is True


def test_view_of_one_unit_lists_only_its_officers(demo_sources: Sources) -> None:
    view = satisfaction.view(demo_sources, None, None, "BN-MOTCUA")

    expected = {o.name for o in OFFICERS if o.unit_id == "BN-MOTCUA"}
    assert {r["name"] for r in view.records} == expected
    assert {r["unit"] for r in view.records} == {UNITS["BN-MOTCUA"]}


def test_view_sorts_by_satisfied_pct(demo_sources: Sources) -> None:
    view = satisfaction.view(demo_sources, None, None, "*")

    pcts = [r["satisfied_pct"] for r in view.records]
    assert pcts == sorted(pcts, reverse=True)


def test_view_of_a_period_without_ratings_shows_the_empty_state(demo_sources: Sources) -> None:
    view = satisfaction.view(demo_sources, "2020-01-01", "2020-01-31", "*")

    assert view.table_hidden is True and view.empty_hidden is False
    assert view.chart.data == ()
    assert "Chưa có đánh giá" in view.chart.layout.annotations[0].text
    assert (view.ratings, view.satisfied_pct) == ("0", "—")
    assert all(r["ratings"] == 0 for r in view.records)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (TODAY - timedelta(days=29), TODAY)),
        ("2026-11-10", "2026-11-01", (TODAY.replace(day=1), TODAY.replace(day=10))),
        ("2026-11-01T00:00:00", "garbage", (TODAY - timedelta(days=29), TODAY)),
    ],
)
def test_parse_period(start: str | None, end: str | None, expected: tuple[Any, Any]) -> None:
    assert satisfaction.parse_period(TODAY, start, end) == expected


def test_two_dashboards_in_one_process_each_read_their_own_database(
    engine: Engine, demo_engine: Engine
) -> None:
    """Dash's page registry is process-wide; the sources must still be per app."""
    full, empty = make_app(demo_engine), make_app(engine)
    inputs = {
        (satisfaction.PERIOD, "start_date"): None,
        (satisfaction.PERIOD, "end_date"): None,
        (satisfaction.UNIT, "value"): "*",
    }
    full_client, empty_client = full.server.test_client(), empty.server.test_client()
    full_client.get("/")
    empty_client.get("/")

    assert len(call(full_client, satisfaction.TABLE, inputs)[satisfaction.TABLE]["data"]) == 6
    assert call(empty_client, satisfaction.TABLE, inputs)[satisfaction.TABLE]["data"] == []
    with empty.server.test_request_context("/"):
        assert len(satisfaction.layout()[satisfaction.UNIT].options) == 1


# --- the devices page -----------------------------------------------------------------------


def test_devices_view_lists_every_device(demo_sources: Sources) -> None:
    view = devices.view(demo_sources)

    by_id = {r["id"]: r for r in view.records}
    assert set(by_id) == {"HL-01", "HL-02", "HL-03", "HL-04", "HL-05", "HL-06", "HL-99"}
    assert by_id["HL-05"]["state"] == "Mất kết nối (offline)" and by_id["HL-05"]["outbox"] == 37
    assert by_id["HL-99"]["state"] == "Đã thu hồi (revoked)"
    assert view.table_hidden is False and view.empty_hidden is True


def test_devices_view_without_devices_shows_the_empty_state(engine: Engine) -> None:
    view = devices.view(Sources(factory(engine)))

    assert view.records == [] and view.table_hidden is True and view.empty_hidden is False
