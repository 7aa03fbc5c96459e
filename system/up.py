"""`hailong up`: a Mosquitto configured for Hài Lòng plus the server, for one commune or a demo.

Everything lives in one data folder (database, broker config and persistence, logs, generated
secrets), so that a second `up` with the same folder resumes where the first stopped.
"""

from __future__ import annotations

import json
import logging
import secrets
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import uvicorn
from sqlmodel import Session, select

from hailong.errors import HailongError
from hailong.net import port_open
from server.access.auth import add_user
from server.broker.mosquitto import BrokerConfig, MosquittoProcess, write_broker_files
from server.settings import Settings
from server.storage.models import User
from system.web import create_app

log = logging.getLogger("hailong.up")
SERVER_MQTT_USER = "hailong-server"


@dataclass(frozen=True)
class Secrets:
    mqtt_password: str
    secret_key: str
    admin_password: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> Secrets:
        path = data_dir / "secrets.json"
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(
            mqtt_password=secrets.token_urlsafe(24),
            secret_key=secrets.token_urlsafe(48),
            admin_password=secrets.token_urlsafe(9),
        )
        path.write_text(json.dumps(made.__dict__))
        path.chmod(0o600)
        return made


@dataclass(frozen=True)
class Stack:
    settings: Settings
    broker: BrokerConfig
    secrets: Secrets
    http_host: str
    http_port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"


def prepare(data_dir: Path, http_port: int, mqtt_port: int, http_host: str = "127.0.0.1") -> Stack:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    made = Secrets.load_or_create(data_dir)
    broker = BrokerConfig(data_dir=data_dir / "broker", port=mqtt_port)
    write_broker_files(broker, SERVER_MQTT_USER, made.mqtt_password)
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'hailong.db'}",
        mqtt_url=f"mqtt://{SERVER_MQTT_USER}:{quote(made.mqtt_password, safe='')}"
        f"@{broker.bind}:{mqtt_port}",
        secret_key=made.secret_key,
        data_dir=data_dir,
    )
    return Stack(settings, broker, made, http_host, http_port)


def ensure_admin(session: Session, password: str) -> bool:
    """Make the first admin; True when this call made it."""
    if session.exec(select(User)).first() is not None:
        return False
    add_user(session, "admin", password, "admin")
    return True


def run(stack: Stack, on_started: Callable[[Stack, threading.Event], None] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM, then stop the fleet, the server and the broker, in order."""
    if port_open(stack.http_host, stack.http_port):
        raise HailongError(
            f"port {stack.http_port} is already in use; choose another with --http-port"
        )
    # uvicorn handles the signals while it runs and re-raises them once it has stopped; with
    # Python's default handlers back in place that re-raise would kill us before the broker
    # is stopped, so ours only note the request.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: None)
    with MosquittoProcess(stack.broker, supervise=True):
        app = create_app(stack.settings)
        with Session(app.state.engine) as session:
            made_admin = ensure_admin(session, stack.secrets.admin_password)
        # The password is shown once, when the login is made: a later start may be logging to
        # a journal, which is no place for it.
        login = (
            f"admin / {stack.secrets.admin_password}"
            if made_admin
            else f"admin (password in {stack.settings.data_dir / 'secrets.json'})"
        )
        config = uvicorn.Config(
            app, host=stack.http_host, port=stack.http_port, log_level="warning"
        )
        server = uvicorn.Server(config)
        stopping = threading.Event()

        def announce() -> None:
            while not server.started and not stopping.is_set():
                stopping.wait(0.1)
            if stopping.is_set():
                return
            print(f"Hài Lòng is running: dashboard {stack.base_url}/dashboard/", flush=True)
            print(f"  admin login: {login}", flush=True)
            print(
                f"  API docs: {stack.base_url}/docs   MQTT: 127.0.0.1:{stack.broker.port}",
                flush=True,
            )
            print(f"  data folder: {stack.settings.data_dir}   stop with Ctrl-C", flush=True)
            if on_started is not None:
                on_started(stack, stopping)

        helper = threading.Thread(target=announce, name="hailong-up", daemon=True)
        helper.start()
        try:
            server.run()
        finally:
            stopping.set()
            helper.join(timeout=30)
    print("Hài Lòng stopped.", flush=True)
    return 0
