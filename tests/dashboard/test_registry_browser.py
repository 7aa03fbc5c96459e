"""The registry screens in Debian's Chromium, inside the real server behind its login: an admin
opens each screen from the header and adds an officer through the page; a unit head sees their
unit only and no form; the layout does not scroll sideways on a phone. And the screenshot tool
photographs every screen.

The browser and the server are test_browser.py's fixtures (imported, not copied).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from dashboard import device_admin
from dashboard.pages import devices, officers, units
from devtools.browser import WAIT_MS, console_errors, wider_than_window
from devtools.registry_screenshots import SCREENS
from devtools.registry_screenshots import take as take_screenshots
from tests.dashboard.test_browser import browser, server_url

__all__ = ["browser", "server_url"]  # the fixtures this module uses


def log_in(browser: Browser, server_url: str, user: str, width: int, height: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server_url}/login")
    page.fill("#username", user)
    page.fill("#password", f"{user}-password")
    page.click("button[type=submit]")
    expect(page.locator(".user")).to_contain_text(user, timeout=WAIT_MS)
    return page


def open_menu(page: Page) -> None:
    """Open the "Quản lý" drop-down, once the last page change has closed it."""
    expect(page.locator(".nav-menu")).to_be_hidden(timeout=WAIT_MS)
    page.locator(".nav-toggle").click()


def open_from_menu(page: Page, name: str) -> None:
    open_menu(page)
    page.locator(".nav-menu").get_by_role("link", name=name).click()


def test_an_admin_opens_each_screen_and_adds_an_officer(browser: Browser, server_url: str) -> None:
    page = log_in(browser, server_url, "admin", 1440, 900)
    errors = console_errors(page)
    try:
        page.goto(f"{server_url}/dashboard/units")
        expect(page.locator(f"#{units.SCREEN.id('table')}")).to_contain_text(
            "Phường Diên Hồng", timeout=WAIT_MS
        )
        for name, key, shown in (
            ("Lĩnh vực", "fields", "Đất đai"),
            ("Quầy", "counters", "DH-Q1"),
            ("Người dùng", "users", "head-dh"),
            ("Cán bộ", "officers", "Lê Thị Cúc"),
        ):
            open_from_menu(page, name)
            expect(page.locator(f"#{key}-table")).to_contain_text(shown, timeout=WAIT_MS)
            expect(page.locator(".nav-link.active")).to_contain_text(name)

        page.fill(f"#{officers.SCREEN.id('in-id')}", "CB-NEW")
        page.fill(f"#{officers.SCREEN.id('in-name')}", "Phạm Văn Dũng")
        page.fill(f"#{officers.SCREEN.id('in-title')}", "Chuyên viên")
        page.locator(f"#{officers.SCREEN.id('in-unit_id')}").click()
        page.get_by_role("option", name=re.compile(r"Phường Diên Hồng")).click()
        page.click(f"#{officers.SCREEN.id('save')}")

        expect(page.locator(f"#{officers.SCREEN.id('message')}")).to_have_text(
            "Đã thêm cán bộ CB-NEW · Officer CB-NEW added", timeout=WAIT_MS
        )
        table = page.locator(f"#{officers.SCREEN.id('table')}")
        expect(table).to_contain_text("Phạm Văn Dũng", timeout=WAIT_MS)
        page.fill(f"#{officers.SCREEN.id('search')}", "dung")
        expect(table.locator(".ag-row .ag-cell[col-id='id']")).to_have_text(["CB-NEW"])

        page.get_by_role("link", name=re.compile(r"^Thiết bị")).click()
        expect(page.locator(f"#{devices.TABLE}")).to_contain_text("dev-q1", timeout=WAIT_MS)
        expect(page.locator(f"#{device_admin.ADD}")).to_be_enabled()
        page.set_viewport_size({"width": 390, "height": 844})
        assert wider_than_window(page) == []
        assert errors == [], "\n".join(errors)
    finally:
        page.close()


def test_a_unit_head_reads_their_unit_without_forms_even_on_a_phone(
    browser: Browser, server_url: str
) -> None:
    page = log_in(browser, server_url, "head-dh", 390, 844)
    errors = console_errors(page)
    try:
        page.goto(f"{server_url}/dashboard/officers")
        table = page.locator(f"#{officers.SCREEN.id('table')}")
        expect(table).to_contain_text("Nguyễn Thị An", timeout=WAIT_MS)
        expect(table).not_to_contain_text("Lê Thị Cúc")  # Xã An's
        expect(page.locator("button.primary")).to_have_count(0)
        open_menu(page)
        menu = page.locator(".nav-menu")
        expect(menu.get_by_role("link", name="Đơn vị")).to_be_visible()
        expect(menu.get_by_role("link", name="Người dùng")).to_be_hidden()
        assert wider_than_window(page) == []
        assert errors == [], "\n".join(errors)
    finally:
        page.close()


def test_the_screenshot_tool_photographs_every_screen(browser: Browser, tmp_path: Path) -> None:
    made = take_screenshots(browser, tmp_path)

    assert [p.name for p in made] == [f"registry-{s}.png" for s in SCREENS]
    for path in made:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
