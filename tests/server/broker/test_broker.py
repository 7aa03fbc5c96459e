"""Device accounts in a real Mosquitto: own topics only, password reset, revocation."""

from __future__ import annotations

import threading

import paho.mqtt.client as paho
import pytest

from hailong.errors import BrokerError
from hailong.mqtt import MqttTarget, new_client
from server.broker.dynsec import DynSec
from server.broker.mosquitto import MAX_QUEUED_MESSAGES, BrokerConfig, MosquittoProcess
from tests.conftest import Broker


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
