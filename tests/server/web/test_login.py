"""The browser's login form: Vietnamese first, English below; a link opened without a login
comes back, page and filters, once logged in; and never to another site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from server.access.auth import FREE_FAILURES_PER_USER
from server.web.api import deps
from server.web.login import _safe_next, asked_for
from tests.server.report_data import report_app

DEEP = "/dashboard/?period=2026-10&scope=counter&unit=DH"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(report_app(tmp_path, dashboard=True)) as test_client:
        yield test_client


def log_in(client: TestClient, password: str, next_: str = "/dashboard/") -> object:
    form = {"username": "hr", "password": password, "next": next_}
    return client.post("/login", data=form, headers=ORIGIN, follow_redirects=False)


def test_a_deep_link_reopens_with_its_filters_after_logging_in(client: TestClient) -> None:
    r = client.get(DEEP, follow_redirects=False)

    assert r.status_code == 303
    location = urlsplit(r.headers["location"])
    assert location.path == "/login"
    (kept,) = parse_qs(location.query)["next"]
    assert kept == DEEP
    form = client.get(r.headers["location"]).text
    assert 'value="/dashboard/?period=2026-10&amp;scope=counter&amp;unit=DH"' in form

    done = log_in(client, "hr-password", kept)

    assert done.status_code == 303 and done.headers["location"] == DEEP  # type: ignore[attr-defined]


def test_a_login_that_no_longer_holds_is_said_on_the_form(client: TestClient) -> None:
    assert "Phiên đăng nhập" not in client.get(DEEP).text, "no cookie: nothing to say"
    client.cookies.set("hailong_token", "not-a-token")

    r = client.get(DEEP, follow_redirects=False)

    assert r.status_code == 303 and "ended=1" in r.headers["location"]
    form = client.get(r.headers["location"]).text
    assert form.index("Phiên đăng nhập đã hết hạn") < form.index("Your login has ended")
    assert 'value="/dashboard/?period=2026-10&amp;scope=counter&amp;unit=DH"' in form


def test_a_wrong_password_is_said_in_vietnamese_then_english(client: TestClient) -> None:
    r = log_in(client, "not-the-password")

    text = r.text  # type: ignore[attr-defined]
    assert r.status_code == 401  # type: ignore[attr-defined]
    assert text.index("Sai tên đăng nhập hoặc mật khẩu") < text.index("Wrong username or password")


def test_too_many_attempts_say_how_long_to_wait_in_vietnamese(client: TestClient) -> None:
    moment = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    client.app.dependency_overrides[deps.now] = lambda: moment  # type: ignore[attr-defined]
    for _ in range(FREE_FAILURES_PER_USER + 1):
        assert log_in(client, "not-the-password").status_code == 401  # type: ignore[attr-defined]

    r = log_in(client, "not-the-password")

    text = r.text  # type: ignore[attr-defined]
    assert r.status_code == 429, text  # type: ignore[attr-defined]
    assert "Đăng nhập sai quá nhiều lần với tài khoản này. Vui lòng thử lại sau" in text
    assert text.index("Vui lòng thử lại sau") < text.index("Too many failed logins")


def test_the_form_reads_vietnamese_first(client: TestClient) -> None:
    page = client.get("/login").text
    assert page.index("Tên đăng nhập") < page.index("Username")
    assert page.index("Mật khẩu") < page.index("Password")


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example", "https://evil.example/", "evil", "/a\r\nb"]
)
def test_next_never_leaves_the_site(target: str) -> None:
    assert _safe_next(target) == "/dashboard/"


def test_the_page_asked_for_is_the_full_path_and_query_of_a_get() -> None:
    scope = {"method": "GET", "raw_path": b"/dashboard/fleet", "query_string": b"unit=DH"}
    assert asked_for(scope, "/dashboard/") == "/dashboard/fleet?unit=DH"
    mounted = {"method": "GET", "root_path": "/dashboard", "path": "/rota", "query_string": b""}
    assert asked_for(mounted, "/dashboard/") == "/dashboard/rota"
    callback = {"method": "POST", "raw_path": b"/dashboard/_dash-update-component"}
    assert asked_for(callback, "/dashboard/") == "/dashboard/"
