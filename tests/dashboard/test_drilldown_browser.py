"""The drill-down pages in Debian's Chromium at a desktop's and a phone's size, mounted as the
server mounts them: HR opens an officer's month and sees its heatmap, an officer opening another
officer's page is refused, and nothing scrolls sideways on a 390 px screen.

Every wait is for a condition on the page (devtools.browser's generous timeouts), never a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy.engine import Engine

from dashboard import compare_view, drilldown_view
from dashboard.app import create_dash
from devtools.browser import WAIT_MS, chromium, console_errors, mounted, serve
from devtools.dashboard_demo import OFFICERS
from devtools.drilldown_screenshot import wait_for_drilldown
from server.access.roles import Access
from tests.dashboard.rows import HR, TODAY, factory

SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
ME, OTHER = OFFICERS[0], OFFICERS[1]
AS_OFFICER = Access("officer", "canbo", unit_id=ME.unit_id, officer_id=ME.id)
PERIOD = f"{TODAY:%Y-%m}"  # the demo's month so far: its last 30 days end on TODAY


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def urls(demo_engine: Engine) -> Iterator[dict[str, str]]:
    """The same dashboard seen by HR and by the first demo officer."""
    app = create_dash(factory(demo_engine), today=lambda: TODAY)
    with serve(mounted(app, HR)) as hr, serve(mounted(app, AS_OFFICER)) as officer:
        yield {"hr": f"{hr}/dashboard", "officer": f"{officer}/dashboard"}


@pytest.fixture(params=list(SIZES))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES[request.param])
    opened = context.new_page()
    yield opened
    context.close()


def _sideways(page: Page) -> int:
    """How far the page could scroll sideways, in CSS pixels (0: not at all)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_hr_opens_an_officers_month_and_sees_the_heatmap(page: Page, urls: dict[str, str]) -> None:
    errors = console_errors(page)

    page.goto(f"{urls['hr']}/officer/{OTHER.id}?period={PERIOD}")
    wait_for_drilldown(page)

    expect(page.locator(".page-title")).to_contain_text(OTHER.name, timeout=WAIT_MS)
    types = page.evaluate(
        f"""Array.from(document.querySelectorAll('#{drilldown_view.HEATMAP} .js-plotly-plot'))
            .flatMap(plot => plot.data.map(trace => trace.type))"""
    )
    assert types == ["heatmap"]
    cells = page.evaluate(
        f"document.querySelector('#{drilldown_view.HEATMAP} .js-plotly-plot').data[0].z.flat()"
    )
    assert sum(cells) > 0
    assert _sideways(page) == 0
    assert errors == []


def test_an_officer_opening_another_officers_page_is_refused(
    page: Page, urls: dict[str, str]
) -> None:
    page.goto(f"{urls['officer']}/officer/{OTHER.id}?period={PERIOD}")

    expect(page.locator(".dd-refused")).to_contain_text(
        "Bạn không có quyền xem trang này.", timeout=WAIT_MS
    )
    expect(page.locator(".js-plotly-plot")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(OTHER.name)
    assert _sideways(page) == 0


def test_an_officer_sees_their_own_page(page: Page, urls: dict[str, str]) -> None:
    page.goto(f"{urls['officer']}/officer/{ME.id}?period={PERIOD}")
    wait_for_drilldown(page)

    expect(page.locator(".page-title")).to_contain_text(ME.name)
    assert _sideways(page) == 0


def test_a_unit_lists_its_officers_and_units_side_by_side_fit(
    page: Page, urls: dict[str, str]
) -> None:
    page.goto(f"{urls['hr']}/unit/{ME.unit_id}?period={PERIOD}")
    wait_for_drilldown(page)
    expect(page.locator(f"#{drilldown_view.OFFICERS}")).to_contain_text(ME.name, timeout=WAIT_MS)
    assert _sideways(page) == 0

    page.locator(f"#{drilldown_view.OFFICERS} a", has_text=ME.name).click()
    expect(page).to_have_url(re.compile(rf"/dashboard/officer/{ME.id}\?period={PERIOD}$"))
    wait_for_drilldown(page)
    expect(page.locator(".page-title")).to_contain_text(ME.name)

    page.goto(f"{urls['hr']}/compare?period={PERIOD}")
    expect(page.locator(f"#{compare_view.TREND} .scatterlayer .trace")).to_have_count(
        2, timeout=WAIT_MS
    )
    assert _sideways(page) == 0
