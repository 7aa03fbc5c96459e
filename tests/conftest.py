"""Shared fixtures: a real Mosquitto on a free loopback port, and hardware fakes reset per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")

from device.unit import Unit  # noqa: E402
from devtools.postgres import PostgresServer  # noqa: E402
from hailong.mqtt import MqttTarget  # noqa: E402
from server.broker.dynsec import DynSec  # noqa: E402
from server.broker.mosquitto import BrokerConfig, MosquittoProcess, free_port, write_broker_files  # noqa: E402


@dataclass
class Broker:
    process: MosquittoProcess
    host: str
    port: int
    server_user: str
    server_password: str

    @property
    def server_target(self) -> MqttTarget:
        return MqttTarget(self.host, self.port, self.server_user, self.server_password)

    @property
    def server_url(self) -> str:
        return f"mqtt://{self.server_user}:{self.server_password}@{self.host}:{self.port}"

    def add_device(self, device_id: str, password: str = "device-pw") -> MqttTarget:
        with DynSec(self.server_target) as dynsec:
            dynsec.put_device(device_id, password)
        return MqttTarget(self.host, self.port, device_id, password)


def start_broker(data_dir: Path) -> Broker:
    cfg = BrokerConfig(data_dir=data_dir, port=free_port())
    write_broker_files(cfg, "hailong-server", "server-test-pw")
    process = MosquittoProcess(cfg).start()
    return Broker(process, cfg.bind, cfg.port, "hailong-server", "server-test-pw")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = start_broker(tmp_path / "broker")
    try:
        yield b
    finally:
        b.process.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run; each test that asks gets its own database."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend the server supports: the test runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hailong.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def mock_pins() -> Iterator[object]:
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = None


@pytest.fixture
def running_units() -> Iterator[Callable[[Unit], Unit]]:
    """Start a unit and stop it at the end of the test, whatever happens."""
    started: list[Unit] = []

    def start(unit: Unit) -> Unit:
        unit.start()
        started.append(unit)
        return unit

    yield start
    for unit in started:
        unit.stop()
