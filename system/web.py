"""The server's web app with the Dash dashboard mounted: what `hailong server`, `up` and the
demo serve.

The server does not import the dashboard (the dashboard imports the server), so the two are put
together here, on top of both.
"""

from __future__ import annotations

from a2wsgi.wsgi_typing import WSGIApp
from fastapi import FastAPI

from dashboard.app import create_dash
from dashboard.sources import DeviceAccounts
from server.runtime import Runtime
from server.settings import Settings
from server.storage.db import session_scope
from server.web import app as web


class ServerHooks:
    """What the dashboard's registry writes need of the server app, read when a write happens:
    the broker accounts the API uses (`app.state.accounts`, which tests may replace) and the
    ingest that the app's lifespan starts, whose units' Configs a write refreshes."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    def accounts(self) -> DeviceAccounts | None:
        return getattr(self.app.state, "accounts", None) if self.app else None

    def registry_changed(self) -> None:
        ingest = getattr(self.app.state, "ingest", None) if self.app else None
        if ingest is not None:
            ingest.request_config_refresh()


def dashboard(runtime: Runtime, prefix: str, hooks: ServerHooks) -> web.MountedDashboard:
    """The dashboard over the server's database, ranking and classifying by its policy, with
    the hashes of its inline scripts for the server's Content-Security-Policy."""
    made = create_dash(
        lambda: session_scope(runtime.engine),
        requests_pathname_prefix=prefix,
        policy=runtime.policy,
        accounts=hooks.accounts,
        registry_changed=hooks.registry_changed,
        alert_webhook=bool(runtime.settings.alert_webhook_url),
        ingest_rules=runtime.ingest_rules,
        credential_secret=runtime.settings.secret_key,
    )
    # Dash registers some inline scripts only while serving its first page: serve it once
    # here, so the hashes cover every inline script the page will carry.
    made.server.test_client().get(prefix)
    server: WSGIApp = made.server
    return web.MountedDashboard(server, tuple(made.csp_hashes()))


def create_app(settings: Settings | None = None, *, ingest: bool | None = None) -> FastAPI:
    """server.web.app.create_app with the dashboard at /dashboard."""
    hooks = ServerHooks()
    app = web.create_app(
        settings, ingest=ingest, dashboard=lambda runtime, prefix: dashboard(runtime, prefix, hooks)
    )
    hooks.app = app
    return app
