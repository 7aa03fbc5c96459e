"""The server process: database, MQTT ingest, HTTP API and the mounted dashboard."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from hailong.mqtt import MqttTarget
from server.api.routes import api, router
from server.db import make_engine, migrate, session_scope
from server.dynsec import BrokerAccounts
from server.ingest import IngestRules
from server.ingest_service import IngestService
from server.settings import Settings
from server.web_login import LoginRequired
from server.web_login import router as login_router

log = logging.getLogger("hailong.server")
DASHBOARD_PATH = "/dashboard"


def _mount_dashboard(app: FastAPI, engine: Engine, settings: Settings) -> None:
    from dashboard.app import create_dash

    dash_app = create_dash(
        lambda: session_scope(engine), requests_pathname_prefix=f"{DASHBOARD_PATH}/"
    )
    wsgi: Any = WSGIMiddleware(dash_app.server)
    app.mount(
        DASHBOARD_PATH, LoginRequired(wsgi, engine, settings.secret_key, f"{DASHBOARD_PATH}/")
    )


def create_app(settings: Settings | None = None, *, ingest: bool = True) -> FastAPI:
    """`ingest=False` serves the API alone (tests of routes, or an API-only process)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    server_target = MqttTarget.from_url(settings.mqtt_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = None
        if ingest:
            service = IngestService(
                engine,
                server_target,
                client_id=settings.mqtt_client_id,
                shared_group=settings.mqtt_shared_group,
                batch_size=settings.ingest_batch_size,
                batch_ms=settings.ingest_batch_ms,
                rules=IngestRules.from_settings(settings),
            ).start()
            app.state.ingest = service
        try:
            yield
        finally:
            if service is not None:
                service.stop()
            engine.dispose()

    app = FastAPI(title="Hài Lòng", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.ingest = None
    app.state.accounts = BrokerAccounts.from_settings(settings)
    app.include_router(router)
    app.include_router(api)
    app.include_router(login_router)
    _mount_dashboard(app, engine, settings)
    return app
