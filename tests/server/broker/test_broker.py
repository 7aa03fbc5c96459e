"""Device accounts in a real Mosquitto: own topics only, password reset, revocation."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from hailong.errors import BrokerError
from hailong.mqtt import MqttTarget, new_client
from hailong.net import port_open
from server.broker.dynsec import DynSec
from server.broker.mosquitto import (
    MAX_QUEUED_MESSAGES,
    BrokerConfig,
    MosquittoProcess,
    free_port,
    write_broker_files,
)
from server.broker.pidfile import runs_our_config
from tests.conftest import Broker


@contextmanager
def logged_in(target: MqttTarget) -> Iterator[threading.Event]:
    """A client logged in as `target` (its username as client id) for the block; yields the
    event the broker's dropping it sets."""
    connected, dropped = threading.Event(), threading.Event()
    client = new_client(target.username or "anonymous-probe", target)
    client.on_connect = lambda *_: connected.set()
    client.on_disconnect = lambda *_: dropped.set()
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        assert connected.wait(10), f"{target.username} could not connect"
        yield dropped
    finally:
        client.loop_stop()
        client.disconnect()


def can_connect(target: MqttTarget) -> bool:
    result: list[bool] = []
    done = threading.Event()
    client = new_client(target.username or "anonymous-probe", target)

    def on_connect(
        _c: paho.Client, _u: object, _f: object, rc: paho.ReasonCode, _p: object
    ) -> None:
        result.append(not rc.is_failure)
        done.set()

    client.on_connect = on_connect
    client.connect(target.host, target.port)
    client.loop_start()
    done.wait(10)
    client.disconnect()
    client.loop_stop()
    return bool(result and result[0])


def test_reset_password_and_revoke(broker: Broker) -> None:
    old = broker.add_device("dev-a", "first-password")
    assert can_connect(old)
    new = broker.add_device("dev-a", "second-password")
    assert can_connect(new) and not can_connect(old)
    with DynSec(broker.server_target) as dynsec:
        dynsec.disable_device("dev-a")
    assert not can_connect(new)
    assert can_connect(broker.add_device("dev-a", "third-password")), "re-registration re-enables"


def test_many_accounts_at_once_create_new_ones_and_reset_an_existing_one(broker: Broker) -> None:
    """An import makes its devices' accounts in a few messages, not a round trip each."""
    old = broker.add_device("dev-b", "old-password")
    with DynSec(broker.server_target) as dynsec:
        dynsec.disable_device("dev-b")  # revoked before: a new account for the id re-enables it
        dynsec.put_devices({"dev-a": "password-a", "dev-b": "password-b", "dev-c": "password-c"})
    for device_id in ("dev-a", "dev-b", "dev-c"):
        target = MqttTarget(old.host, old.port, device_id, f"password-{device_id[-1]}")
        assert can_connect(target), device_id
    assert not can_connect(old)


def test_broker_config_is_sized_for_a_fleet(broker: Broker) -> None:
    conf = broker.process.cfg.conf_path.read_text()
    assert f"max_queued_messages {MAX_QUEUED_MESSAGES}" in conf
    assert "allow_anonymous false" in conf
    assert not can_connect(MqttTarget(broker.host, broker.port)), "anonymous is refused"


def test_dynsec_with_wrong_credentials_says_so(broker: Broker) -> None:
    wrong = MqttTarget(broker.host, broker.port, "hailong-server", "wrong")
    with pytest.raises(BrokerError, match="credentials"), DynSec(wrong, timeout=2):
        pass


def test_port_in_use_is_a_clear_error(broker: Broker, tmp_path: object) -> None:
    cfg = BrokerConfig(data_dir=broker.process.cfg.data_dir, port=broker.port)
    with pytest.raises(BrokerError, match="already in use"):
        MosquittoProcess(cfg).start()
    running = broker.process.proc
    assert running is not None and running.poll() is None, "a broker whose starter runs is kept"
    assert runs_our_config(running.pid, cfg.conf_path)


def test_a_supervised_broker_is_started_again_with_a_growing_delay(tmp_path: Path) -> None:
    cfg = BrokerConfig(data_dir=tmp_path / "broker", port=free_port())
    write_broker_files(cfg, "hailong-server", "server-test-pw")
    process = MosquittoProcess(cfg, supervise=True).start()
    try:
        gaps = []
        for restarts in (1, 2):
            killed = process.proc
            assert killed is not None
            process.kill()
            at = time.monotonic()
            deadline = at + 30
            while process.restarts < restarts or not port_open(cfg.bind, cfg.port):
                assert time.monotonic() < deadline, process.log_tail()
                time.sleep(0.02)
            gaps.append(time.monotonic() - at)
            assert process.proc is not killed
            pid = int(cfg.pid_path.read_text().split()[0])
            assert pid == process.proc.pid and runs_our_config(pid, cfg.conf_path)
        assert 0.9 <= gaps[0] < gaps[1] and gaps[1] >= 1.9, gaps  # 1 s, then 2 s
    finally:
        process.stop()
    assert process.proc.poll() is not None and not cfg.pid_path.exists()
    time.sleep(1.5)
    assert not port_open(cfg.bind, cfg.port), "a stopped broker is not started again"


def test_a_pid_file_naming_another_process_stops_nothing(tmp_path: Path) -> None:
    cfg = BrokerConfig(data_dir=tmp_path / "broker", port=free_port())
    write_broker_files(cfg, "hailong-server", "server-test-pw")
    other = subprocess.Popen(["sleep", "60"])
    try:
        cfg.pid_path.write_text(f"{other.pid} 999999999\n")  # its starter long gone
        with MosquittoProcess(cfg):
            assert port_open(cfg.bind, cfg.port)
        assert other.poll() is None, "a process that is not our broker is never stopped"
    finally:
        other.kill()
        other.wait()
