"""The server process: the HTTP API over a `Runtime`, with MQTT ingest and a guarded dashboard.

The dashboard itself is not the server's: the program that assembles the server
(system/web.py) hands `create_app` a function that makes it, and the server mounts it at
/dashboard behind the login guard (server/web/login.py).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import ExitStack, asynccontextmanager
from typing import Any, NamedTuple

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi_typing import WSGIApp
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from server.access.roles import Forbidden
from server.broker.dynsec import BrokerAccounts
from server.runtime import Runtime
from server.settings import Settings
from server.web.api.alerts import alerts_api
from server.web.api.auth import auth_api
from server.web.api.deps import TOKEN_COOKIE, forbidden_response, validation_response
from server.web.api.devices import devices_api
from server.web.api.fleet import fleet_api
from server.web.api.importing import importing_api
from server.web.api.paper import paper_api
from server.web.api.qr_cards import qr_cards_api
from server.web.api.reports import reports_api
from server.web.api.rota import rota_api
from server.web.api.routes import api, router
from server.web.api.services import services_api
from server.web.api.signin import signin_api
from server.web.api.tokens import tokens_api
from server.web.citizen import citizen
from server.web.login import LOGIN_PATH, LoginRequired
from server.web.login import router as login_router
from server.web.machine import MachineGuard
from server.web.security import WebGuard
from server.web.transfer import add_transfer_middleware

log = logging.getLogger("hailong.server")
DASHBOARD_PATH = "/dashboard"


class MountedDashboard(NamedTuple):
    app: WSGIApp
    # the inline scripts its pages run, as CSP hashes ('sha256-…'), which the
    # Content-Security-Policy allows (server/web/security.py)
    script_hashes: Sequence[str] = ()


# Makes the dashboard over the server's runtime, served under the given path prefix.
Dashboard = Callable[[Runtime, str], MountedDashboard]


def create_app(
    settings: Settings | None = None,
    *,
    ingest: bool | None = None,
    dashboard: Dashboard | None = None,
) -> FastAPI:
    """`ingest=False` (or HAILONG_INGEST=false) serves the API alone: tests of routes, or an
    API process beside `hailong ingest` processes in a province. `dashboard` makes what is
    mounted at /dashboard, for logged-in users only; None: no dashboard."""
    runtime = Runtime.open(settings)
    settings = runtime.settings
    ingest = settings.ingest if ingest is None else ingest

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with runtime.running(), ExitStack() as ingesting:
            if ingest:
                app.state.ingest = ingesting.enter_context(runtime.ingesting())
            # What is alive once started (modules, models, the dashboard) is moved out of the
            # collector's sight: a province's yearly table otherwise spends half its time in
            # full collections rescanning it.
            gc.freeze()
            yield

    app = FastAPI(title="Hài Lòng", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = runtime.engine
    app.state.ingest = None
    app.state.accounts = BrokerAccounts.from_settings(settings)
    app.state.policy = runtime.policy  # the dashboard's too, so ranks and classes match
    app.state.ingest_rules = runtime.ingest_rules  # the server's own channels store with them
    app.add_exception_handler(Forbidden, forbidden_response)
    app.add_exception_handler(RequestValidationError, validation_response)
    app.include_router(router)
    app.include_router(auth_api)
    app.include_router(api)
    app.include_router(devices_api)
    app.include_router(reports_api)
    app.include_router(alerts_api)
    app.include_router(fleet_api)
    app.include_router(services_api)
    app.include_router(tokens_api)
    app.include_router(importing_api)
    app.include_router(paper_api)
    app.include_router(rota_api)
    app.include_router(qr_cards_api)
    app.include_router(citizen)
    app.include_router(signin_api)
    app.include_router(login_router)
    script_hashes: Sequence[str] = ()
    if dashboard is not None:
        prefix = f"{DASHBOARD_PATH}/"
        mounted = dashboard(runtime, prefix)
        script_hashes = mounted.script_hashes
        wsgi: Any = WSGIMiddleware(mounted.app)  # an ASGI app, typed otherwise
        app.mount(DASHBOARD_PATH, LoginRequired(wsgi, runtime.engine, settings.secret_key, prefix))
    add_transfer_middleware(app)
    app.add_middleware(MachineGuard, cookie=TOKEN_COOKIE)  # inside WebGuard: its headers too
    app.add_middleware(
        WebGuard,
        cookie=TOKEN_COOKIE,
        login_path=LOGIN_PATH,
        script_hashes=script_hashes,
        docs_paths=[path for path in (app.docs_url, app.redoc_url) if path],
    )
    return app
