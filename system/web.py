"""The server's web app with the Dash dashboard mounted: what `hailong server`, `up` and the
demo serve.

The server does not import the dashboard (the dashboard imports the server), so the two are put
together here, on top of both.
"""

from __future__ import annotations

from a2wsgi.wsgi_typing import WSGIApp
from fastapi import FastAPI

from dashboard.app import create_dash
from server.runtime import Runtime
from server.settings import Settings
from server.storage.db import session_scope
from server.web import app as web


def dashboard(runtime: Runtime, prefix: str) -> web.MountedDashboard:
    """The dashboard over the server's database, ranking and classifying by its policy, with
    the hashes of its inline scripts for the server's Content-Security-Policy."""
    made = create_dash(
        lambda: session_scope(runtime.engine),
        requests_pathname_prefix=prefix,
        policy=runtime.policy,
    )
    # Dash registers some inline scripts only while serving its first page: serve it once
    # here, so the hashes cover every inline script the page will carry.
    made.server.test_client().get(prefix)
    server: WSGIApp = made.server
    return web.MountedDashboard(server, tuple(made.csp_hashes()))


def create_app(settings: Settings | None = None, *, ingest: bool | None = None) -> FastAPI:
    """server.web.app.create_app with the dashboard at /dashboard."""
    return web.create_app(settings, ingest=ingest, dashboard=dashboard)
