"""The rota, import and fleet pages in Debian's Chromium, as an administrator uses them: a rota
row added through the form lands on the calendar, a workbook imported through the upload box
gives its report, and the fleet counts move when a unit's Last Will arrives.

Every wait is for a condition on the page (devtools.browser's generous timeouts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.engine import Engine

from dashboard import absences
from dashboard.app import create_dash
from dashboard.pages import fleet, importing, rota
from devtools.browser import WAIT_MS, console_errors, mounted, serve
from devtools.import_workbook import registry_rows, xlsx_bytes
from devtools.operations_screenshots import FILES, take_screens, upload
from hailong import protocol
from server.ingest.store import Incoming, store_batch
from server.storage.db import session_scope
from tests.dashboard.rows import factory
from tests.dashboard.test_browser import browser, server_url
from tests.dashboard.test_screens_app import ADMIN, TODAY, seed
from tests.server.factories import RULES
from tests.server.ingest.test_fleet import status as status_payload

__all__ = ["browser", "server_url"]  # test_browser.py's fixtures, which this module uses


@pytest.fixture
def site(engine: Engine) -> Iterator[str]:
    """The dashboard over a seeded registry (tests/dashboard/test_screens_app.py), as the admin."""
    seed(engine, datetime.now(UTC))
    app = create_dash(factory(engine), today=lambda: TODAY)
    with serve(mounted(app, ADMIN)) as base:
        yield f"{base}/dashboard"


def open_page(browser: Browser, width: int = 1440, height: int = 900) -> Page:
    return browser.new_page(viewport={"width": width, "height": height})


def choose(page: Page, dropdown: str, option: str) -> None:
    page.locator(f"#{dropdown}").click()
    page.get_by_role("option", name=option).click()


def answer(page: Page, button: Locator, *, accept: bool) -> None:
    """Press `button` and answer the question it asks, waiting until it was asked, so that the
    next question's answer cannot land on this one."""
    page.once("dialog", lambda dialog: dialog.accept() if accept else dialog.dismiss())
    with page.expect_event("dialog", timeout=WAIT_MS):
        button.click()


def test_an_admin_adds_a_rota_row_and_sees_it_on_the_calendar(browser: Browser, site: str) -> None:
    page = open_page(browser)
    errors = console_errors(page)
    page.goto(f"{site}/rota")
    expect(page.locator(f"#{rota.MONTH_LABEL}")).to_have_text("Tháng 12/2026", timeout=WAIT_MS)
    expect(page.locator(f"#{rota.COUNTER}")).to_contain_text("Quầy 1", timeout=WAIT_MS)
    day = page.locator("#rota-day-2026-12-01")  # a Tuesday
    expect(day).not_to_contain_text("Nguyễn Thị An")

    choose(page, rota.OFFICER, "Nguyễn Thị An (CB-A)")
    page.fill(f"#{rota.FROM}", "2026-12-01")
    page.fill(f"#{rota.TO}", "2026-12-31")
    page.locator(f"#{rota.DAYS}").get_by_label("T3").check()
    page.fill(f"#{rota.START}", "07:30")
    page.fill(f"#{rota.END}", "11:30")
    page.locator(f"#{rota.ADD}").click()

    expect(page.locator(f"#{rota.FORM_MESSAGE}")).to_contain_text("Đã thêm", timeout=WAIT_MS)
    expect(day).to_contain_text("Nguyễn Thị An 07:30–11:30", timeout=WAIT_MS)
    expect(page.locator("#rota-day-2026-12-02")).not_to_contain_text("Nguyễn Thị An")
    expect(page.locator(f"#{rota.TABLE}")).to_contain_text("T3")

    end = page.locator(f"#{rota.TABLE} .ag-row .ag-cell[col-id='end']").first
    end.dblclick()  # edited in the list
    end.locator("input").fill("12:00")
    end.locator("input").press("Enter")
    expect(page.locator(f"#{rota.TABLE_MESSAGE}")).to_contain_text("Đã", timeout=WAIT_MS)
    expect(day).to_contain_text("Nguyễn Thị An 07:30–12:00", timeout=WAIT_MS)

    page.locator(f"#{rota.NEXT}").click()
    expect(page.locator(f"#{rota.MONTH_LABEL}")).to_have_text("Tháng 1/2027", timeout=WAIT_MS)
    january = page.locator("#rota-day-2027-01-05")  # a Tuesday after the row's last day
    expect(january).to_be_visible(timeout=WAIT_MS)
    expect(january).not_to_contain_text("Nguyễn Thị An")
    page.locator(f"#{rota.PREV}").click()
    expect(day).to_contain_text("Nguyễn Thị An", timeout=WAIT_MS)

    choose(page, absences.OFFICER, "Nguyễn Thị An (CB-A)")  # leave is the form's first kind
    page.fill(f"#{absences.FIRST}", "2026-12-01")
    page.locator(f"#{absences.ADD}").click()
    expect(page.locator(f"#{absences.MESSAGE}")).to_contain_text("Đã thêm", timeout=WAIT_MS)
    expect(day).not_to_contain_text("Nguyễn Thị An", timeout=WAIT_MS)
    expect(page.locator("#rota-day-2026-12-08")).to_contain_text("Nguyễn Thị An")
    listed = page.locator(f"#{absences.TABLE}")
    expect(listed).to_contain_text("24:00 01/12/2026", timeout=WAIT_MS)

    delete = page.locator(f"#{absences.DELETE}")
    expect(delete).to_be_disabled()  # until a row is picked
    listed.locator(".ag-row").first.click()
    answer(page, delete, accept=True)
    expect(page.locator(f"#{absences.LIST_MESSAGE}")).to_contain_text("Đã xoá", timeout=WAIT_MS)
    expect(day).to_contain_text("Nguyễn Thị An", timeout=WAIT_MS)
    expect(listed).not_to_contain_text("01/12/2026")

    rows = page.locator(f"#{rota.TABLE}")
    rows.locator(".ag-row").first.click()
    answer(page, page.locator(f"#{rota.ROW_DELETE}"), accept=False)
    expect(rows).to_contain_text("Nguyễn Thị An (CB-A)", timeout=WAIT_MS)  # not confirmed
    expect(day).to_contain_text("Nguyễn Thị An")
    answer(page, page.locator(f"#{rota.ROW_DELETE}"), accept=True)
    expect(page.locator(f"#{rota.ROW_DELETED}")).to_contain_text("Đã xoá", timeout=WAIT_MS)
    expect(day).not_to_contain_text("Nguyễn Thị An", timeout=WAIT_MS)
    page.close()
    assert errors == [], "\n".join(errors)


def test_an_admin_imports_a_workbook_and_sees_the_report(browser: Browser, site: str) -> None:
    page = open_page(browser)
    errors = console_errors(page)
    page.goto(f"{site}/import")
    rows = registry_rows(counters=3, fields=1)
    del rows["devices"]  # new devices need the server's broker accounts

    upload(page, "dang-ky.xlsx", xlsx_bytes(rows))
    expect(page.locator(f"#{importing.FILE_NAME}")).to_contain_text("dang-ky.xlsx", timeout=WAIT_MS)
    page.locator(f"#{importing.RUN}").click()

    summary = page.locator(f"#{importing.SUMMARY}")
    expect(summary).to_contain_text("Đã nhập", timeout=WAIT_MS)
    expect(page.locator(f"#{importing.PROGRESS}")).to_contain_text("Đã xử lý")
    sheets = page.locator(f"#{importing.SHEETS}")
    expect(sheets.locator(".ag-row", has_text="counters")).to_contain_text("3")
    expect(sheets.locator(".ag-row", has_text="rota")).to_contain_text("6")

    page.locator(f"#{importing.CHECK}").click()  # the same file again: nothing to change
    expect(summary).to_contain_text("sẽ thay đổi 0 dòng", timeout=WAIT_MS)
    page.close()
    assert errors == [], "\n".join(errors)


def status(state: str) -> Incoming:
    """A unit's Status as the broker delivers it live; an offline one is its Last Will."""
    now = datetime.now(UTC)
    topic = protocol.topic("dev-dh-q1", "status")
    return Incoming(topic, status_payload(state), now, live_since=now)


def ingest(engine: Engine, message: Incoming) -> None:
    with session_scope(engine) as session:
        store_batch(session, [message], datetime.now(UTC), RULES)
        session.commit()


def test_the_fleet_counts_change_when_a_unit_stops(
    browser: Browser, site: str, engine: Engine
) -> None:
    ingest(engine, status("online"))
    page = open_page(browser, 390, 844)
    errors = console_errors(page)
    page.goto(f"{site}/fleet")
    row = page.locator(f"#{fleet.TABLE} .ag-row", has_text="dev-dh-q1")
    expect(row).to_contain_text("Trực tuyến", timeout=WAIT_MS)
    offline = page.locator(f"#{fleet.count_value_id('offline')}")
    expect(offline).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    ingest(engine, status("offline"))
    page.reload()

    expect(offline).to_have_text("2", timeout=WAIT_MS)
    expect(row).to_contain_text("Mất kết nối", timeout=WAIT_MS)
    page.locator(f"#{fleet.count_id('never_seen')}").click()
    expect(page.locator(f"#{fleet.TABLE}")).to_contain_text("dev-xa-q1", timeout=WAIT_MS)
    expect(page.locator(f"#{fleet.TABLE}")).not_to_contain_text("dev-dh-q1")
    page.close()
    assert errors == [], "\n".join(errors)


def test_the_screenshot_tool_writes_the_three_pages(browser: Browser, tmp_path: Path) -> None:
    written = take_screens(browser, tmp_path)

    assert sorted(p.name for p in written) == sorted(FILES.values())
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert path.stat().st_size > 20_000, path


def test_inside_the_server_behind_its_login_the_pages_load_without_errors(
    browser: Browser, server_url: str
) -> None:
    """The real server's Content-Security-Policy and login guard in front of the three pages."""
    page = open_page(browser)
    errors = console_errors(page)
    page.goto(f"{server_url}/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-password")
    page.click("button[type=submit]")
    expect(page.locator(".user")).to_contain_text("admin", timeout=WAIT_MS)

    page.goto(f"{server_url}/dashboard/rota")
    expect(page.locator(f"#{rota.CALENDAR} table")).to_be_visible(timeout=WAIT_MS)
    page.goto(f"{server_url}/dashboard/import")
    expect(page.locator(f"#{importing.UPLOAD}")).to_be_visible(timeout=WAIT_MS)
    page.goto(f"{server_url}/dashboard/fleet")
    expect(page.locator(f"#{fleet.TABLE}")).to_contain_text("Quầy", timeout=WAIT_MS)
    page.close()
    assert errors == [], "\n".join(errors)
