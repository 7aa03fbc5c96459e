"""The server process: database, MQTT ingest, HTTP API and the mounted dashboard."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Engine

from server.access.roles import Forbidden
from server.broker.dynsec import BrokerAccounts
from server.housekeeping import housekeeping_jobs
from server.ingest.service import IngestService
from server.integrity.anchors import Outside
from server.integrity.write import prepare
from server.jobs import Jobs
from server.policy import load_policy
from server.settings import Settings
from server.storage.db import make_engine, migrate, session_scope
from server.web.api.alerts import alerts_api
from server.web.api.deps import forbidden_response, validation_response
from server.web.api.reports import reports_api
from server.web.api.routes import api, router
from server.web.api.services import services_api
from server.web.login import LoginRequired
from server.web.login import router as login_router

log = logging.getLogger("hailong.server")
DASHBOARD_PATH = "/dashboard"


def _mount_dashboard(app: FastAPI, engine: Engine, settings: Settings) -> None:
    from dashboard.app import create_dash

    dash_app = create_dash(
        lambda: session_scope(engine),
        requests_pathname_prefix=f"{DASHBOARD_PATH}/",
        policy=app.state.policy,  # the API's, so ranks and classes match it
    )
    wsgi: Any = WSGIMiddleware(dash_app.server)
    app.mount(
        DASHBOARD_PATH, LoginRequired(wsgi, engine, settings.secret_key, f"{DASHBOARD_PATH}/")
    )


def create_app(settings: Settings | None = None, *, ingest: bool | None = None) -> FastAPI:
    """`ingest=False` (or HAILONG_INGEST=false) serves the API alone: tests of routes, or an
    API process beside `hailong ingest` processes in a province."""
    settings = settings or Settings()
    ingest = settings.ingest if ingest is None else ingest
    engine = make_engine(settings.database_url)
    migrate(engine)
    chain_key = prepare(engine, settings)
    outside = Outside.from_settings(settings, chain_key)  # the chain heads at each stop

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = None
        jobs = Jobs(engine, housekeeping_jobs(settings, chain_key, outside)).start()
        if ingest:
            service = IngestService.from_settings(engine, settings).start()
            app.state.ingest = service
        # What is alive once started (modules, models, the dashboard) is moved out of the
        # collector's sight: a province's yearly table otherwise spends half its time in
        # full collections rescanning it.
        gc.freeze()
        try:
            yield
        finally:
            if service is not None:
                service.stop()
            jobs.stop()
            outside.at_stop(engine)
            engine.dispose()

    app = FastAPI(title="Hài Lòng", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.ingest = None
    app.state.accounts = BrokerAccounts.from_settings(settings)
    app.state.policy = load_policy(settings.policy_file)
    app.add_exception_handler(Forbidden, forbidden_response)
    app.add_exception_handler(RequestValidationError, validation_response)
    app.include_router(router)
    app.include_router(api)
    app.include_router(reports_api)
    app.include_router(alerts_api)
    app.include_router(services_api)
    app.include_router(login_router)
    _mount_dashboard(app, engine, settings)
    return app
