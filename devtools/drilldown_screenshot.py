"""`python -m devtools.drilldown_screenshot docs/`: an officer's drill-down page on demo data, as
docs/officer-page.png (1440x900) and docs/officer-page-phone.png (390x844).

Seeds a temporary SQLite database with the demo's ratings over the two months up to `now`, serves
the dashboard mounted as in production and photographs the first demo officer's last complete
month in Chromium as the HR office sees it, so the pictures in the docs are never staged by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from dashboard import drilldown_view
from devtools.browser import WAIT_MS, photograph
from devtools.dashboard_demo import OFFICERS
from devtools.dashboard_screenshot import PHONE, VIEWPORT, demo_dashboard

DAYS = 62  # the month shown and the one before it
SHOTS = {"officer-page.png": VIEWPORT, "officer-page-phone.png": PHONE}


def wait_for_drilldown(page: Page) -> None:
    """Until the heatmap and the trend have drawn their traces."""
    heatmap = page.locator(f"#{drilldown_view.HEATMAP} .js-plotly-plot .heatmaplayer .hm")
    expect(heatmap.first).to_be_attached(timeout=WAIT_MS)
    trend = page.locator(f"#{drilldown_view.TREND} .js-plotly-plot .scatterlayer .trace")
    expect(trend).to_have_count(2, timeout=WAIT_MS)


def take(browser: Browser, folder: Path, now: datetime | None = None) -> list[Path]:
    """Photograph the first demo officer's page at each size; returns the files written."""
    moment = now or datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with demo_dashboard(moment, DAYS) as base:
        for name, viewport in SHOTS.items():
            page = browser.new_page(viewport=viewport)
            try:
                page.goto(f"{base}/dashboard/officer/{OFFICERS[0].id}")
                wait_for_drilldown(page)
                page.screenshot(path=folder / name, full_page=True)
                written.append(folder / name)
            finally:
                page.close()
    return written


def main(argv: list[str] | None = None) -> int:
    return photograph("devtools.drilldown_screenshot", __doc__, take, argv)


if __name__ == "__main__":
    raise SystemExit(main())
