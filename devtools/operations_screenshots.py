"""`python -m devtools.operations_screenshots docs`: the rota, import and fleet pages on the demo
registry, as an admin sees them at 1440×900: docs/registry-rota.png, docs/registry-import.png
and docs/fleet.png.

The registry screenshots' demo registry (`devtools.registry_screenshots.seed`) gets one more
counter with two officers alternating days on a rota, a one-off afternoon and a day of leave;
the import page is shown after checking a workbook made from the import's own template. Nothing
is staged by hand.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Browser, FilePayload, Page, expect

from dashboard.app import create_dash
from dashboard.pages import fleet, importing, rota
from devtools.browser import WAIT_MS, chromium, mounted, serve
from devtools.dashboard_demo import UNITS
from devtools.registry_screenshots import ADMIN, VIEWPORT, seed
from server.registry.importing import template_workbook
from server.registry.importing.sheets import SHEETS
from server.registry.rota_writes import add_absence, put_rota
from server.storage.db import make_engine, session_scope
from server.storage.models import Assignment, Counter, Officer
from server.storage.schedule import AbsenceCreate, RotaCreate
from server.timeutil import VN_TZ, vn_day, vn_day_start

UNIT = "Q1-MOTCUA"
COUNTER = ("Q-07", "Quầy số 7")
PAIR = (("CB-0007", "Võ Thị Lan"), ("CB-0008", "Bùi Văn Nam"))
FILES = {"rota": "registry-rota.png", "import": "registry-import.png", "fleet": "fleet.png"}


def seed_rota(engine_url: str, now: datetime) -> None:
    """A counter two officers share on alternate days this month, 07:30-17:00, and one
    afternoon the second takes over from the first; the first is on leave on the 21st."""
    engine = make_engine(engine_url)
    first = vn_day(now).replace(day=1)
    with session_scope(engine) as session:
        session.add(Counter(id=COUNTER[0], name=COUNTER[1], unit_id=UNIT))
        session.add_all(Officer(id=o, name=n, unit_id=UNIT, title="Công chức") for o, n in PAIR)
        session.commit()
        for offset, (officer_id, _) in enumerate(PAIR):
            row = {"counter_id": COUNTER[0], "officer_id": officer_id, "every": 2}
            row |= {"from": first + timedelta(days=offset), "start": "07:30", "end": "17:00"}
            put_rota(session, RotaCreate.model_validate(row))
        start = datetime.combine(first + timedelta(days=14), datetime.min.time(), VN_TZ)
        session.add(
            Assignment(
                officer_id=PAIR[1][0],
                counter_id=COUNTER[0],
                start=(start + timedelta(hours=13)).astimezone(UTC),
                end=(start + timedelta(hours=17)).astimezone(UTC),
            )
        )
        session.commit()
        leave = vn_day_start(first + timedelta(days=20))
        add_absence(
            session,
            AbsenceCreate(
                officer_id=PAIR[0][0], start=leave, end=leave + timedelta(days=1), note="Nghỉ phép"
            ),
        )
    engine.dispose()


def filled_template(rows: dict[str, Sequence[dict[str, Any]]]) -> bytes:
    """The import's own template with `rows` under each sheet's column ids (from row 3)."""
    book = load_workbook(io.BytesIO(template_workbook()))
    for sheet_id, sheet_rows in rows.items():
        ws = book[sheet_id]
        for r, values in enumerate(sheet_rows, 3):
            for c, column in enumerate(SHEETS[sheet_id].column_ids, 1):
                ws.cell(r, c, values.get(column))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def demo_import(now: datetime) -> bytes:
    """Two new officers sharing a new counter from next month: what a district sends."""
    month = (vn_day(now).replace(day=1) + timedelta(days=32)).replace(day=1)
    officers = [("CB-0009", "Ngô Thị Hạnh"), ("CB-0010", "Đinh Văn Tùng")]
    return filled_template(
        {
            "counters": [{"id": "Q-08", "name": "Quầy số 8", "unit_id": UNIT}],
            "officers": [{"id": o, "name": n, "unit_id": UNIT} for o, n in officers],
            "rota": [
                {
                    "counter_id": "Q-08",
                    "officer_id": o,
                    "from": (month + timedelta(days=i)).isoformat(),
                    "every": 2,
                    "start": "07:30",
                    "end": "17:00",
                }
                for i, (o, _) in enumerate(officers)
            ],
        }
    )


def _choose(page: Page, dropdown: str, option: str) -> None:
    page.locator(f"#{dropdown}").click()
    page.get_by_role("option", name=option).click()


def photograph_rota(page: Page, base: str, out: Path) -> None:
    page.goto(f"{base}/dashboard/rota")
    _choose(page, rota.UNIT, UNITS[UNIT])
    _choose(page, rota.COUNTER, f"{COUNTER[1]} ({COUNTER[0]})")
    expect(page.locator(f"#{rota.CALENDAR}")).to_contain_text(PAIR[0][1], timeout=WAIT_MS)
    page.screenshot(path=out, full_page=True)


def upload(page: Page, name: str, content: bytes) -> None:
    """Choose a file in the import page's upload box, as a user's file dialog would."""
    payload = FilePayload(name=name, mimeType="application/octet-stream", buffer=content)
    page.locator(f"#{importing.UPLOAD} input[type=file]").set_input_files(files=payload)


def photograph_import(page: Page, base: str, out: Path, content: bytes) -> None:
    page.goto(f"{base}/dashboard/import")
    upload(page, "dang-ky-q1.xlsx", content)
    expect(page.locator(f"#{importing.FILE_NAME}")).to_contain_text("dang-ky-q1", timeout=WAIT_MS)
    page.locator(f"#{importing.CHECK}").click()
    expect(page.locator(f"#{importing.SUMMARY}")).to_contain_text("Tệp hợp lệ", timeout=WAIT_MS)
    page.screenshot(path=out, full_page=True)


def photograph_fleet(page: Page, base: str, out: Path) -> None:
    page.goto(f"{base}/dashboard/fleet")
    expect(page.locator(f"#{fleet.TABLE}")).to_contain_text("HL-01", timeout=WAIT_MS)
    page.screenshot(path=out, full_page=True)


def take_screens(browser: Browser, out_dir: Path, now: datetime | None = None) -> list[Path]:
    """Seed the demo registry up to `now` and photograph the three pages into `out_dir`."""
    moment = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / file for name, file in FILES.items()}
    with tempfile.TemporaryDirectory(prefix="hailong-screens-") as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        seed(url, moment)
        seed_rota(url, moment)
        engine = make_engine(url)
        try:
            app = create_dash(lambda: session_scope(engine), today=lambda: vn_day(moment))
            with serve(mounted(app, ADMIN)) as base:
                page = browser.new_page(viewport=VIEWPORT)
                try:
                    photograph_rota(page, base, paths["rota"])
                    photograph_import(page, base, paths["import"], demo_import(moment))
                    photograph_fleet(page, base, paths["fleet"])
                finally:
                    page.close()
        finally:
            engine.dispose()
    return list(paths.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.operations_screenshots", description=__doc__
    )
    parser.add_argument("folder", type=Path, help="where to write the PNGs: docs")
    folder = parser.parse_args(argv).folder
    with chromium() as browser:
        take_screens(browser, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
