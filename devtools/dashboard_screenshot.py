"""`python -m devtools.dashboard_screenshot docs/dashboard.png --phone docs/dashboard-phone.png`:
the dashboard on demo data, as PNGs (a desktop, and a phone).

It seeds a temporary SQLite database with `demo`, serves the app mounted as in production and
photographs the satisfaction page in Chromium, so the picture in the docs is never staged by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, ViewportSize

from dashboard import review_period
from dashboard.app import create_dash
from devtools.browser import chromium, mounted, serve, wait_for_satisfaction_page
from devtools.dashboard_demo import OFFICERS, demo_engine
from server.access.roles import Access
from server.storage.db import session_scope
from server.timeutil import vn_day

VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
HR = Access("hr", "phongnoivu")  # the HR office sees every unit, with names


@contextmanager
def demo_dashboard(now: datetime, days: int, access: Access = HR) -> Iterator[str]:
    """The demo's `days` up to `now`, served mounted as in production to `access`, with
    today the Vietnam day of `now`; yields the base URL."""
    with demo_engine(now, days) as engine:
        app = create_dash(lambda: session_scope(engine), today=lambda: vn_day(now))
        with serve(mounted(app, access)) as base:
            yield base


def take(
    browser: Browser,
    path: Path,
    now: datetime | None = None,
    viewport: ViewportSize = VIEWPORT,
) -> None:
    """Seed the demo up to `now`, open the review page (the last complete month) and save it
    as a PNG."""
    moment = now or datetime.now(UTC)
    today = vn_day(moment)
    # the month shown and the one before it, for the change column
    days = (today - review_period.last_complete_month(today).previous().start).days + 1
    with demo_dashboard(moment, days) as base:
        page = browser.new_page(viewport=viewport)
        try:
            page.goto(f"{base}/dashboard/")
            wait_for_satisfaction_page(page, OFFICERS[0].name)
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=path, full_page=True)
        finally:
            page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.dashboard_screenshot", description=__doc__
    )
    parser.add_argument("output", type=Path, help="where to write the PNG: docs/dashboard.png")
    parser.add_argument(
        "--phone", type=Path, help="also the page on a 390 px phone: docs/dashboard-phone.png"
    )
    args = parser.parse_args(argv)
    with chromium() as browser:
        take(browser, args.output)
        if args.phone is not None:
            take(browser, args.phone, viewport=PHONE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
