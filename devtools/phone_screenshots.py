"""`python -m devtools.phone_screenshots docs`: the dashboard on a 390×844 phone, on demo data, as
the HR office sees it: the review page and the devices page (docs/dashboard-phone-*.png).

Like `devtools.dashboard_screenshot`, it seeds a temporary SQLite database, serves the app
mounted as in production and photographs it in Chromium, so the pictures are never staged.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, ViewportSize

from dashboard.app import create_dash
from devtools.browser import chromium, mounted, serve, settled
from devtools.dashboard_demo import seed_demo
from server.access.roles import Access
from server.ingest.store import IngestRules
from server.storage.db import make_engine, migrate, session_scope
from server.timeutil import vn_day

PHONE: ViewportSize = {"width": 390, "height": 844}
HR = Access("hr", "phongnoivu", full_name="Nguyễn Thị Thu Hà")
DAYS = 62  # the month shown and the one before it
# dashboard path -> the PNG's name
FILES = {"/": "dashboard-phone-review.png", "/devices": "dashboard-phone-devices.png"}


def take(browser: Browser, folder: Path, now: datetime | None = None) -> list[Path]:
    """Seed the demo up to `now`, open each page of FILES at phone size and save it whole."""
    moment = now or datetime.now(UTC)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="hailong-phone-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/demo.db")
        try:
            migrate(engine)
            with session_scope(engine) as session:
                # a throwaway database: a throwaway chain key
                seed_demo(session, moment, IngestRules(chain_key=secrets.token_bytes(32)), DAYS)
            app = create_dash(lambda: session_scope(engine), today=lambda: vn_day(moment))
            with serve(mounted(app, HR)) as base:
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
        finally:
            engine.dispose()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.phone_screenshots", description=__doc__
    )
    parser.add_argument("folder", type=Path, help="where to write the PNGs: docs")
    folder = parser.parse_args(argv).folder
    with chromium() as browser:
        for path in take(browser, folder):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
