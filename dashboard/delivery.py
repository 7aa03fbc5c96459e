"""How the dashboard's files reach a browser: the small Plotly bundle, and how long each answer
may be kept.

The issue measured 5.6 MB on every first load, 4.8 MB of it the full plotly.js that dcc.Graph
fetches. Our charts are bars, lines and heatmaps: the cartesian partial bundle draws them
(dashboard/vendor/README.md), and dcc.Graph uses `window.Plotly` when a page already has it, so
adding that bundle to every page means the full one is never asked for.

Cache headers, set here because only Dash knows which of its URLs carry a fingerprint:
- /_dash-component-suites/ files whose name carries the package version and the file's mtime
  (dash.fingerprint), and /assets/ files asked for with the `?m=<mtime>` Dash writes into its
  pages are the same for every user and change URL when they change: kept for a year.
- The same files without a fingerprint, and the favicon: kept, but asked again each time
  (no-cache; Flask answers 304 while they have not changed).
- Everything else (the page, its layout and callbacks' JSON, any error) depends on who is
  logged in: never stored (no-store), neither by the browser nor by a proxy.
The server compresses all of them (server/web/transfer.py); the fingerprinted library files are
compressed here, once each.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from dash import Dash
from dash.fingerprint import check_fingerprint
from flask import Response, request
from werkzeug.datastructures import Accept

from dashboard import vendor

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NO_STORE = "no-store"
SUITES = "/_dash-component-suites/"
ASSETS = "/assets/"
FAVICON = "/_favicon.ico"
MIN_GZIP_BYTES = 1024


def lighten(app: Dash) -> None:
    """Serve the cartesian Plotly bundle with every page, before Dash's components, and set
    every answer's Cache-Control."""
    app.scripts.append_script(
        {"relative_package_path": vendor.PLOTLY_BUNDLE, "namespace": vendor.__name__}
    )
    assets = Path(app.config.assets_folder)
    compressed = CompressedOnce()

    @app.server.after_request
    def cache_headers(response: Response) -> Response:
        control = cache_control(request.path, request.args, response.status_code, assets)
        response.headers["Cache-Control"] = control
        if control == IMMUTABLE and request.path.startswith(SUITES):
            compressed.apply(request.path, request.accept_encodings, response)
        return response


class CompressedOnce:
    """A fingerprinted library file gzipped once, not on every first visit: compressing the
    largest two took the server over a second on a loaded machine (bench/dashboard.py). The
    server's gzip (server/web/transfer.py) leaves an answer already encoded alone. Bounded, as
    a crafted URL can carry any fingerprint."""

    def __init__(self, most: int = 32) -> None:
        self.most = most
        self.done: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def apply(self, key: str, accepted: Accept, response: Response) -> None:
        response.vary.add("Accept-Encoding")
        if response.status_code != 200 or response.direct_passthrough:
            return
        if not accepted["gzip"] or len(response.get_data()) < MIN_GZIP_BYTES:
            return
        with self.lock:  # the server answers from several threads
            body = self.done.get(key)
            if body is None:
                body = gzip.compress(response.get_data(), compresslevel=9, mtime=0)
                self.done[key] = body
                if len(self.done) > self.most:
                    self.done.popitem(last=False)
            self.done.move_to_end(key)
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"


def cache_control(path: str, query: Mapping[str, str], status: int, assets: Path) -> str:
    """The Cache-Control of an answer to `path` (as the Dash app sees it, below the mount)."""
    if status not in (200, 304):
        return NO_STORE
    if path.startswith(SUITES):
        _, fingerprinted = check_fingerprint(path)
        return IMMUTABLE if fingerprinted else REVALIDATE
    if path.startswith(ASSETS):
        name = path.removeprefix(ASSETS)
        return IMMUTABLE if query.get("m") == _mtime(assets, name) else REVALIDATE
    if path == FAVICON:
        return REVALIDATE
    return NO_STORE


def _mtime(assets: Path, name: str) -> str | None:
    """The `m` Dash writes after an asset's URL (its mtime, as Python prints it), None if no
    such file."""
    file = (assets / name).resolve()
    if not file.is_relative_to(assets.resolve()) or not file.is_file():
        return None
    return str(os.stat(file).st_mtime)
