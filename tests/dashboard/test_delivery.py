"""The dashboard's weight: compressed answers, cache headers that keep library files and never a
user's figures, and the cartesian Plotly bundle instead of the full one, through the real server
behind its login (in Chromium for the first load)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Response
from playwright.sync_api import Browser, expect
from plotly.offline import get_plotlyjs_version
from werkzeug.datastructures import Accept

from dashboard import delivery, vendor
from dashboard.app import URL
from dashboard.components import USER
from devtools.browser import WAIT_MS, chromium, console_errors, serve
from devtools.first_load import FULL_PLOTLY, fresh_context, logged_in, watch
from tests.server.report_data import report_app

BUNDLE = Path(vendor.__file__).with_name(vendor.PLOTLY_BUNDLE)
ASSETS = Path(delivery.__file__).with_name("assets")
FIRST_LOAD_LIMIT = 1_500_000  # bytes, the goal
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return report_app(tmp_path_factory.mktemp("delivery"), dashboard=True)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Origin": "http://testserver"}) as client:
        form = {"username": "hr", "password": "hr-password", "next": "/dashboard/"}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        yield client


@pytest.fixture(scope="module")
def page_scripts(client: TestClient) -> list[str]:
    page = client.get("/dashboard/")
    assert page.status_code == 200
    return re.findall(r'<script src="([^"]+)"', page.text)


def script(scripts: list[str], part: str) -> str:
    found = [src for src in scripts if part in src]
    assert len(found) == 1, (part, scripts)
    return found[0]


def test_the_vendored_plotly_is_the_version_it_says_and_the_installed_plotly_major() -> None:
    head = BUNDLE.read_text(encoding="utf-8")[:200]
    written = re.search(r"plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+)", head)
    assert written, head
    assert written.group(1) == vendor.__version__
    installed = get_plotlyjs_version()
    assert vendor.__version__.split(".")[0] == installed.split(".")[0], (
        f"plotly ships plotly.js {installed} but dashboard/vendor holds {vendor.__version__}: "
        "update it as dashboard/vendor/README.md says"
    )


def test_a_large_script_comes_gzipped_and_kept_for_a_year(
    client: TestClient, page_scripts: list[str]
) -> None:
    src = script(page_scripts, vendor.PLOTLY_BUNDLE.removesuffix(".min.js"))
    assert "/_dash-component-suites/dashboard.vendor/" in src

    with client.stream("GET", src, headers=GZIP) as answer:
        sent = b"".join(answer.iter_raw())

    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert len(sent) < BUNDLE.stat().st_size / 2
    assert gzip.decompress(sent) == BUNDLE.read_bytes()
    assert answer.headers["Cache-Control"] == delivery.IMMUTABLE


def test_a_script_without_gzip_comes_as_it_is(client: TestClient, page_scripts: list[str]) -> None:
    answer = client.get(
        script(page_scripts, "dash_ag_grid"), headers={"Accept-Encoding": "identity"}
    )
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert len(answer.content) > 1_000_000


def test_every_page_script_is_fingerprinted_and_kept(
    client: TestClient, page_scripts: list[str]
) -> None:
    for src in page_scripts:
        answer = client.get(src, headers=GZIP)
        assert answer.status_code == 200, src
        assert answer.headers["Cache-Control"] == delivery.IMMUTABLE, src


def test_a_file_without_fingerprint_is_asked_again(client: TestClient) -> None:
    answer = client.get("/dashboard/_dash-component-suites/dash/dcc/async-graph.js", headers=GZIP)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["Content-Encoding"] == "gzip"
    again = client.get(
        "/dashboard/_dash-component-suites/dash/dcc/async-graph.js",
        headers={"If-None-Match": answer.headers["ETag"]},
    )
    assert again.status_code == 304


def test_an_asset_is_kept_under_its_current_mtime_only(client: TestClient) -> None:
    css = client.get("/dashboard/").text
    href = re.search(r'href="(/dashboard/assets/style\.css\?m=[^"]+)"', css)
    assert href, "the page links no style.css"
    assert client.get(href.group(1)).headers["Cache-Control"] == delivery.IMMUTABLE
    for stale in ("/dashboard/assets/style.css?m=1", "/dashboard/assets/style.css"):
        assert client.get(stale).headers["Cache-Control"] == "no-cache", stale


def test_the_page_and_its_json_are_stored_nowhere(client: TestClient) -> None:
    for path in ("/dashboard/", "/dashboard/_dash-layout", "/dashboard/_dash-dependencies"):
        answer = client.get(path, headers=GZIP)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path
    assert answer.headers["Content-Encoding"] == "gzip"  # the callbacks' list, 20 kB of JSON
    callback = client.post(
        "/dashboard/_dash-update-component",
        json={
            "output": f"{USER}.children",
            "outputs": {"id": USER, "property": "children"},
            "inputs": [{"id": URL, "property": "pathname", "value": "/dashboard/"}],
            "changedPropIds": [f"{URL}.pathname"],
            "state": [],
        },
        headers=GZIP,
    )
    assert callback.status_code == 200, callback.text
    assert USER in callback.json()["response"]  # this user's own header
    assert callback.headers["Cache-Control"] == "no-store"


def test_a_logged_out_request_for_a_script_is_not_kept(
    app: FastAPI, page_scripts: list[str]
) -> None:
    with TestClient(app) as stranger:
        answer = stranger.get(page_scripts[0], follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_api_is_gzipped_but_not_an_xlsx_and_no_report_is_kept(client: TestClient) -> None:
    path = "/api/v1/reports/officers?period=2026-10&format="
    xlsx = client.get(f"{path}xlsx", headers=GZIP)
    assert xlsx.status_code == 200, xlsx.text
    assert "Content-Encoding" not in xlsx.headers
    assert xlsx.content[:2] == b"PK"
    assert xlsx.headers["Cache-Control"] == "no-store"
    report = client.get(f"{path}json", headers=GZIP)
    assert report.status_code == 200
    assert report.headers["Content-Encoding"] == "gzip"
    assert report.headers["Cache-Control"] == "no-store"
    csv = client.get(f"{path}csv", headers=GZIP)
    assert csv.status_code == 200
    assert "Nguyễn Thị An" in csv.text
    assert csv.headers["Cache-Control"] == "no-store"


def test_a_library_file_is_compressed_once_and_the_cache_stays_bounded() -> None:
    once = delivery.CompressedOnce(most=2)
    accepted = Accept([("gzip", 1)])
    sent = []
    for key in ("a.v1m1.js", "b.v1m1.js", "a.v1m1.js", "c.v1m1.js"):
        response = Response(BUNDLE.read_bytes()[:50_000])
        once.apply(key, accepted, response)
        assert response.headers["Content-Encoding"] == "gzip"
        sent.append(response.get_data())
    assert gzip.decompress(sent[0]) == BUNDLE.read_bytes()[:50_000]
    assert sent[0] == sent[2]
    assert list(once.done) == ["a.v1m1.js", "c.v1m1.js"]  # b, the least recently used, went

    plain = Response(b"x" * 5000)
    once.apply("d.v1m1.js", Accept([("identity", 1)]), plain)
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    ("path", "query", "status", "expected"),
    [
        (
            "/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m17.js",
            {},
            200,
            "immutable",
        ),
        ("/_dash-component-suites/dash/dcc/async-graph.js", {}, 200, "no-cache"),
        ("/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m17.js", {}, 404, "no-store"),
        ("/assets/style.css", {"m": "1"}, 200, "no-cache"),
        ("/assets/../app.py", {"m": "1"}, 200, "no-cache"),
        ("/_favicon.ico", {"v": "4"}, 200, "no-cache"),
        ("/", {}, 200, "no-store"),
        ("/officer/CB-A", {"period": "2026-10"}, 200, "no-store"),
        ("/_dash-update-component", {}, 200, "no-store"),
    ],
)
def test_cache_control_by_path(
    path: str, query: dict[str, str], status: int, expected: str
) -> None:
    found = delivery.cache_control(path, query, status, ASSETS)
    assert found == (delivery.IMMUTABLE if expected == "immutable" else expected)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_the_first_load_of_the_review_page_is_light_and_draws(
    app: FastAPI, browser: Browser
) -> None:
    with serve(app) as base:
        login = logged_in(browser, base, "hr", "hr-password")
        context = fresh_context(browser, login, viewport={"width": 1440, "height": 900})
        try:
            page = context.new_page()
            errors = console_errors(page)  # a script the Content-Security-Policy refused, say
            seen = watch(page)
            page.goto(f"{base}/dashboard/?period=2026-10")
            drawn = page.locator(".js-plotly-plot .trace").first
            expect(drawn).to_be_attached(timeout=WAIT_MS)
            page.wait_for_load_state("networkidle")
            drawn_by = page.evaluate("window.Plotly.version")
            traces = page.evaluate("Object.keys(window.Plotly.PlotSchema.get().traces)")
        finally:
            context.close()
    assert drawn_by == vendor.__version__
    assert {"bar", "scatter", "heatmap"} <= set(traces)  # what our figures draw
    assert seen.requested(vendor.PLOTLY_BUNDLE.removesuffix(".min.js"))
    assert seen.requested(FULL_PLOTLY) == []
    assert seen.requested("plotly.min.js") == []
    assert 0 < seen.total <= FIRST_LOAD_LIMIT, seen.largest()
    assert errors == [], "\n".join(errors)
