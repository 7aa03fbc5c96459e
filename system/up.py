"""`hailong up`: a Mosquitto configured for Hài Lòng plus the server, for one commune or a demo.

Everything lives in one data folder (database, broker config and persistence, logs, generated
secrets), so that a second `up` with the same folder resumes where the first stopped.
"""

from __future__ import annotations

import json
import logging
import secrets
import signal
import sys
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
from server.broker.mosquitto import (
    BrokerConfig,
    MosquittoProcess,
    TlsListener,
    write_broker_files,
)
from server.broker.pki import PkiFiles, certificate_hosts
from server.settings import Settings
from server.storage.models import User
from server.storage.secret_file import make_once, private_folder
from system.web import create_app

log = logging.getLogger("hailong.up")
SERVER_MQTT_USER = "hailong-server"
LOOPBACK = "127.0.0.1"
PRIVATE_BINDS = frozenset({LOOPBACK, "localhost"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def is_private(bind: str) -> bool:
    """Only the server's own loopback address is served without TLS; any other address (another
    127.x included, as the production test uses) is treated as the office network."""
    return bind in PRIVATE_BINDS


def device_host(bind: str, public_host: str | None, files: PkiFiles) -> str:
    """The address the units are told: given, the bound one, or the certificate's first name."""
    if public_host:
        return public_host
    if bind not in WILDCARD_BINDS:
        return bind
    hosts = certificate_hosts(files.server_cert)
    if not hosts:
        raise HailongError(
            f"{files.server_cert} names no host; give the units' address with --public-host"
        )
    return hosts[0]


@dataclass(frozen=True)
class Secrets:
    mqtt_password: str
    secret_key: str
    admin_password: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> Secrets:
        """Made at the first start, in a file private from the moment it exists (0600)."""
        path = data_dir / "secrets.json"
        made = cls(
            mqtt_password=secrets.token_urlsafe(24),
            secret_key=secrets.token_urlsafe(48),
            admin_password=secrets.token_urlsafe(9),
        )
        make_once(path, lambda: json.dumps(made.__dict__))
        path.chmod(0o600)  # also a file left by an older version
        return cls(**json.loads(path.read_text()))


@dataclass(frozen=True)
class Stack:
    settings: Settings
    broker: BrokerConfig
    secrets: Secrets
    http_host: str
    http_port: int
    # The certificate the dashboard and the units' MQTT listener are served with, off loopback.
    tls: PkiFiles | None = None
    public_host: str = LOOPBACK

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = self.public_host if self.tls else self.http_host
        return f"{scheme}://{host}:{self.http_port}"


@dataclass(frozen=True)
class Network:
    """Where `up` serves: `bind` for HTTP(S) and the units' MQTT; TLS off loopback."""

    bind: str = LOOPBACK
    mqtts_port: int = 8883
    tls: PkiFiles | None = None  # default: <data_dir>/pki from `hailong pki init`
    public_host: str | None = None


def prepare(
    data_dir: Path,
    http_port: int,
    mqtt_port: int,
    network: Network | None = None,
) -> Stack:
    """By default everything on loopback, for the demo; `network` serves the office."""
    data_dir = data_dir.resolve()
    private_folder(data_dir)
    made = Secrets.load_or_create(data_dir)
    network = network or Network()
    tls_files: PkiFiles | None = None
    listener: TlsListener | None = None
    host = LOOPBACK
    if not is_private(network.bind):
        tls_files = (network.tls or PkiFiles.in_folder(data_dir / "pki")).require()
        host = device_host(network.bind, network.public_host, tls_files)
        listener = TlsListener(network.bind or "0.0.0.0", network.mqtts_port, tls_files)
    # Plain MQTT stays on loopback: only the server's own clients use it.
    broker = BrokerConfig(data_dir=data_dir / "broker", port=mqtt_port, tls=listener)
    write_broker_files(broker, SERVER_MQTT_USER, made.mqtt_password)
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'hailong.db'}",
        mqtt_url=f"mqtt://{SERVER_MQTT_USER}:{quote(made.mqtt_password, safe='')}"
        f"@{broker.bind}:{mqtt_port}",
        device_mqtt_url=f"mqtts://{host}:{network.mqtts_port}" if listener else "",
        device_mqtt_ca_file=str(tls_files.ca_cert.resolve()) if tls_files else "",
        secret_key=made.secret_key,
        data_dir=data_dir,
    )
    return Stack(settings, broker, made, network.bind, http_port, tls_files, host)


def ensure_admin(session: Session, password: str) -> bool:
    """Make the first admin; True when this call made it."""
    if session.exec(select(User)).first() is not None:
        return False
    add_user(session, "admin", password, "admin")
    return True


def terminal() -> bool:
    """Whether standard output is a person's terminal rather than a pipe, file or journal."""
    return sys.stdout.isatty()


def admin_login(stack: Stack, *, shown: bool) -> str:
    """The admin login line. The password is shown only when the login is made and a person
    reads the terminal: output that is piped or logged (a journal) gets only where it is."""
    if shown:
        return f"admin / {stack.secrets.admin_password}"
    return f"admin (password in {stack.settings.data_dir / 'secrets.json'})"


def run(stack: Stack, on_started: Callable[[Stack, threading.Event], None] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM, then stop the fleet, the server and the broker, in order."""
    if port_open(stack.http_host or "0.0.0.0", stack.http_port):
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
        login = admin_login(stack, shown=made_admin and terminal())
        # Off loopback the dashboard is served over HTTPS by uvicorn itself, with the broker's
        # certificate: one process, nothing else to configure or keep in step.
        tls_options = (
            {
                "ssl_certfile": str(stack.tls.server_cert),
                "ssl_keyfile": str(stack.tls.server_key),
            }
            if stack.tls
            else {}
        )
        config = uvicorn.Config(
            app,
            host=stack.http_host or "0.0.0.0",
            port=stack.http_port,
            log_level="warning",
            **tls_options,  # type: ignore[arg-type]
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
            if stack.broker.tls is not None:
                listener = stack.broker.tls
                print(
                    f"  units: mqtts://{stack.public_host}:{listener.port} "
                    f"(TLS on {listener.bind}, CA {listener.files.ca_cert})",
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
