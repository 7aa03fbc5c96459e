"""`python -m devtools.monthly_report_png docs/monthly-report.png`: the printed month of a demo
unit as the PDF draws it, its first and last pages side by side.

It seeds a temporary SQLite database with the dashboard's demo (`devtools/dashboard_demo.py`),
makes the last complete month's PDF through the same service the API calls, and rasterises it
with poppler's `pdftoppm` (package poppler-utils), so the picture in docs/ is the real document,
letterhead to signature, never one staged by hand.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from dashboard import review_period
from devtools.dashboard_demo import OFFICERS, demo_engine
from server.policy.file import load_policy
from server.reporting import monthly, monthly_pdf
from server.storage.db import session_scope
from server.timeutil import vn_day

DPI = 80
GAP = 24  # pixels between the pages


def pdf_of(unit_id: str, now: datetime) -> bytes:
    """The demo unit's last complete month as the API's PDF."""
    with demo_engine(now, 70) as engine, session_scope(engine) as session:  # the month and before
        page = monthly.export(
            session,
            unit_id,
            review_period.last_complete_month(vn_day(now)),
            load_policy(None),
            actor="phongnoivu",
            role="hr",
            client="devtools",
            fmt="pdf",
        )
    return monthly_pdf.pdf_bytes(page)


def png_of(pdf: bytes, path: Path) -> None:
    """The first and last pages of `pdf` side by side in one PNG at `path`."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="hailong-pages-") as tmp:
        source = Path(tmp) / "month.pdf"
        source.write_bytes(pdf)
        subprocess.run([pdftoppm, "-r", str(DPI), "-png", str(source), f"{tmp}/page"], check=True)
        files = sorted(Path(tmp).glob("page-*.png"))
        pages = [Image.open(files[0]), *([Image.open(files[-1])] if len(files) > 1 else [])]
        width = sum(p.width for p in pages) + GAP * (len(pages) - 1)
        sheet = Image.new("RGB", (width, max(p.height for p in pages)), "#94a3b8")
        x = 0
        for p in pages:
            sheet.paste(p, (x, 0))
            x += p.width + GAP
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.monthly_report_png", description=__doc__
    )
    parser.add_argument("output", type=Path, help="where to write the PNG: docs/monthly-report.png")
    parser.add_argument(
        "--unit", default=OFFICERS[-1].unit_id, help="the demo unit (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    png_of(pdf_of(args.unit, datetime.now(UTC)), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
