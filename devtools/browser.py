"""Run the dashboard as the server mounts it and look at it in Debian's Chromium.

Shared by the browser tests and `python -m devtools.dashboard_screenshot`, so the Chromium flags
(root, no network, no downloads: see PITFALLS.md) and the mount are written once. Playwright gives
each launch a fresh temporary profile, which is the fresh `--user-data-dir` Chromium needs.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from a2wsgi import WSGIMiddleware
from dash import Dash
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from dashboard.pages import satisfaction
from server.access.roles import ACCESS_KEY, Access

CHROMIUM = os.environ.get("HAILONG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
MOUNT = "/dashboard"
WAIT_MS = 90_000  # a loaded 2-core machine can take long to start Chromium and plotly.js


def launch_chromium(playwright: Playwright) -> Browser:
    """The system Chromium (HAILONG_CHROMIUM overrides the path); never a downloaded build."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


@contextmanager
def chromium() -> Iterator[Browser]:
    """A launched system Chromium for the block, with its Playwright."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def photograph(
    prog: str,
    description: str | None,
    take: Callable[[Browser, Path], list[Path]],
    argv: list[str] | None,
) -> int:
    """A screenshot script's command line: `python -m <prog> FOLDER` runs `take` in a launched
    Chromium and prints the files it wrote."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    parser.add_argument("folder", type=Path, help="where to write the PNGs: docs")
    folder = parser.parse_args(argv).folder
    with chromium() as browser:
        for path in take(browser, folder):
            print(path)
    return 0


def mounted(dash_app: Dash, access: Access, prefix: str = MOUNT) -> Starlette:
    """The Dash app's Flask server inside an ASGI app, as the FastAPI server mounts it, seen by
    `access` as if it had logged in (the server's login guard puts the user where this does)."""
    wsgi = WSGIMiddleware(dash_app.server)

    async def as_user(scope: Scope, receive: Receive, send: Send) -> None:
        await wsgi({**scope, ACCESS_KEY: access}, receive, send)  # type: ignore[arg-type]

    return Starlette(routes=[Mount(prefix, app=as_user)])


@contextmanager
def serve(asgi_app: Starlette, timeout_s: float = 60) -> Iterator[str]:
    """Serve on a free loopback port in a background thread; yields the base URL.

    The socket is bound before uvicorn starts, so no other process can take the port between
    choosing it and listening on it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(asgi_app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start on port {port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)
        sock.close()


def console_errors(page: Page) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions from now on."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


WIDER_THAN_WINDOW = """() => {
    const page = document.scrollingElement;
    if (page.scrollWidth <= page.clientWidth) return [];
    const found = [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > page.clientWidth + 1)
        .filter((e) => !e.closest(".ag-root-wrapper, .scroll-box"))  // scroll in their box
        .map((e) => `${e.tagName}.${e.className}`);
    return found.length ? found : [`the page, ${page.scrollWidth} px wide`];
}"""


def wider_than_window(page: Page) -> list[str]:
    """What makes the page scroll sideways (document.scrollingElement wider than the window;
    a table or calendar scrolling inside its own box does not); [] when nothing does."""
    found: list[str] = page.evaluate(WIDER_THAN_WINDOW)
    return found


def settled(page: Page) -> None:
    """Wait until the page's content is drawn and no callback is running or pending."""
    expect(page.locator("#_pages_content")).not_to_be_empty(timeout=WAIT_MS)
    page.wait_for_load_state("networkidle", timeout=WAIT_MS)
    expect(page.locator("[data-dash-is-loading='true']")).to_have_count(0, timeout=WAIT_MS)


def wait_for_satisfaction_page(page: Page, name: str) -> None:
    """Wait until the report's table shows `name` and the chart has drawn its traces."""
    expect(page.locator(f"#{satisfaction.TABLE}")).to_contain_text(name, timeout=WAIT_MS)
    expect(page.locator(f"#{satisfaction.CHART} .barlayer .trace").first).to_be_attached(
        timeout=WAIT_MS
    )
    expect(page.locator(f"#{satisfaction.CHART} .scatterlayer .trace")).to_have_count(
        2, timeout=WAIT_MS
    )
