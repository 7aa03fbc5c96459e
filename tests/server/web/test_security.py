"""The hardened web side over a real uvicorn server on a loopback port: cross-site refusal of
cookie-authenticated writes, the security headers of every page, and logout ending the token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.browser import serve
from system.web import create_app as with_dashboard
from tests.server.web.test_api import api_app, seed

EVIL = "http://evil.example"


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    with serve(api_app(tmp_path)) as url:
        yield url


def bearer(base: str, user: str = "admin") -> dict[str, str]:
    form = {"username": user, "password": f"{user}-password"}
    r = httpx.post(f"{base}/api/v1/auth/token", data=form)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def browser_login(base: str, user: str = "admin") -> httpx.Client:
    """A client holding the login cookie, as the login form sets it."""
    client = httpx.Client(base_url=base)
    form = {"username": user, "password": f"{user}-password", "next": "/dashboard/"}
    r = client.post("/login", data=form, headers={"Origin": base})
    assert r.status_code == 303, r.text
    assert "hailong_token" in client.cookies
    return client


def device_revoked(base: str, auth: dict[str, str], device_id: str) -> bool:
    devices = httpx.get(f"{base}/api/v1/devices", headers=auth).json()
    return next(d for d in devices if d["id"] == device_id)["revoked_at"] is not None


@pytest.fixture
def two_devices(base: str) -> dict[str, str]:
    auth = bearer(base)
    with httpx.Client(base_url=base) as client:
        seed(client, auth)  # type: ignore[arg-type]
        for number in (1, 2, 3):  # one active device per counter
            counter = {"id": f"DH-Q{number}", "name": f"Quầy {number}", "unit_id": "DH"}
            if number > 1:
                made = client.post("/api/v1/counters", json=counter, headers=auth)
                assert made.status_code == 201
            body = {"id": f"dev-{number}", "counter_id": counter["id"]}
            assert client.post("/api/v1/devices", json=body, headers=auth).status_code == 201
    return auth


def test_a_cross_site_cookie_write_is_refused_and_changes_nothing(
    base: str, two_devices: dict[str, str]
) -> None:
    browser = browser_login(base)

    r = browser.post("/api/v1/devices/dev-1/revoke", headers={"Origin": EVIL})
    assert r.status_code == 403
    assert "cross-site" in r.json()["detail"] and EVIL in r.json()["detail"]
    r = browser.post("/api/v1/devices/dev-1/revoke", headers={"Referer": f"{EVIL}/page"})
    assert r.status_code == 403 and "Referer" in r.json()["detail"]
    r = browser.post("/api/v1/devices/dev-1/revoke")  # neither header
    assert r.status_code == 403 and "Origin or Referer" in r.json()["detail"]
    r = browser.post("/api/v1/devices/dev-1/revoke", headers={"Origin": "null"})
    assert r.status_code == 403
    # another port of the same host is another origin
    other_port = base.rsplit(":", 1)[0] + ":1"
    assert (
        browser.post("/api/v1/devices/dev-1/revoke", headers={"Origin": other_port}).status_code
        == 403
    )
    assert not device_revoked(base, two_devices, "dev-1")

    same = browser.post("/api/v1/devices/dev-1/revoke", headers={"Origin": base})
    assert same.status_code == 200, same.text
    assert device_revoked(base, two_devices, "dev-1")
    by_referer = browser.post("/api/v1/devices/dev-2/revoke", headers={"Referer": f"{base}/x"})
    assert by_referer.status_code == 200, by_referer.text
    # a bearer token is no ambient credential: no Origin needed
    r = httpx.post(f"{base}/api/v1/devices/dev-3/revoke", headers=two_devices)
    assert r.status_code == 200, r.text
    assert device_revoked(base, two_devices, "dev-3")


def test_the_login_form_refuses_a_cross_site_post(base: str) -> None:
    form = {"username": "admin", "password": "admin-password"}
    r = httpx.post(f"{base}/login", data=form, headers={"Origin": EVIL})
    assert r.status_code == 403 and "cross-site" in r.json()["detail"]
    assert "hailong_token" not in r.cookies
    r = httpx.post(f"{base}/login", data=form, headers={"Origin": base})
    assert r.status_code == 303 and "hailong_token" in r.cookies


def test_reads_and_the_token_api_need_no_origin(base: str) -> None:
    browser = browser_login(base)
    assert browser.get("/api/v1/units", headers={"Origin": EVIL}).status_code == 200
    bearer(base)  # POST /api/v1/auth/token without a cookie


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_hardened(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("; ")[1]


def test_every_page_carries_the_security_headers(tmp_path: Path) -> None:
    settings_app = api_app(tmp_path)
    app = with_dashboard(settings_app.state.settings, ingest=False)
    with serve(app) as url:
        browser = browser_login(url)
        for response in [
            httpx.get(f"{url}/login"),
            httpx.get(f"{url}/healthz"),
            httpx.get(f"{url}/api/v1/units"),  # 401
            browser.get("/api/v1/units"),
            browser.get("/dashboard/"),
            httpx.get(f"{url}/dashboard/"),  # to the login form
            browser.post("/api/v1/devices/x/revoke", headers={"Origin": EVIL}),  # 403
        ]:
            assert_hardened(response)
        page = browser.get("/dashboard/")
        assert page.status_code == 200 and "_dash-renderer" in page.text
        # the renderer's start-up script is the one inline script allowed, by its hash
        assert "'sha256-" in page.headers["content-security-policy"]
        docs = httpx.get(f"{url}/docs")
        assert docs.headers["x-frame-options"] == "DENY"
        assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_a_token_taken_before_logout_is_refused_after_it(base: str) -> None:
    browser = browser_login(base)
    cookie_token = browser.cookies["hailong_token"]
    api_auth = bearer(base)
    assert browser.get("/api/v1/units").status_code == 200

    # a GET (a link or an <img> on any site) only offers the button: the login stays
    offered = browser.get("/logout")
    assert offered.status_code == 200 and 'method="post"' in offered.text
    assert browser.get("/api/v1/units").status_code == 200
    r = browser.post("/logout", headers={"Origin": base})
    assert r.status_code == 303
    # the token copied before logging out, sent as the cookie and as a bearer token
    copied = httpx.get(f"{base}/api/v1/units", cookies={"hailong_token": cookie_token})
    assert copied.status_code == 401 and "logged out" in copied.json()["detail"]
    r = httpx.get(f"{base}/api/v1/units", headers={"Authorization": f"Bearer {cookie_token}"})
    assert r.status_code == 401
    # another login of the same user is not affected, until it logs out itself
    assert httpx.get(f"{base}/api/v1/units", headers=api_auth).status_code == 200
    out = httpx.post(f"{base}/api/v1/auth/logout", headers=api_auth)
    assert out.status_code == 204
    r = httpx.get(f"{base}/api/v1/units", headers=api_auth)
    assert r.status_code == 401 and "logged out" in r.json()["detail"]
    api_cookie = {"hailong_token": api_auth["Authorization"].removeprefix("Bearer ")}
    assert httpx.get(f"{base}/api/v1/units", cookies=api_cookie).status_code == 401


def test_the_dashboard_refuses_a_logged_out_cookie(tmp_path: Path) -> None:
    app = with_dashboard(api_app(tmp_path).state.settings, ingest=False)
    with serve(app) as url:
        browser = browser_login(url)
        token = browser.cookies["hailong_token"]
        assert browser.get("/dashboard/").status_code == 200
        browser.post("/logout", headers={"Origin": url})
        r = httpx.get(f"{url}/dashboard/", cookies={"hailong_token": token})
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
