"""Done-when of the citizen's phone, in Debian's Chromium at 390×844 against the real server:
a served ticket's link takes "Không hài lòng" with a reason and says thank you; opened again it
refuses politely; the rating is stored with input web, the ticket, its counter and officer. The
page breaks no rule of its own policy (a blocked style shows as a console error), nothing on it
scrolls sideways, and every target is at least 64 px high."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from devtools.browser import WAIT_MS, chromium, console_errors, wider_than_window
from devtools.citizen_screenshots import COUNTERS, citizen_site, rate_low, served_ticket_url
from devtools.dashboard_screenshot import PHONE
from server.storage.channels import WEB_DEVICE
from server.storage.models import Rating

TARGET_MIN_PX = 64


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    with citizen_site(tmp_path_factory.mktemp("citizen")) as served:
        yield served


def heights(page: object, selector: str) -> list[float]:
    found: list[float] = page.eval_on_selector_all(  # type: ignore[attr-defined]
        selector, "(all) => all.map((e) => e.getBoundingClientRect().height)"
    )
    return found


def test_a_ticket_link_takes_one_rating_on_a_phone(
    browser: Browser, site: tuple[FastAPI, str], tmp_path: Path
) -> None:
    app, base = site
    url = served_ticket_url(app, base, "A-0153", datetime.now(UTC))
    page = browser.new_page(viewport=PHONE)
    errors = console_errors(page)
    try:
        page.goto(url)
        levels = heights(page, "button.lv")
        assert len(levels) == 4 and min(levels) >= TARGET_MIN_PX, levels
        assert wider_than_window(page) == []
        page.get_by_role("button", name="Không hài lòng").click()
        expect(page.locator("h1")).to_contain_text("Chúng tôi cần cải thiện điều gì?")
        assert min(heights(page, "label.rs, button.go")) >= TARGET_MIN_PX
        assert wider_than_window(page) == []
        page.goto(url)
        rate_low(page, url)
        assert page.url == f"{url}?sent=1"
        assert errors == [], errors  # a style the policy blocked would be one

        page.goto(url)
        expect(page.locator("h1")).to_contain_text(
            "Giao dịch này đã được đánh giá. Xin cảm ơn!", timeout=WAIT_MS
        )
        expect(page.locator("button")).to_have_count(0)
    finally:
        page.close()

    with Session(app.state.engine) as session:
        [rating] = session.exec(select(Rating).where(Rating.device_id == WEB_DEVICE)).all()
    assert (rating.input, rating.ticket, rating.counter_id, rating.officer_id) == (
        "web",
        "A-0153",
        COUNTERS[0][0],
        "CB-0042",
    )
    assert (rating.score, rating.reasons, rating.comment) == (
        1,
        "wait_time",
        "Chờ gần một tiếng mới đến lượt.",
    )
