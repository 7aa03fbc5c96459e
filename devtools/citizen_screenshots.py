"""`python -m devtools.citizen_screenshots docs`: the citizen's rating page on a 390×844 phone
(the levels, the reasons after "Không hài lòng", the thank-you: docs/phone-rating*.png) and the
first page of a unit's counter QR card sheet (docs/qr-cards.png).

It seeds a temporary SQLite database with one ward of eight counters and a served ticket,
serves the real app and walks the page in Chromium as a citizen would; the card sheet is the
API's own PDF rasterised by `pdftoppm`, so no picture is staged. The browser test
(tests/server/web/test_citizen_browser.py) walks the same way through `rate_low`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from devtools.browser import WAIT_MS, photograph, serve
from devtools.dashboard_screenshot import PHONE
from devtools.monthly_report_png import png_of
from server.channels import cards
from server.channels.links import rating_url, ticket_invite
from server.settings import Settings
from server.storage.channels import QueueTicket
from server.storage.models import Assignment, Counter, Officer, Unit
from server.timeutil import vn_day
from server.web.app import create_app

UNIT_ID = "DH"
COUNTERS = [
    ("DH-Q1", "Quầy 1 – Tư pháp, Hộ tịch"),
    ("DH-Q2", "Quầy 2 – Đất đai"),
    ("DH-Q3", "Quầy 3 – Xây dựng"),
    ("DH-Q4", "Quầy 4 – Lao động, Thương binh"),
    ("DH-Q5", "Quầy 5 – Kinh doanh"),
    ("DH-Q6", "Quầy 6 – Chứng thực"),
    ("DH-Q7", "Quầy 7 – Văn hoá"),
    ("DH-Q8", "Quầy 8 – Trả kết quả"),
]
OFFICER_ID = "CB-0042"
PUBLIC_URL = "https://hailong.gialai.gov.vn"
FILES = {
    "levels": "phone-rating.png",
    "reasons": "phone-rating-reasons.png",
    "thanks": "phone-rating-thanks.png",
}


def citizen_app(folder: Path) -> FastAPI:
    """The server (no ingest) on a new SQLite database in `folder` holding a ward, its
    COUNTERS and an officer at the first counter since the start of the year."""
    settings = Settings(
        database_url=f"sqlite:///{folder / 'citizen.db'}",
        secret_key="devtools-" * 5,
        data_dir=folder,
        public_url=PUBLIC_URL,
    )
    app = create_app(settings, ingest=False)
    with Session(app.state.engine) as session:
        session.add(Unit(id=UNIT_ID, name="UBND Phường Diên Hồng", kind="ward"))
        session.commit()
        for counter_id, name in COUNTERS:
            session.add(Counter(id=counter_id, name=name, unit_id=UNIT_ID))
        session.add(Officer(id=OFFICER_ID, name="Nguyễn Thị Lan", unit_id=UNIT_ID))
        session.commit()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        session.add(Assignment(officer_id=OFFICER_ID, counter_id=COUNTERS[0][0], start=start))
        session.commit()
    return app


def served_ticket_url(app: FastAPI, base: str, code: str, now: datetime) -> str:
    """The `rating_url` of ticket `code`, served just now at the first counter, at `base`."""
    with Session(app.state.engine) as session:
        ticket = QueueTicket(
            unit_id=UNIT_ID,
            day=vn_day(now),
            ticket=code,
            state="served",
            called_at=now - timedelta(minutes=9),
            served_at=now,
            counter_id=COUNTERS[0][0],
            officer_id=OFFICER_ID,
        )
        session.add(ticket)
        session.commit()
        token = ticket_invite(session, ticket, now, days=app.state.settings.rating_link_days).token
        session.commit()
    return rating_url(base, token)


def rate_low(page: Page, url: str, shots: Path | None = None) -> None:
    """Open the link, tap "Không hài lòng", pick "Chờ đợi lâu", send, see the thank-you;
    with `shots`, photograph each step there (FILES)."""

    def shoot(step: str) -> None:
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shots / FILES[step], full_page=True)

    page.goto(url)
    expect(page.locator("h1")).to_contain_text("Xin vui lòng đánh giá", timeout=WAIT_MS)
    shoot("levels")
    page.get_by_role("button", name="Không hài lòng").click()
    expect(page.locator("h1")).to_contain_text("Chúng tôi cần cải thiện điều gì?")
    page.get_by_text("Chờ đợi lâu").click()
    page.fill("#comment", "Chờ gần một tiếng mới đến lượt.")
    shoot("reasons")
    page.get_by_role("button", name="Gửi").click()
    expect(page.locator("h1")).to_contain_text("Cảm ơn quý khách!")
    shoot("thanks")


@contextmanager
def citizen_site(folder: Path) -> Iterator[tuple[FastAPI, str]]:
    """The app of `citizen_app`, served on a free loopback port: (app, base URL)."""
    app = citizen_app(folder)
    with serve(app) as base:
        yield app, base


def card_sheet_pdf(app: FastAPI, now: datetime) -> bytes:
    with Session(app.state.engine) as session:
        found = cards.unit_cards(session, UNIT_ID, PUBLIC_URL, now)
        session.commit()
    return cards.sheet_pdf(found)


def take(browser: Browser, folder: Path, now: datetime | None = None) -> list[Path]:
    moment = now or datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="hailong-citizen-") as tmp,
        citizen_site(Path(tmp)) as (app, base),
    ):
        url = served_ticket_url(app, base, "A-0153", moment)
        page = browser.new_page(viewport=PHONE)
        try:
            rate_low(page, url, folder)
        finally:
            page.close()
        png_of(card_sheet_pdf(app, moment), folder / "qr-cards.png")
    return [*(folder / name for name in FILES.values()), folder / "qr-cards.png"]


def main(argv: list[str] | None = None) -> int:
    return photograph("devtools.citizen_screenshots", __doc__, take, argv)


if __name__ == "__main__":
    raise SystemExit(main())
