"""The monthly review in Debian's Chromium, on a desktop (1440x900) and a phone (390x844), for the
HR office and a unit head: it opens on the last complete month, the arrows step month by month
and stop at the running one, a month not over says so and ranks nobody, the URL keeps the view,
the page never scrolls sideways, and an officer's row links to the officer's page.

The data is tests/server/report_data.py's October 2026; the dashboard's today is 3 November.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from dashboard.app import create_dash
from dashboard.pages import satisfaction
from devtools.browser import WAIT_MS, console_errors, mounted, serve
from server.access.roles import Access
from tests.dashboard.rows import factory
from tests.dashboard.test_browser import browser
from tests.dashboard.test_registry_browser import wider_than_window

__all__ = ["browser"]  # the fixture this module uses

TODAY = date(2026, 11, 3)
USERS = {
    "hr": Access("hr", "hr"),
    "unit_head": Access("unit_head", "head-dh", unit_id="DH"),
}
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.fixture(scope="module", params=list(USERS))
def review_url(request: pytest.FixtureRequest, report_engine: Engine) -> Iterator[str]:
    app = create_dash(factory(report_engine), today=lambda: TODAY)
    with serve(mounted(app, USERS[request.param])) as base:
        yield f"{base}/dashboard/"


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    yield context.new_page()
    context.close()


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_the_review_opens_on_the_last_complete_month_and_steps_by_month(
    page: Page, review_url: str
) -> None:
    errors = console_errors(page)
    page.goto(review_url)
    grid = page.locator(f"#{satisfaction.TABLE}")
    box = page.locator(f"#{satisfaction.PERIOD}")
    notice = page.locator(f"#{satisfaction.NOTICE}")

    expect(grid).to_contain_text("Nguyễn Thị An", timeout=WAIT_MS)
    expect(box).to_have_value("2026-10")
    expect(notice).to_be_hidden()
    expect(grid).to_contain_text("So với tháng 9/2026")
    expect(grid).to_contain_text("Hoàn thành")  # a suggested class, with its rule beside it
    expect(page.locator(f"#{satisfaction.RULES}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"period=2026-10\b"), timeout=WAIT_MS)
    assert wider_than_window(page) == []

    # a figure's explanation opens on a tap, phone or not
    words = page.locator(".kpi .explain-text").first
    expect(words).to_be_hidden()
    page.locator(".kpi .explained summary").first.click()
    expect(words).to_be_visible()
    expect(words).to_contain_text("Số lượt người dân bấm đánh giá trong kỳ")

    # an officer's name is a link to their page, for the same month
    link = grid.get_by_role("link", name="Nguyễn Thị An")
    assert link.get_attribute("href") == "/dashboard/officer/CB-A?period=2026-10"

    # next: November is running, so it says so, ranks and classes nobody, and stops there
    page.locator(f"#{satisfaction.NEXT}").click()
    expect(box).to_have_value("2026-11", timeout=WAIT_MS)
    expect(notice).to_be_visible(timeout=WAIT_MS)
    expect(notice).to_contain_text("Tháng 11/2026 chưa kết thúc")
    expect(notice).to_contain_text("03/11/2026")
    expect(page.locator(f"#{satisfaction.NEXT}")).to_be_disabled()
    expect(page.locator(f"#{satisfaction.RULES}")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"period=2026-11\b"), timeout=WAIT_MS)
    assert wider_than_window(page) == []

    # previous twice: September, before the data's October, with October's next arrow open
    page.locator(f"#{satisfaction.PREVIOUS}").click()
    expect(box).to_have_value("2026-10", timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.NEXT}")).to_be_enabled()
    page.locator(f"#{satisfaction.PREVIOUS}").click()
    expect(box).to_have_value("2026-09", timeout=WAIT_MS)
    expect(page).to_have_url(re.compile(r"period=2026-09\b"), timeout=WAIT_MS)
    assert errors == [], "\n".join(errors)


def test_a_copied_link_reopens_the_same_view(page: Page, review_url: str) -> None:
    page.goto(f"{review_url}?period=2026-10&scope=counter")
    grid = page.locator(f"#{satisfaction.TABLE}")
    expect(grid).to_contain_text("Quầy", timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.SCOPE} input[value='counter']")).to_be_checked()
    page.locator(f"#{satisfaction.SCOPE} input[value='unit']").check()
    expect(page).to_have_url(re.compile(r"scope=unit\b"), timeout=WAIT_MS)
    copied = page.url
    assert _query(page)["period"] == ["2026-10"]

    page.goto("about:blank")
    page.goto(copied)
    expect(page.locator(f"#{satisfaction.SCOPE} input[value='unit']")).to_be_checked(
        timeout=WAIT_MS
    )
    expect(page.locator(f"#{satisfaction.PERIOD}")).to_have_value("2026-10")
    link = grid.get_by_role("link", name="Phường Diên Hồng")
    expect(link).to_have_attribute("href", "/dashboard/unit/DH?period=2026-10", timeout=WAIT_MS)
    assert wider_than_window(page) == []
