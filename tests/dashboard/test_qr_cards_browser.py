"""The counters page's QR card link in Chromium behind the real login: a unit head's click
downloads their unit's sheet, a PDF with a card per counter, through the login cookie."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from devtools.browser import settled
from tests.dashboard.test_browser import browser
from tests.dashboard.test_phone_browser import log_in, site

__all__ = ["browser", "site"]  # the fixtures this module uses


def test_a_unit_head_downloads_their_units_cards(
    browser: Browser, site: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{site}/login?next=/dashboard/counters")
        log_in(page, site, "head-dh")
        settled(page)
        links = page.locator("#qr-card-links a")
        assert links.count() == 1
        with page.expect_download() as started:
            links.first.click()
        download = started.value
        assert download.suggested_filename == "the-qr-danh-gia-DH.pdf"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
    finally:
        context.close()
