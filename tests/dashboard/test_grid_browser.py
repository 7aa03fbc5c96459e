"""components.grid in Debian's Chromium, served locally as the dashboard is: it draws with the
dashboard's theme (AG Grid's Theming API, no CSS file to fetch), fits its box on a desktop,
scrolls inside its box on a phone while the page does not, sorts, pages, and speaks Vietnamese.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from a2wsgi import WSGIMiddleware
from dash import Dash, html
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.routing import Mount

from dashboard.components import column, count_column, grid
from devtools.browser import WAIT_MS, console_errors, serve, wider_than_window
from tests.dashboard.test_browser import browser

__all__ = ["browser"]  # test_browser.py's fixture, which this module uses

ROWS = [
    {"id": i, "name": f"Nguyễn Thị Ánh Tuyết {i:02d}", "unit": "Phường Đồng Hới", "n": 1000 + i}
    for i in range(30)
]
COLUMNS = [
    column("name", "Họ và tên", "Name"),
    column("unit", "Đơn vị", "Unit"),
    count_column("n", "Số đánh giá", "Ratings"),
    column("note", "Ghi chú", "Note"),
    column("more", "Thêm một cột", "One more column"),
]
GRID = "grid-under-test"


@pytest.fixture(scope="module")
def grid_url() -> Iterator[str]:
    app = Dash(
        __name__,
        serve_locally=True,
        routes_pathname_prefix="/",
        requests_pathname_prefix="/g/",
    )
    table = grid(GRID, COLUMNS, row_id="id", page_size=10, rowData=ROWS)
    app.layout = html.Div(html.Div(table, style={"padding": "12px"}), style={"maxWidth": "1200px"})
    with serve(Starlette(routes=[Mount("/g", app=WSGIMiddleware(app.server))])) as base:
        yield f"{base}/g/"


def open_grid(browser: Browser, grid_url: str, width: int) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": 844})
    errors = console_errors(page)
    page.goto(grid_url)
    expect(page.locator(f"#{GRID} .ag-row")).to_have_count(10, timeout=WAIT_MS)
    return page, errors


def cell(page: Page, row: int, field: str) -> str:
    text: str = page.locator(f"#{GRID} .ag-row[row-index='{row}'] [col-id='{field}']").inner_text()
    return text


SIZES = """() => {
    const box = document.querySelector("#grid-under-test").getBoundingClientRect();
    const body = document.querySelector("#grid-under-test .ag-center-cols-viewport");
    const name = document.querySelector("#grid-under-test .ag-row [col-id='name'] .ag-cell-value");
    return {box: box.width, inner: body.scrollWidth, shown: body.clientWidth,
            cut: name.scrollWidth > name.clientWidth,
            header: getComputedStyle(document.querySelector(".ag-header")).backgroundColor};
}"""


def test_on_a_desktop_it_is_themed_fits_its_box_sorts_and_pages(
    browser: Browser, grid_url: str
) -> None:
    page, errors = open_grid(browser, grid_url, 1440)
    try:
        sizes = page.evaluate(SIZES)
        assert sizes["header"] == "rgb(248, 250, 252)", "the dashboard's header colour: themed"
        assert sizes["inner"] <= sizes["shown"], "the columns fit the box"
        assert cell(page, 0, "n") == "1.000"  # a Vietnamese thousands separator
        paging = page.locator(f"#{GRID} .ag-paging-panel")
        expect(paging).to_contain_text("Trang 1 trên 3")
        expect(paging).to_contain_text("1 đến 10 trên 30")

        header = page.locator(f"#{GRID} .ag-header-cell[col-id='n']")
        header.click()  # ascending: as loaded
        expect(header).to_have_attribute("aria-sort", "ascending")
        header.click()
        expect(header).to_have_attribute("aria-sort", "descending")
        assert cell(page, 0, "n") == "1.029"
        assert cell(page, 0, "name") == "Nguyễn Thị Ánh Tuyết 29"

        page.get_by_label("Trang sau").click()
        expect(paging).to_contain_text("11 đến 20 trên 30")
        assert cell(page, 10, "n") == "1.019"
        assert errors == [], "\n".join(errors)
    finally:
        page.close()


def test_on_a_phone_it_scrolls_inside_its_box_not_the_page(browser: Browser, grid_url: str) -> None:
    page, errors = open_grid(browser, grid_url, 390)
    try:
        sizes = page.evaluate(SIZES)
        assert sizes["box"] <= 390
        assert sizes["inner"] > sizes["shown"], "the columns scroll inside the box"
        assert wider_than_window(page) == []
        assert sizes["cut"] is False, "a long name wraps in its cell rather than ending in …"
        assert errors == [], "\n".join(errors)
    finally:
        page.close()
