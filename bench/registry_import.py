"""How fast a registry imports from one workbook: `python bench/registry_import.py [--quick]`.

The administrator's morning of issue 13: a district of 40 counters (1 unit, 8 fields, 40 officers,
40 devices and a month of alternating days, 80 rota rows) and, without --quick, a provincial
centre ten times that size. Each is timed as (a) the baseline, openpyxl merely reading every
cell of the same workbook, which no import can beat; (b) a dry run, every row checked; (c) the
first import, written to SQLite with the new devices' accounts made on a real Mosquitto started
here, as the API makes them; (d) the same file again, which must find every row unchanged. It
reports; it asserts nothing. The last line is key=value figures for scripts.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openpyxl import load_workbook  # noqa: E402
from sqlmodel import Session  # noqa: E402

from devtools.bench import mosquitto, print_figures, print_table, say, scratch, verdict  # noqa: E402
from devtools.import_workbook import registry_rows, xlsx_bytes  # noqa: E402
from server.access.roles import Access  # noqa: E402
from server.broker.dynsec import BrokerAccounts  # noqa: E402
from server.registry.importing import ImportReport, import_registry  # noqa: E402
from server.storage.db import make_engine, migrate  # noqa: E402

# "40 counters with their officers, devices and a month's rota import in seconds" (issue 13).
GOAL_DISTRICT_S = 5.0
ADMIN = Access("admin", "bench")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def read_every_cell(content: bytes) -> int:
    """The baseline: openpyxl reading every cell of the workbook, and nothing more."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    cells = sum(len(row) for ws in book.worksheets for row in ws.iter_rows(values_only=True))
    book.close()
    return cells


def changes(report: ImportReport) -> int:
    return sum(len(s.created) + len(s.updated) for s in report.sheets.values())


def run_size(folder: Path, counters: int, accounts: BrokerAccounts) -> dict:
    """The four timings for a registry of `counters` counters, in a database of its own."""
    content = xlsx_bytes(registry_rows(counters=counters))
    rows = 1 + 8 + counters * 5  # units, fields, counters, officers, devices, two rota rows each
    engine = make_engine(f"sqlite:///{folder / f'import-{counters}.db'}")
    migrate(engine)
    reports: dict[str, ImportReport] = {}

    def run(name: str, dry_run: bool) -> Callable[[], object]:
        def go() -> None:
            with Session(engine) as session:
                reports[name] = import_registry(
                    session,
                    content,
                    "bench.xlsx",
                    access=ADMIN,
                    put_accounts=accounts.put_devices,
                    dry_run=dry_run,
                )
            if reports[name].errors:
                raise SystemExit(f"the bench's workbook was refused: {reports[name].errors[:3]}")

        return go

    say(f"{counters} counters ({rows} rows): opening, checking, importing, importing again")
    figures = {
        "rows": rows,
        "open_s": timed(lambda: read_every_cell(content)),
        "dry_run_s": timed(run("dry", True)),
        "import_s": timed(run("first", False)),
        "again_s": timed(run("again", False)),
    }
    figures["written"] = changes(reports["first"])
    figures["changed_again"] = changes(reports["again"])
    engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the district only (< 1 min)")
    args = parser.parse_args(argv)
    sizes = [40] if args.quick else [40, 400]
    results: dict[int, dict] = {}
    with scratch() as folder, mosquitto(folder) as broker:
        accounts = BrokerAccounts(broker, broker)  # as the server's API makes them
        for counters in sizes:
            results[counters] = run_size(folder, counters, accounts)

    print_table(
        [
            "counters",
            "rows",
            "read cells (baseline) s",
            "dry run s",
            "import s",
            "again s",
            "changed again",
        ],
        [
            [
                str(n),
                str(r["rows"]),
                f"{r['open_s']:.2f}",
                f"{r['dry_run_s']:.2f}",
                f"{r['import_s']:.2f}",
                f"{r['again_s']:.2f}",
                str(r["changed_again"]),
            ]
            for n, r in results.items()
        ],
    )
    district = results[40]
    ok = district["import_s"] <= GOAL_DISTRICT_S and district["changed_again"] == 0
    print(
        f"district import {district['import_s']:.2f} s (goal <= {GOAL_DISTRICT_S:.0f} s), "
        f"second import changed {district['changed_again']} rows: {verdict(ok)}"
    )
    figures = {
        "district_read_s": f"{district['open_s']:.2f}",
        "district_dry_run_s": f"{district['dry_run_s']:.2f}",
        "district_import_s": f"{district['import_s']:.2f}",
        "district_again_s": f"{district['again_s']:.2f}",
        "district_changed_again": str(district["changed_again"]),
    }
    if 400 in results:
        figures["centre_import_s"] = f"{results[400]['import_s']:.2f}"
        figures["centre_again_s"] = f"{results[400]['again_s']:.2f}"
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
