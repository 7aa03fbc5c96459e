"""`python -m devtools.paper_screenshot docs`: the paper forms page (docs/paper-upload.png) as
hr sees it after entering three forms and uploading the same file again: the refused rows in
the error grid and the batch in the list below, at 1440×900.

Like the registry screenshots, it seeds a temporary SQLite database (the demo registry), serves
the dashboard mounted as in production and drives the page in Chromium, so the picture is never
staged. `paper_workbook` and `upload` are the tests' too.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from playwright.sync_api import Browser, FilePayload, Page, expect

from dashboard.pages import paper
from devtools.browser import WAIT_MS, photograph
from devtools.registry_screenshots import VIEWPORT, demo_dashboard
from server.access.roles import Access
from server.channels.paper_sheet import PHIEU
from server.ingest.store import IngestRules
from server.registry.importing.template import write_header
from server.timeutil import vn_day

HR = Access("hr", "phongnoivu", full_name="Trần Thị Thu Hà")
PICTURE = "paper-upload.png"


def paper_workbook(rows: Sequence[Sequence[Any]], template: bytes | None = None) -> bytes:
    """The forms typed from row 3 into the `phieu` sheet of `template` (the downloaded one), or
    of a workbook laid out as it is: headers, ids, forms."""
    if template is not None:
        book = load_workbook(io.BytesIO(template))
        ws = book[PHIEU.id]
    else:
        book = Workbook()
        ws = book.active
        assert ws is not None
        ws.title = PHIEU.id
        write_header(ws, PHIEU, 1)
    for number, values in enumerate(rows, 3):
        for index, value in enumerate(values, 1):
            ws.cell(number, index, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def demo_forms(now: datetime) -> list[list[Any]]:
    """Three forms of the demo's Phường Sài Gòn from the last three days."""
    day = vn_day(now)
    dates = [(day - timedelta(days=k)).strftime("%d/%m/%Y") for k in (3, 2, 1)]
    return [
        ["PKS-0153", "Q1-MOTCUA", "Q-01", None, "CB-0001", dates[0], 3, None, None],
        [
            "PKS-0154",
            "Q1-MOTCUA",
            "Q-02",
            None,
            None,
            dates[1],
            1,
            "wait_time; Hướng dẫn chưa rõ",
            "Chờ gần một giờ",
        ],
        ["PKS-0155", "Q1-MOTCUA", None, "tu-phap", None, dates[2], "Hài lòng", None, None],
    ]


def upload(page: Page, content: bytes, name: str, button: str) -> None:
    """Choose the file on the page and press `button` (paper.CHECK or paper.RUN)."""
    payload: FilePayload = {"name": name, "mimeType": "application/octet-stream", "buffer": content}
    page.set_input_files(f"#{paper.UPLOAD} input[type=file]", files=[payload])
    expect(page.locator(f"#{paper.FILE_NAME}")).to_contain_text(name, timeout=WAIT_MS)
    page.click(f"#{button}")


def take(browser: Browser, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rules = IngestRules(chain_key=secrets.token_bytes(32))
    content = paper_workbook(demo_forms(datetime.now(UTC)))
    with demo_dashboard(HR, ingest_rules=rules) as base:
        page = browser.new_page(viewport=VIEWPORT)
        try:
            page.goto(f"{base}/paper")
            upload(page, content, "phieu-thang-12.xlsx", paper.RUN)
            message = page.locator(f"#{paper.MESSAGE}")
            expect(message).to_contain_text("Đã nhập 3 phiếu", timeout=WAIT_MS)
            upload(page, content, "phieu-thang-12.xlsx", paper.CHECK)
            expect(message).to_contain_text("3 lỗi", timeout=WAIT_MS)
            expect(page.locator(f"#{paper.ERRORS}")).to_contain_text("PKS-0155", timeout=WAIT_MS)
            path = folder / PICTURE
            page.screenshot(path=path, full_page=True)
        finally:
            page.close()
    return [path]


def main(argv: list[str] | None = None) -> int:
    return photograph("devtools.paper_screenshot", __doc__, take, argv)


if __name__ == "__main__":
    raise SystemExit(main())
