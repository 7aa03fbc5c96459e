"""The dashboard in Debian's Chromium, mounted under /dashboard exactly as the server mounts it,
and inside the real server behind its login.

Every wait is for a condition on the page, with the generous timeouts of devtools.browser, so a
loaded machine makes the tests slower, never red.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.engine import Engine

from dashboard import alerts_panel, queries, review_grid, review_period, tables
from dashboard.app import create_dash
from dashboard.pages import devices, satisfaction
from devtools.browser import (
    WAIT_MS,
    chromium,
    console_errors,
    mounted,
    serve,
    wait_for_satisfaction_page,
)
from devtools.dashboard_demo import OFFICERS, UNITS
from devtools.dashboard_screenshot import take as take_screenshot
from server.reporting.reports import default_policy
from server.storage.db import session_scope
from tests.dashboard.conftest import DH_ALERT, seed_alerts
from tests.dashboard.rows import HR, TODAY, factory
from tests.server.report_data import report_app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo_url(demo_engine: Engine) -> Iterator[str]:
    app = create_dash(factory(demo_engine), today=lambda: TODAY)
    with serve(mounted(app, HR)) as base:
        yield f"{base}/dashboard/"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def expected_order(engine: Engine) -> list[str]:
    """The officers of the month the page opens on (October: TODAY is 20 November) in rank
    order, as the report ranks them."""
    period = review_period.last_complete_month(TODAY)
    with session_scope(engine) as session:
        content = queries.report(
            session, HR, "officer", period, None, default_policy(), today=TODAY
        )
    return [row["name"] for row in review_grid.rank_order(tables.report_rows(content))]


def cells(page: Page, column: str) -> Locator:
    """The grid's cells of one column, in the rows' order."""
    return page.locator(f"#{satisfaction.TABLE} .ag-cell[col-id='{column}']")


def test_satisfaction_page_shows_officers_and_chart_without_console_errors(
    page: Page, demo_url: str, demo_engine: Engine
) -> None:
    errors = console_errors(page)

    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)

    expect(cells(page, "name")).to_have_text(expected_order(demo_engine), timeout=WAIT_MS)
    expect(cells(page, "rank").first).to_have_text("1")
    expect(cells(page, "satisfied_pct").first).to_have_text(re.compile(r"^\d+,\d\d %$"))
    expect(cells(page, "certain").first).to_have_text(re.compile(r"^\d+,\d\d – \d+,\d\d %$"))
    # the channels the ratings came by, counted: "Nút 120 · Phím 8"
    expect(cells(page, "channels").first).to_have_text(re.compile(r"^(Nút|Cảm ứng|Phím) \d"))
    expect(page.locator(f"#{satisfaction.KPI_CONFIDENCE}")).to_contain_text(
        "chắc chắn trong khoảng"
    )
    expect(page.locator(f"#{satisfaction.CHART} .legendtext").first).to_contain_text("Số đánh giá")
    expect(page.locator(f"#{satisfaction.REASONS} .barlayer .trace")).to_have_count(1)
    expect(page.locator(f"#{satisfaction.KPI_SATISFIED}")).to_contain_text("%")
    expect(page.locator(f"#{satisfaction.CAPTION}")).to_contain_text("chính sách 2026-12-vi-du-3")
    expect(page.locator(".header")).to_contain_text("Hài Lòng")
    expect(page.locator(".nav-link.active")).to_contain_text("Mức độ hài lòng")
    assert page.title() == satisfaction.PAGE["title"]
    assert errors == [], "\n".join(errors)


def test_choosing_a_unit_narrows_the_table(page: Page, demo_url: str) -> None:
    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)

    page.locator(f"#{satisfaction.UNIT}").click()
    page.get_by_role("option", name=UNITS["BN-MOTCUA"]).click()

    expect(cells(page, "name")).to_have_count(3, timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.TABLE}")).not_to_contain_text(OFFICERS[0].name)
    expect(page.locator(f"#{satisfaction.TABLE}")).to_contain_text(UNITS["BN-MOTCUA"])


def test_a_header_sorts_by_the_number_behind_the_text(
    page: Page, demo_url: str, demo_engine: Engine
) -> None:
    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)
    ranks = cells(page, "rank")
    expect(ranks).to_have_text(["1", "2", "3", "4", "5", "6"], timeout=WAIT_MS)

    header = page.locator(
        f"#{satisfaction.TABLE} .ag-header-cell[col-id='rank'] .ag-header-cell-label"
    )
    header.click()  # ascending: as it was
    header.click()  # descending

    expect(ranks).to_have_text(["6", "5", "4", "3", "2", "1"], timeout=WAIT_MS)
    expect(cells(page, "name")).to_have_text(expected_order(demo_engine)[::-1])


def test_the_period_is_chosen_by_kind_or_typed(page: Page, demo_url: str) -> None:
    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)
    box = page.locator(f"#{satisfaction.PERIOD}")
    caption = page.locator(f"#{satisfaction.CAPTION}")

    expect(box).to_have_value("2026-10")
    expect(caption).to_contain_text("Tháng 10/2026 (01/10/2026–31/10/2026) · so với tháng 9/2026")

    page.get_by_label("Quý · Quarter").check()
    expect(box).to_have_value("2026-Q4", timeout=WAIT_MS)
    expect(caption).to_contain_text("Quý 4/2026", timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.NOTICE}")).to_contain_text("Quý 4/2026 chưa kết thúc")

    box.fill("2026-09")
    box.press("Enter")
    expect(caption).to_contain_text("Tháng 9/2026", timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.PERIOD_KIND} input[value='month']")).to_be_checked()
    expect(page.locator(f"#{satisfaction.NOTICE}")).to_be_hidden()

    box.fill("last week")
    box.press("Enter")
    expect(page.locator(f"#{satisfaction.PERIOD_ERROR}")).to_contain_text(
        "Không đọc được khoảng thời gian", timeout=WAIT_MS
    )
    expect(caption).to_contain_text("Tháng 9/2026")


def test_devices_page_through_the_nav(page: Page, demo_url: str) -> None:
    errors = console_errors(page)
    page.goto(demo_url)
    wait_for_satisfaction_page(page, OFFICERS[0].name)

    page.get_by_role("link", name=re.compile(r"^Thiết bị")).click()  # not "Đội thiết bị"

    expect(page).to_have_url(f"{demo_url}devices", timeout=WAIT_MS)
    table = page.locator(f"#{devices.TABLE}")
    expect(table).to_contain_text("HL-05", timeout=WAIT_MS)
    expect(table).to_contain_text("Mất kết nối (offline)")
    expect(page.locator(".nav-link.active")).to_contain_text("Thiết bị")
    assert errors == [], "\n".join(errors)


def test_empty_database_shows_the_empty_state(browser: Browser, engine: Engine) -> None:
    app = create_dash(factory(engine), today=lambda: TODAY)
    page = browser.new_page()
    errors = console_errors(page)
    try:
        with serve(mounted(app, HR)) as base:
            page.goto(f"{base}/dashboard/")
            expect(page.locator(f"#{satisfaction.EMPTY}")).to_be_visible(timeout=WAIT_MS)
            expect(page.locator(f"#{satisfaction.EMPTY}")).to_contain_text(
                "Chưa có đánh giá trong khoảng thời gian này"
            )
            expect(page.locator(f"#{satisfaction.TABLE_BOX}")).to_be_hidden()
    finally:
        page.close()
    assert errors == [], "\n".join(errors)


def test_screenshot_script_writes_a_png(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "docs" / "dashboard.png"

    take_screenshot(browser, out)

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole server (API, login, the dashboard behind its guard) over the hand-computed
    October of tests/server/report_data.py, with an alert in each unit."""
    app = report_app(tmp_path_factory.mktemp("server"), dashboard=True)
    seed_alerts(app.state.engine)
    with serve(app) as base:
        yield base


def test_a_unit_head_logs_in_and_sees_only_their_unit_and_its_alerts(
    page: Page, server_url: str
) -> None:
    errors = console_errors(page)
    page.goto(f"{server_url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
    page.fill("#username", "head-dh")
    page.fill("#password", "head-dh-password")
    page.click("button[type=submit]")
    expect(page.locator(".user")).to_contain_text("head-dh", timeout=WAIT_MS)

    page.goto(f"{server_url}/dashboard/?period=2026-10")
    wait_for_satisfaction_page(page, "Nguyễn Thị An")

    table = page.locator(f"#{satisfaction.TABLE}")
    expect(cells(page, "name")).to_have_text(
        ["Nguyễn Thị An", "Trần Văn Bình"]  # CB-B's 29 ratings are not ranked: after CB-A
    )
    expect(table).to_contain_text("74,38 – 96,54 %")
    expect(table).to_contain_text("chưa đủ dữ liệu")
    expect(page.locator(f"#{satisfaction.UNIT}")).to_contain_text("Phường Diên Hồng")
    expect(page.locator(f"#{alerts_panel.TABLE}")).to_contain_text(DH_ALERT, timeout=WAIT_MS)
    expect(page.locator("body")).not_to_contain_text("Xã An")  # not its unit, officers, alert
    expect(page.locator("body")).not_to_contain_text("Lê Thị Cúc")
    expect(page.locator(f"#{satisfaction.PERIOD_KIND} input[value='month']")).to_be_checked()

    # the rule behind the suggested class is printed beside it, not left to a hover
    expect(cells(page, "suggestion").first).to_have_text(
        re.compile(r"^Hoàn thành tốt nhiệm vụ\s+Căn cứ: Tỷ lệ hài lòng từ 78 % trở lên")
    )
    # the links are the API's, which takes the same login cookie
    csv_href = page.locator(f"#{satisfaction.EXPORT_CSV}").get_attribute("href")
    csv = page.request.get(f"{server_url}{csv_href}")
    assert csv.ok and "Nguyễn Thị An" in csv.text() and "Lê Thị Cúc" not in csv.text()
    monthly = page.locator(f"#{satisfaction.MONTHLY}")
    expect(monthly).to_be_visible()
    printed = page.request.get(f"{server_url}{monthly.get_attribute('href')}")
    assert printed.ok and "Phường Diên Hồng" in printed.text()
    pdf = page.locator(f"#{satisfaction.PDF}")
    expect(pdf).to_be_visible()
    assert pdf.get_attribute("href") == f"{monthly.get_attribute('href')}&format=pdf"
    assert errors == [], "\n".join(errors)
