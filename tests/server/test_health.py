"""/healthz tells a monitor what is down: 503 `degraded` naming the broker link or the database
while it is away, 200 `ok` once it is back. A real `hailong server`, Mosquitto and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from devtools.postgres import PostgresServer
from server.storage.db import make_engine, migrate
from tests.conftest import Broker
from tests.server.server_process import ServerProcess, probe

DEADLINE_S = 60.0
OK = (200, {"status": "ok", "database": "ok", "mqtt": "connected"})


def wait_for_health(server: ServerProcess, expected: tuple[int, dict[str, Any]]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while (found := probe(server.base)) != expected:
        assert time.monotonic() < deadline, f"/healthz said {found}, not {expected}"
        time.sleep(0.1)


def test_healthz_names_what_is_down_and_recovers(broker: Broker) -> None:
    pg = PostgresServer().start()  # its own cluster: the session's one serves other tests
    try:
        url = pg.create_database()
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        with ServerProcess(broker, url) as server:
            wait_for_health(server, OK)

            broker.process.kill()
            degraded = {"status": "degraded", "database": "ok", "mqtt": "disconnected"}
            wait_for_health(server, (503, {**degraded, "down": ["mqtt"]}))
            broker.process.start()
            wait_for_health(server, OK)

            pg.stop()
            degraded = {"status": "degraded", "database": "unavailable", "mqtt": "connected"}
            wait_for_health(server, (503, {**degraded, "down": ["database"]}))
            pg.start()
            wait_for_health(server, OK)
    finally:
        pg.destroy()
