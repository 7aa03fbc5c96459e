"""What a browser downloads to open a dashboard page, as Chromium counts it.

Shared by the weight test (tests/dashboard/test_delivery.py) and `bench/dashboard.py`. Bytes are
Chromium's own count of what crossed the wire for each request (CDP `Network.loadingFinished`
`encodedDataLength`: headers and the body as sent, compressed or not). Each measured page opens in
a fresh browser context, whose cache is empty: a first visit, after logging in.

`as_before` makes a watched page behave as the dashboard did before it was lightened: it asks for
uncompressed answers and gets no cartesian Plotly bundle, so dcc.Graph fetches the full one.
That is the bench's baseline, measured against the same server in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from dashboard import vendor
from devtools.browser import WAIT_MS

FULL_PLOTLY = "/plotly/package_data/plotly.min.js"  # what dcc.Graph fetches without window.Plotly


@dataclass
class Transfers:
    """The requests of a page since it was watched: their URLs and the bytes each took."""

    urls: dict[str, str] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.received.values())

    def requested(self, part: str) -> list[str]:
        return [url for url in self.urls.values() if part in url]

    def largest(self, n: int = 5) -> list[tuple[int, str]]:
        """The `n` largest downloads, bytes and URL."""
        done = sorted(self.received.items(), key=lambda item: -item[1])[:n]
        return [(size, self.urls.get(request_id, "?")) for request_id, size in done]


def logged_in(browser: Browser, base: str, username: str, password: str) -> dict[str, Any]:
    """The cookies of a login through the server's own form, for fresh contexts to start with."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/login?next=/dashboard/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{base}/dashboard/", timeout=WAIT_MS)
        return dict(context.storage_state())
    finally:
        context.close()


def fresh_context(browser: Browser, login: dict[str, Any], **options: Any) -> BrowserContext:
    """A context with an empty cache and `login`'s cookies."""
    return browser.new_context(storage_state=login, **options)  # type: ignore[arg-type]


def watch(page: Page, *, as_before: bool = False) -> Transfers:
    """Count `page`'s requests from now on; `as_before`: see the module. (Through the DevTools
    protocol rather than Playwright's routing, which would turn the browser's cache off.)"""
    seen = Transfers()
    cdp = page.context.new_cdp_session(page)
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: seen.urls.update({e["requestId"]: e["request"]["url"]}),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: seen.received.update({e["requestId"]: int(e["encodedDataLength"])}),
    )
    cdp.send("Network.enable")
    if as_before:
        cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
        cdp.send("Network.setBlockedURLs", {"urls": [f"*/{vendor.__name__}/*"]})
    return seen
