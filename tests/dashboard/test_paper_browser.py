"""The paper forms page in Debian's Chromium, inside the real server behind its login: hr
checks a file of three forms (nothing is entered), enters it (three paper ratings, a batch in
the list), and the same file again is refused form by form. And the screenshot tool pictures
the page.

The browser is test_browser.py's fixture (imported, not copied).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from dashboard.pages import paper
from devtools.browser import WAIT_MS, console_errors, serve, wider_than_window
from devtools.paper_screenshot import PICTURE, paper_workbook, take, upload
from server.storage.models import Rating
from server.timeutil import vn_day
from tests.dashboard.test_browser import browser
from tests.dashboard.test_registry_browser import log_in
from tests.server.report_data import report_app

__all__ = ["browser"]  # the fixture this module uses


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    """The whole server over tests/server/report_data.py (units DH and XA)."""
    app = report_app(tmp_path_factory.mktemp("paper"), dashboard=True)
    with serve(app) as base:
        yield app, base


def paper_scores(app: FastAPI) -> list[tuple[str | None, str | None, int]]:
    with Session(app.state.engine) as session:
        rows = session.exec(select(Rating).where(Rating.input == "paper")).all()
        return sorted((r.counter_id, r.officer_id, r.score) for r in rows)


def test_hr_checks_enters_and_cannot_enter_forms_twice(
    browser: Browser, server: tuple[FastAPI, str]
) -> None:
    app, base = server
    day = vn_day(datetime.now(UTC)) - timedelta(days=1)
    content = paper_workbook(
        [
            ["P-1", "DH", "DH-Q1", None, "CB-A", day.isoformat(), 3, None, None],
            ["P-2", "DH", "DH-Q2", None, None, day.isoformat(), 1, "wait_time", "Chờ lâu"],
            ["P-3", "XA", "XA-Q1", None, "CB-C", day.isoformat(), "Hài lòng", None, None],
        ]
    )
    page = log_in(browser, base, "hr", 1440, 900)
    errors = console_errors(page)
    try:
        page.goto(f"{base}/dashboard/paper")
        message = page.locator(f"#{paper.MESSAGE}")
        upload(page, content, "phieu.xlsx", paper.CHECK)
        expect(message).to_contain_text("Tệp hợp lệ: 3 phiếu sẽ được nhập", timeout=WAIT_MS)
        assert paper_scores(app) == []

        page.click(f"#{paper.RUN}")
        expect(message).to_contain_text("Đã nhập 3 phiếu (đợt 1)", timeout=WAIT_MS)
        batches = page.locator(f"#{paper.BATCHES}")
        expect(batches.locator(".ag-cell[col-id='entered_by']")).to_have_text(["hr"])
        expect(batches.locator(".ag-cell[col-id='forms']")).to_have_text(["3"])
        assert paper_scores(app) == [("DH-Q1", "CB-A", 3), ("DH-Q2", None, 1), ("XA-Q1", "CB-C", 2)]

        page.click(f"#{paper.RUN}")
        expect(message).to_contain_text("3 lỗi ở 3 hàng", timeout=WAIT_MS)
        grid = page.locator(f"#{paper.ERRORS}")
        expect(grid.locator(".ag-cell[col-id='row']")).to_have_text(["3", "4", "5"])
        expect(grid).to_contain_text("'P-2' của đơn vị 'DH' đã được nhập ở đợt 1")
        assert len(paper_scores(app)) == 3
        assert wider_than_window(page) == []
        assert errors == [], "\n".join(errors)
    finally:
        page.close()


def test_a_unit_head_does_not_get_the_page(browser: Browser, server: tuple[FastAPI, str]) -> None:
    _, base = server
    page = log_in(browser, base, "head-dh", 1440, 900)
    try:
        page.goto(f"{base}/dashboard/paper")
        expect(page.locator("body")).to_contain_text("Paper survey forms", timeout=WAIT_MS)
        expect(page.locator(f"#{paper.UPLOAD}")).to_have_count(0)
    finally:
        page.close()


def test_the_screenshot_tool_pictures_the_page(browser: Browser, tmp_path: Path) -> None:
    (made,) = take(browser, tmp_path)
    assert made == tmp_path / PICTURE
    assert made.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
