"""Every page, for every kind of user, on a desktop and on a phone, in Debian's Chromium inside
the real server behind its login: no page scrolls sideways (document.scrollingElement no wider
than the window; wide tables scroll inside their own box), the header names the person and their
role with "Đăng xuất" on the header's blue and in reach, logging out works, and a link opened
without a login reopens, filters and all, once logged in.

The pages come from Dash's page registry and each role's allowance (dashboard.app.shown_paths),
so a page added later is checked without touching this file; a page with a path template
(/officer/<officer_id>) is opened for the officer and unit the user may see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from dashboard import captions
from dashboard.app import shown_paths
from devtools.browser import WAIT_MS, console_errors, serve, settled, wider_than_window
from devtools.phone_screenshots import FILES, take
from server.storage.models import User
from tests.dashboard.test_browser import browser
from tests.server.report_data import USERS, report_app

__all__ = ["browser"]  # test_browser.py's fixture, which this module uses

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
# The logins of tests/server/report_data.py, one per kind of user; admin too, the only one who
# opens the users and import pages. Two have a full name, two show their login id.
NAMES = {"hr": "Trần Thị Hồng Nhung", "head-dh": "Lê Văn Hải", "officer-a": "", "viewer": ""}
LOGINS = ("hr", "head-dh", "officer-a", "viewer", "admin")
# What fills a page's path template, for a login that may see it: report_data's DH and CB-A.
TEMPLATE_VALUES = {"officer_id": "CB-A", "unit_id": "DH"}
DEEP = "/dashboard/?period=2026-10&scope=counter&unit=DH"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = report_app(tmp_path_factory.mktemp("phone"), dashboard=True)
    with Session(app.state.engine) as session:
        for user in session.exec(select(User)).all():
            user.full_name = NAMES.get(user.username) or None
            session.add(user)
        session.commit()
    with serve(app) as base:
        yield base


def log_in(page: Page, site: str, user: str) -> None:
    page.fill("#username", user)
    page.fill("#password", f"{user}-password")
    page.click("button[type=submit]")
    expect(page.locator(".user")).to_contain_text(NAMES.get(user) or user, timeout=WAIT_MS)


def page_paths(role: str) -> list[str]:
    """The dashboard paths `role` may open, as the browser asks for them."""
    shown = shown_paths(role)
    paths = []
    for page in dash.page_registry.values():
        if page["path"] not in shown:
            continue
        template: str | None = page.get("path_template")
        path = template or page["path"]
        for name in re.findall(r"<(\w+)>", path):
            if name not in TEMPLATE_VALUES:
                pytest.fail(f"{template}: give <{name}> a value in TEMPLATE_VALUES")
            path = path.replace(f"<{name}>", TEMPLATE_VALUES[name])
        paths.append(f"/dashboard{path}")
    return paths


def header_problems(page: Page) -> list[str]:
    """Is "Đăng xuất" inside the header and the window, white on the header's blue?"""
    found: list[str] = page.evaluate(
        """() => {
        const button = document.querySelector(".logout").getBoundingClientRect();
        const header = document.querySelector(".header").getBoundingClientRect();
        const problems = [];
        if (button.right > window.innerWidth || button.left < 0) problems.push("off screen");
        if (button.bottom > header.bottom || button.right > header.right)
            problems.push("outside the header");
        const style = getComputedStyle(document.querySelector(".header"));
        if (style.backgroundColor === "rgba(0, 0, 0, 0)") problems.push("header has no colour");
        return problems;
    }"""
    )
    return found


# Every login on the phone; on the desktop the admin, who opens every page (the desktop is where
# nothing wraps, so one walk through all pages finds a page too wide; the suite's time is kept).
CASES = [(user, "phone") for user in LOGINS] + [("admin", "desktop")]


@pytest.mark.parametrize(("user", "size"), CASES)
def test_no_page_scrolls_sideways_and_logging_out_works(
    browser: Browser, site: str, user: str, size: str
) -> None:
    width, height = SIZES[size]
    role = USERS[user][0]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = console_errors(page)
    try:
        page.goto(f"{site}/login")
        log_in(page, site, user)
        header = page.locator(".user")
        expect(header).to_contain_text(captions.ROLE_LABELS[role][0])
        paths = page_paths(role)
        assert "/dashboard/" in paths
        wide: dict[str, Any] = {}
        for path in paths:
            page.goto(f"{site}{path}")
            settled(page)
            if found := wider_than_window(page):
                wide[path] = found
            assert header_problems(page) == [], path
        assert wide == {}, f"{user} at {width} px: pages wider than the window"

        page.locator(".logout").click()
        expect(page).to_have_url(f"{site}/login", timeout=WAIT_MS)
        page.goto(f"{site}/dashboard/")
        expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
        expect(page.locator("#username")).to_be_visible()
        assert errors == [], "\n".join(errors)
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (no cookie) the size of a phone."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_a_link_keeps_its_page_and_filters_through_the_login(phone: Page, site: str) -> None:
    phone.goto(f"{site}{DEEP}")
    expect(phone).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
    expect(phone.locator("form")).to_contain_text("Đăng nhập")

    log_in(phone, site, "head-dh")

    expect(phone).to_have_url(f"{site}{DEEP}", timeout=WAIT_MS)
    settled(phone)
    assert wider_than_window(phone) == []


def test_a_wrong_password_is_refused_in_vietnamese_on_a_phone(phone: Page, site: str) -> None:
    phone.goto(f"{site}/login")
    phone.fill("#username", "viewer")
    phone.fill("#password", "not-the-password")
    phone.click("button[type=submit]")

    refusal = phone.locator(".err")
    expect(refusal).to_contain_text("Sai tên đăng nhập hoặc mật khẩu", timeout=WAIT_MS)
    expect(refusal).to_contain_text("Wrong username or password")
    assert wider_than_window(phone) == []


def test_the_phone_screenshots_tool_writes_its_pictures(browser: Browser, tmp_path: Path) -> None:
    written = take(browser, tmp_path)

    assert sorted(p.name for p in written) == sorted(FILES.values())
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert path.stat().st_size > 20_000, path
