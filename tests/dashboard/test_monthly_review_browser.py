"""The monthly review as its four kinds of reader meet it, in Debian's Chromium inside the real
server behind its login, on a 1440x900 desktop and a 390x844 phone: HR, a unit head, an officer
and a viewer each log in and land on the last complete month; the page never scrolls sideways;
HR opens an officer's page from a row of the grid and sees its hour x weekday heatmap; HR and the
unit head download the printable month as a PDF; a viewer's rows carry no figure that could be
matched to an officer; logging out ends the session.

The server's day is the real one (the review's default must follow the calendar), so the month
expected is computed here the same way; the figures are tests/server/report_data.py's October.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard import drilldown_view
from dashboard.pages import satisfaction
from devtools.browser import WAIT_MS, console_errors, serve, settled, wider_than_window
from server.reporting.periods import period_of
from server.timeutil import vn_day
from tests.dashboard.test_browser import browser, cells
from tests.server.report_data import report_app

__all__ = ["browser"]  # test_browser.py's fixture, which this module uses

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
OCTOBER = "2026-10"
OFFICER_NAMES = ("Nguyễn Thị An", "Trần Văn Bình", "Lê Thị Cúc")  # report_data's officers
HIDDEN = "Ẩn: ít hơn 3 cán bộ"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = report_app(tmp_path_factory.mktemp("review"), dashboard=True)
    with serve(app) as base:
        yield base


@pytest.fixture(params=list(SIZES))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = SIZES[request.param]
    size = {"width": width, "height": height}
    context = browser.new_context(viewport=size, accept_downloads=True)
    yield context.new_page()
    context.close()


def last_complete_month() -> str:
    """The month before the one Vietnam is in now: what the review opens on."""
    this_month = period_of("month", vn_day(datetime.now(UTC)))
    return this_month.previous().text


def log_in(page: Page, site: str, user: str) -> None:
    page.goto(f"{site}/dashboard/")
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
    page.fill("#username", user)
    page.fill("#password", f"{user}-password")
    page.click("button[type=submit]")
    expect(page.locator(".user")).to_be_visible(timeout=WAIT_MS)


def opened_month(page: Page) -> str:
    box = page.locator(f"#{satisfaction.PERIOD}")
    expect(box).to_have_value(re.compile(r"^\d{4}-\d\d$"), timeout=WAIT_MS)
    return box.input_value()


def log_out(page: Page, site: str) -> None:
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()
    expect(page).to_have_url(re.compile(r"/login"), timeout=WAIT_MS)
    page.goto(f"{site}/dashboard/")
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)


@pytest.mark.parametrize("user", ["hr", "head-dh", "officer-a", "viewer"])
def test_every_reader_opens_on_the_last_complete_month_and_logs_out(
    page: Page, site: str, user: str
) -> None:
    errors = console_errors(page)
    log_in(page, site, user)

    assert opened_month(page) == last_complete_month()
    settled(page)
    assert wider_than_window(page) == []
    log_out(page, site)
    assert errors == [], "\n".join(errors)


def test_hr_opens_an_officers_page_from_a_row_and_sees_the_heatmap(page: Page, site: str) -> None:
    log_in(page, site, "hr")
    page.goto(f"{site}/dashboard/?period={OCTOBER}&scope=officer&unit=DH")
    link = cells(page, "name").locator("a").first
    expect(link).to_have_text(OFFICER_NAMES[0], timeout=WAIT_MS)

    link.click()
    expect(page).to_have_url(re.compile(rf"/dashboard/officer/CB-A\?period={OCTOBER}$"))
    plot = page.locator(f"#{drilldown_view.HEATMAP} .js-plotly-plot")
    expect(plot).to_be_visible(timeout=WAIT_MS)
    types = page.evaluate(
        f"Array.from(document.querySelectorAll('#{drilldown_view.HEATMAP} .js-plotly-plot'))"
        ".flatMap(plot => plot.data.map(trace => trace.type))"
    )
    assert types == ["heatmap"]
    counts = page.evaluate(
        f"document.querySelector('#{drilldown_view.HEATMAP} .js-plotly-plot').data[0].z.flat()"
    )
    assert sum(c for c in counts if c) == 30  # CB-A's counted October, as the review row says
    settled(page)
    assert wider_than_window(page) == []


@pytest.mark.parametrize("user", ["hr", "head-dh"])
def test_the_printable_month_downloads_as_a_pdf_from_the_review(
    page: Page, site: str, user: str
) -> None:
    log_in(page, site, user)
    page.goto(f"{site}/dashboard/?period={OCTOBER}&unit=DH")
    pdf = page.locator(f"#{satisfaction.PDF}")
    expect(pdf).to_be_visible(timeout=WAIT_MS)

    with page.expect_download(timeout=WAIT_MS) as started:
        pdf.click()
    download = started.value
    assert download.suggested_filename.endswith(".pdf")
    body = download.path().read_bytes()
    assert body.startswith(b"%PDF-") and len(body) > 5_000


def test_a_viewers_rows_cannot_be_matched_to_names(page: Page, site: str) -> None:
    """Every counter, field and unit of report_data is drawn from fewer than 3 officers, so a
    viewer sees each row but none of its figures; the officers' report is not offered."""
    log_in(page, site, "viewer")
    for scope in ("counter", "field", "unit"):
        page.goto(f"{site}/dashboard/?period={OCTOBER}&scope={scope}")

        ranks = cells(page, "rank")
        expect(ranks.first).to_have_text(HIDDEN, timeout=WAIT_MS)
        assert set(ranks.all_inner_texts()) == {HIDDEN}, scope
        ratings = [text.strip() for text in cells(page, "ratings").all_inner_texts()]
        assert ratings and all(text in ("", "—") for text in ratings), (scope, ratings)
        body = page.locator("body").inner_text()
        assert not [name for name in OFFICER_NAMES if name in body], scope
        scopes = page.locator(f"#{satisfaction.SCOPE} input").evaluate_all(
            "inputs => inputs.map(i => i.value)"
        )
        assert "officer" not in scopes
        settled(page)
        assert wider_than_window(page) == [], scope
