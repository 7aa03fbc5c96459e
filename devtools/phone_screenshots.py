"""`python -m devtools.phone_screenshots docs`: the dashboard on a 390×844 phone, on demo data, as
the HR office sees it: the review page and the devices page (docs/dashboard-phone-*.png).

Like `devtools.dashboard_screenshot`, it seeds a temporary SQLite database, serves the app
mounted as in production and photographs it in Chromium, so the pictures are never staged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser

from devtools.browser import photograph, settled
from devtools.dashboard_screenshot import PHONE, demo_dashboard
from server.access.roles import Access

HR = Access("hr", "phongnoivu", full_name="Nguyễn Thị Thu Hà")
DAYS = 62  # the month shown and the one before it
# dashboard path -> the PNG's name
FILES = {"/": "dashboard-phone-review.png", "/devices": "dashboard-phone-devices.png"}


def take(browser: Browser, folder: Path, now: datetime | None = None) -> list[Path]:
    """Seed the demo up to `now`, open each page of FILES at phone size and save it whole."""
    moment = now or datetime.now(UTC)
    written: list[Path] = []
    with demo_dashboard(moment, DAYS, HR) as base:
        page = browser.new_page(viewport=PHONE)
        try:
            for path, name in FILES.items():
                page.goto(f"{base}/dashboard{path}")
                settled(page)
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=folder / name, full_page=True)
                written.append(folder / name)
        finally:
            page.close()
    return written


def main(argv: list[str] | None = None) -> int:
    return photograph("devtools.phone_screenshots", __doc__, take, argv)


if __name__ == "__main__":
    raise SystemExit(main())
