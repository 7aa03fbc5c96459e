"""The dashboard in Debian's Chromium, mounted under /dashboard exactly as the server mounts it.

Every wait is for a condition on the page, with the generous timeouts of dashboard.browser, so a
loaded machine makes the tests slower, never red.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine

from dashboard import figures
from dashboard.app import create_dash
from dashboard.browser import (
    WAIT_MS,
    console_errors,
    launch_chromium,
    mounted,
    serve,
    wait_for_satisfaction_page,
)
from dashboard.demo import OFFICERS, UNITS
from dashboard.pages import devices, satisfaction
from dashboard.screenshot import take as take_screenshot
from server.db import session_scope
from server.reports import officer_report
from tests.dashboard.rows import TODAY, factory


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo_url(demo_engine: Engine) -> Iterator[str]:
    app = create_dash(factory(demo_engine), today=lambda: TODAY)
    with serve(mounted(app)) as base:
        yield f"{base}/dashboard/"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def expected_order(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        rows = officer_report(session, TODAY - timedelta(days=29), TODAY)
    return [record["name"] for record in figures.officer_records(rows, UNITS)]


def test_satisfaction_page_shows_officers_and_chart_without_console_errors(
    page: Page, demo_url: str, demo_engine: Engine
) -> None:
    errors = console_errors(page)

    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)

    table = page.locator(f"#{satisfaction.TABLE}")
    names = table.locator("td[data-dash-column='name']")
    expect(names).to_have_text(expected_order(demo_engine), timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.CHART} .legendtext").first).to_contain_text("Số đánh giá")
    expect(page.locator(f"#{satisfaction.KPI_SATISFIED}")).to_contain_text("%")
    expect(page.locator(".header")).to_contain_text("Hài Lòng")
    expect(page.locator(".nav-link.active")).to_contain_text("Mức độ hài lòng")
    assert page.title() == satisfaction.PAGE["title"]
    assert errors == []


def test_choosing_a_unit_narrows_the_table(page: Page, demo_url: str) -> None:
    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)

    page.locator(f"#{satisfaction.UNIT}").click()
    page.get_by_role("option", name=UNITS["BN-MOTCUA"]).click()

    names = page.locator(f"#{satisfaction.TABLE} td[data-dash-column='name']")
    expect(names).to_have_count(3, timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.TABLE}")).not_to_contain_text(OFFICERS[0].name)
    expect(page.locator(f"#{satisfaction.TABLE}")).to_contain_text(UNITS["BN-MOTCUA"])


def test_devices_page_through_the_nav(page: Page, demo_url: str) -> None:
    errors = console_errors(page)
    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)

    page.get_by_role("link", name="Thiết bị").click()

    expect(page).to_have_url(f"{demo_url}devices", timeout=WAIT_MS)
    table = page.locator(f"#{devices.TABLE}")
    expect(table).to_contain_text("HL-05", timeout=WAIT_MS)
    expect(table).to_contain_text("Mất kết nối (offline)")
    expect(page.locator(".nav-link.active")).to_contain_text("Thiết bị")
    assert errors == []


def test_empty_database_shows_the_empty_state(browser: Browser, engine: Engine) -> None:
    app = create_dash(factory(engine), today=lambda: TODAY)
    page = browser.new_page()
    errors = console_errors(page)
    try:
        with serve(mounted(app)) as base:
            page.goto(f"{base}/dashboard/")
            expect(page.locator(f"#{satisfaction.EMPTY}")).to_be_visible(timeout=WAIT_MS)
            expect(page.locator(f"#{satisfaction.EMPTY}")).to_contain_text(
                "Chưa có đánh giá trong khoảng thời gian này"
            )
            expect(page.locator(f"#{satisfaction.TABLE_BOX}")).to_be_hidden()
    finally:
        page.close()
    assert errors == []


def test_screenshot_script_writes_a_png(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "docs" / "dashboard.png"

    take_screenshot(browser, out)

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000
