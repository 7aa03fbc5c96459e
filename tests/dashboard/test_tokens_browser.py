"""The API tokens screen in Chromium, inside the real server behind its login: an admin makes a
token, sees it once, revokes it after confirming, and the queue route refuses it at once."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, expect

from dashboard.pages import tokens
from devtools.browser import WAIT_MS, console_errors
from tests.dashboard.test_browser import browser, server_url
from tests.dashboard.test_registry_browser import log_in

__all__ = ["browser", "server_url"]  # the fixtures this module uses


def test_an_admin_makes_a_token_sees_it_once_and_revokes_it(
    browser: Browser, server_url: str
) -> None:
    page = log_in(browser, server_url, "admin", 1440, 900)
    errors = console_errors(page)
    screen = tokens.SCREEN
    try:
        page.goto(f"{server_url}/dashboard/tokens")
        expect(page.locator(f"#{screen.id('empty')}")).to_be_visible(timeout=WAIT_MS)
        page.fill(f"#{screen.id('in-name')}", "queue-dh")
        page.locator(f"#{screen.id('in-scope')}").click()
        page.get_by_role("option", name=re.compile(r"^services")).click()
        page.click(f"#{screen.id('save')}")
        said = page.locator(f"#{screen.id('message')}")
        expect(said).to_contain_text("mã chỉ hiện một lần: hlt_", timeout=WAIT_MS)
        [token] = re.findall(r"hlt_[A-Za-z0-9_-]+", said.inner_text())
        table = page.locator(f"#{screen.id('table')}")
        expect(table).to_contain_text("Đang dùng", timeout=WAIT_MS)
        assert token not in table.inner_text()

        page.reload()
        expect(table).to_contain_text("queue-dh", timeout=WAIT_MS)
        assert token not in page.content(), "shown once: not after a reload"

        asked: list[str] = []

        def accept(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        page.locator(f"#{tokens.REVOKE_NAME}").click()
        page.get_by_role("option", name=re.compile(r"^queue-dh")).click()
        page.click(f"#{tokens.REVOKE}")
        expect(page.locator(f"#{tokens.REVOKE_MESSAGE}")).to_have_text(
            "Đã thu hồi mã truy cập queue-dh · Token queue-dh revoked", timeout=WAIT_MS
        )
        assert asked and "queue-dh" in asked[0]
        expect(table).to_contain_text("Đã thu hồi", timeout=WAIT_MS)
        refused = page.request.post(
            f"{server_url}/api/v1/services",
            headers={"Authorization": f"Bearer {token}"},
            data={"events": []},
        )
        assert refused.status == 401
    finally:
        page.close()
    assert errors == []
