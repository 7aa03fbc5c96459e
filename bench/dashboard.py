"""How fast and how heavy the review page opens over a province's year: `python bench/dashboard.py`.

The data set is bench/reports.py's (10,000,000 ratings from 2,000 officers in 100 communes over
2025; `--quick`: 200,000 from 200) on SQLite, built once under .cache/bench/ and shared with that
bench (a first full build takes about 11 min). This bench adds a login `bench-hr` to it and, the
first time, seals its ratings into the integrity chain as a server's first start would (the key
stays beside the database). The server runs as `hailong server` runs it (system/web.py under
uvicorn, a process of its own, without ingest). Debian's Chromium, headless at 1440x900, logs in
as HR; then each run, in a fresh context (an empty cache, as a first visit), opens the review page
of December 2025 and switches it from officers to units. Measured:

- first paint: from navigating to the review's figures drawn (the chart's traces) with no
  callback pending; goal <= 1.5 s;
- filter change: from the click on "Đơn vị · Units" to the table redrawn with no callback
  pending; goal <= 0.5 s;
- bytes transferred by the first load (Chromium's count of what crossed the wire); goal
  <= 1.5 MB; and by a second visit, which the cache headers should make almost nothing.

The baseline is measured against the same server in the same run, alternating with the measured
runs: the page as it was before (no compression, the full plotly.js: devtools/first_load.py
`as_before`). On loopback the network costs nothing, so the table also shows how long the first
load's bytes alone take on the issue's 1.6 Mbit/s office line. It reports; it asserts nothing.
Progress goes to stderr; the last line is key=value figures for scripts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.reports import (  # noqa: E402
    FULL,
    QUICK,
    YEAR,
    Plan,
    Progress,
    cache_dir,
    make_plan,
    sqlite_data_set,
)
from dashboard.pages import satisfaction  # noqa: E402
from devtools.bench import print_figures, print_table, say, verdict  # noqa: E402
from devtools.browser import WAIT_MS, chromium  # noqa: E402
from devtools.first_load import fresh_context, logged_in, watch  # noqa: E402
from hailong.net import free_port, port_open  # noqa: E402
from server.access.auth import add_user  # noqa: E402
from server.integrity.write import prepare  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage.db import make_engine  # noqa: E402

GOAL_FIRST_PAINT_MS = 1500.0
GOAL_FILTER_MS = 500.0
GOAL_FIRST_LOAD_KB = 1500.0
SLOW_LINE_BIT_S = 1.6e6  # the office line
USER, PASSWORD = "bench-hr", "bench-hr-password"
PERIOD = f"{YEAR}-12"
VIEWPORT = {"width": 1440, "height": 900}
START_S = 120.0

# The review's figures are drawn and Dash has no callback in flight (it shows
# ._dash-loading-callback while one is): the time since navigation, else false.
PAINTED = """() => document.querySelector('.js-plotly-plot .trace') !== null
    && document.querySelector('._dash-loading-callback') === null && performance.now()"""
# Click the scope (in the page, so the time starts at the click itself), then wait for a new table.
CLICK = "([sel]) => { window.benchClick = performance.now(); document.querySelector(sel).click(); }"
REDRAWN = """([table, before]) => {
    const shown = document.querySelector(table);
    return shown !== null && shown.innerText !== before
        && document.querySelector('._dash-loading-callback') === null
        && performance.now() - window.benchClick; }"""


@dataclass
class Side:
    """The runs of one way of serving the page: lightened, or as before."""

    name: str
    first_paint_ms: list[float] = field(default_factory=list)
    filter_ms: list[float] = field(default_factory=list)
    first_load_kb: list[float] = field(default_factory=list)
    filter_kb: list[float] = field(default_factory=list)
    second_visit_kb: list[float] = field(default_factory=list)
    largest: list[tuple[int, str]] = field(default_factory=list)


@contextmanager
def server(database: Path, data_dir: Path) -> Iterator[str]:
    """`hailong server`'s app over the database, without ingest, in a process of its own; its
    log (which complains of the broker this bench does not start) goes to data_dir/server.log."""
    port = free_port()
    env = {
        **os.environ,
        "HAILONG_DATABASE_URL": f"sqlite:///{database}",
        "HAILONG_DATA_DIR": str(data_dir),
        "HAILONG_SECRET_KEY": "bench-" * 8,
        "HAILONG_INGEST": "false",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "system.web:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    log = data_dir / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            deadline = time.monotonic() + START_S
            while not port_open("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start on port {port}: see {log}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(30)


def first_load(page: Page, url: str) -> float:
    """Open `url`; milliseconds from navigating to the figures drawn."""
    page.goto(url, wait_until="commit")
    return float(page.wait_for_function(PAINTED, polling="raf", timeout=WAIT_MS).json_value())


def change_filter(page: Page) -> float:
    """Switch the review from officers to units; milliseconds from the click to the new table."""
    table = f"#{satisfaction.TABLE}"
    before = page.inner_text(table)
    page.evaluate(CLICK, [f"#{satisfaction.SCOPE} input[value='unit']"])
    done = page.wait_for_function(REDRAWN, arg=[table, before], polling="raf", timeout=WAIT_MS)
    return float(done.json_value())


def run(browser: Browser, login: dict[str, object], base: str, side: Side) -> None:
    """One first visit, its filter change and a second visit, in a fresh context."""
    as_before = side.name == "before"
    context = fresh_context(browser, login, viewport=VIEWPORT)
    try:
        page = context.new_page()
        seen = watch(page, as_before=as_before)
        url = f"{base}/dashboard/?period={PERIOD}"
        side.first_paint_ms.append(first_load(page, url))
        page.wait_for_load_state("networkidle")
        loaded = seen.total
        side.first_load_kb.append(loaded / 1000)
        side.largest = seen.largest()
        side.filter_ms.append(change_filter(page))
        page.wait_for_load_state("networkidle")
        side.filter_kb.append((seen.total - loaded) / 1000)
        page.close()
        page = context.new_page()
        again = watch(page, as_before=as_before)
        first_load(page, url)
        page.wait_for_load_state("networkidle")
        side.second_visit_kb.append(again.total / 1000)
    finally:
        context.close()


def table(now: Side, before: Side) -> list[tuple[str, ...]]:
    m = statistics.median

    def slow_s(kb: float) -> str:
        return f"{kb * 1000 * 8 / SLOW_LINE_BIT_S:,.1f} s"

    return [
        ("first paint, median / max",
         f"{m(now.first_paint_ms):,.0f} / {max(now.first_paint_ms):,.0f} ms "
         f"{verdict(max(now.first_paint_ms) <= GOAL_FIRST_PAINT_MS)}",
         f"{m(before.first_paint_ms):,.0f} / {max(before.first_paint_ms):,.0f} ms",
         f"<= {GOAL_FIRST_PAINT_MS:,.0f} ms"),
        ("filter change (officers -> units), median / max",
         f"{m(now.filter_ms):,.0f} / {max(now.filter_ms):,.0f} ms "
         f"{verdict(max(now.filter_ms) <= GOAL_FILTER_MS)}",
         f"{m(before.filter_ms):,.0f} / {max(before.filter_ms):,.0f} ms",
         f"<= {GOAL_FILTER_MS:,.0f} ms"),
        ("first load, transferred",
         f"{m(now.first_load_kb):,.0f} kB {verdict(m(now.first_load_kb) <= GOAL_FIRST_LOAD_KB)}",
         f"{m(before.first_load_kb):,.0f} kB", f"<= {GOAL_FIRST_LOAD_KB:,.0f} kB"),
        ("  its bytes alone at 1.6 Mbit/s", slow_s(m(now.first_load_kb)),
         slow_s(m(before.first_load_kb)), ""),
        ("  largest file", f"{now.largest[0][0] / 1000:,.0f} kB {short(now.largest[0][1])}",
         f"{before.largest[0][0] / 1000:,.0f} kB {short(before.largest[0][1])}", ""),
        ("filter change, transferred", f"{m(now.filter_kb):,.1f} kB",
         f"{m(before.filter_kb):,.1f} kB", ""),
        ("second visit, transferred", f"{m(now.second_visit_kb):,.1f} kB",
         f"{m(before.second_visit_kb):,.1f} kB", ""),
        (f"machine load ({os.cpu_count()} CPUs)", f"{os.getloadavg()[0]:.1f}", "", ""),
    ]  # fmt: skip


def short(url: str) -> str:
    return url.split("?")[0].rsplit("/", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 ratings, 200 officers")
    parser.add_argument("--runs", type=int, help="first visits of each side (default 5; 2 quick)")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    runs = args.runs or (2 if args.quick else 5)

    def plan() -> Plan:
        say(f"planning {size.ratings:,} ratings for {size.officers:,} officers in {YEAR}")
        return make_plan(size)

    folder = cache_dir(size)
    database, _, _ = sqlite_data_set(folder, plan)
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        add_user(session, USER, PASSWORD, "hr")
    # The server's first start over the data set seals its ratings into the integrity chain,
    # minutes over 10 M: done here, with progress, so that the server then starts at once.
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=folder)
    shown: list[Progress] = []

    def sealing(done: int, total: int) -> None:
        if not shown:
            shown.append(Progress("sealing", total, "ratings into the chain"))
        shown[0](done, final=done == total)

    prepare(engine, settings, sealing)
    engine.dispose()
    now, before = Side("now"), Side("before")
    # The server's data folder is the data set's: the rating chain it starts on the first run
    # needs its key on the next.
    with server(database, folder) as base, chromium() as browser:
        say(f"server at {base}; logging in as {USER}")
        login = logged_in(browser, base, USER, PASSWORD)
        first_load_warm_up(browser, login, base)
        for i in range(runs):
            for side in (now, before) if i % 2 == 0 else (before, now):  # neither always first
                say(f"run {i + 1}/{runs}: {side.name}")
                run(browser, login, base, side)
    print_table(("figure", "now", "before (baseline)", "goal"), table(now, before))
    print_figures(
        {
            "first_paint_ms": f"{statistics.median(now.first_paint_ms):.0f}",
            "filter_ms": f"{statistics.median(now.filter_ms):.0f}",
            "first_load_kb": f"{statistics.median(now.first_load_kb):.0f}",
            "second_visit_kb": f"{statistics.median(now.second_visit_kb):.1f}",
            "baseline_first_paint_ms": f"{statistics.median(before.first_paint_ms):.0f}",
            "baseline_filter_ms": f"{statistics.median(before.filter_ms):.0f}",
            "baseline_first_load_kb": f"{statistics.median(before.first_load_kb):.0f}",
            "ratings": str(size.ratings),
            "officers": str(size.officers),
        }
    )
    return 0


def first_load_warm_up(browser: Browser, login: dict[str, object], base: str) -> None:
    """One unmeasured visit, so that neither side pays for the server's first queries."""
    say("warming up the server")
    run(browser, login, base, Side("warm-up"))


if __name__ == "__main__":
    sys.exit(main())
