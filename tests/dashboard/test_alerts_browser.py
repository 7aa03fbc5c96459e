"""The alerts panel in headless Chromium: a unit head acknowledges and resolves an alert on the
review page, at 1440x900 and on a 390x844 phone, where the cards stay inside the screen.

Every wait is for a condition on the page, with devtools.browser's generous timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from dashboard import alerts_panel
from dashboard.app import create_dash
from devtools.browser import WAIT_MS, chromium, console_errors, mounted, serve
from server.access.roles import Access
from tests.dashboard.conftest import DH_ALERT, XA_ALERT
from tests.dashboard.rows import TODAY, factory

HEAD_DH = Access("unit_head", "head-dh", unit_id="DH")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_unit_head_acknowledges_and_resolves_an_alert(
    browser: Browser, alerts_engine: Engine, width: int, height: int
) -> None:
    app = create_dash(factory(alerts_engine), today=lambda: TODAY)
    context = browser.new_context(viewport={"width": width, "height": height})
    page: Page = context.new_page()
    errors = console_errors(page)
    with serve(mounted(app, HEAD_DH)) as base:
        page.goto(f"{base}/dashboard/?period=2026-10")
        panel = page.locator(f"#{alerts_panel.PANEL}")
        card = panel.locator(".alert-card").filter(has_text=DH_ALERT)
        expect(card).to_be_visible(timeout=WAIT_MS)  # open: an alert is not resolved
        expect(panel.locator(".alerts-summary")).to_contain_text("Cảnh báo: 1 chưa xử lý")
        expect(panel).not_to_contain_text(XA_ALERT)
        expect(card).to_contain_text("Phường Diên Hồng · Quầy 1")
        expect(card).to_contain_text("Không gửi ra ngoài (chưa cấu hình webhook)")
        box = card.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, box

        card.get_by_role("button", name="Đánh dấu đã xem").click()
        expect(card).to_contain_text("Đã xem (head-dh, ", timeout=WAIT_MS)
        expect(page.locator(f"#{alerts_panel.MESSAGE}")).to_contain_text("acknowledged")
        expect(card.get_by_role("button", name="Đánh dấu đã xem")).to_have_count(0)

        card.get_by_role("button", name="Đã xử lý…").click()
        note = card.locator("textarea")
        expect(note).to_be_visible(timeout=WAIT_MS)
        card.get_by_role("button", name="Huỷ").click()  # changed their mind
        expect(note).to_be_hidden(timeout=WAIT_MS)
        expect(card).not_to_contain_text("Đã xử lý (")
        card.get_by_role("button", name="Đã xử lý…").click()
        expect(note).to_be_visible(timeout=WAIT_MS)
        note.fill("Đã nhắc nhở cán bộ")
        card.get_by_role("button", name="Xác nhận đã xử lý").click()
        expect(card).to_contain_text("Đã xử lý (head-dh, ", timeout=WAIT_MS)
        expect(card).to_contain_text("Đã nhắc nhở cán bộ")
        expect(panel.locator(".alerts-summary")).to_contain_text(
            "không có cảnh báo chưa xử lý", timeout=WAIT_MS
        )
        expect(card.get_by_role("button")).to_have_count(0)
        assert panel.evaluate("e => e.scrollWidth <= e.clientWidth"), "the panel scrolls sideways"
    context.close()
    assert errors == [], "\n".join(errors)
