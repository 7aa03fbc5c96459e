"""A broker made by an older `hailong broker init` or `up`, brought up to date at server start."""

from __future__ import annotations

import json
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlmodel import Session

from hailong import protocol
from hailong.mqtt import MqttTarget, new_client
from server.broker.client_ids import TOKEN_FILE, ServerClientIds, ensure_token
from server.broker.dynsec import BrokerAccounts, DynSec
from server.broker.mosquitto import (
    SERVER_ROLE,
    BrokerConfig,
    MosquittoProcess,
    device_acls,
    device_role,
    free_port,
    hash_password,
    server_acls,
    write_broker_files,
)
from server.broker.upgrade import legacy_client_ids, upgrade, upgrade_job
from server.jobs import Jobs
from server.settings import Settings
from server.storage.db import make_engine, migrate
from server.storage.models import Device
from server.web.app import create_app
from tests.conftest import Broker
from tests.server.broker.test_session_takeover import Connection, server_settings, wait_for
from tests.server.factories import seed_one_counter

SERVER_PASSWORD = "server-test-pw"
OLD_TOPICS = ("signin", "$share/")  # what roles made before this release lack


def _old(acls: list[dict[str, object]]) -> list[dict[str, object]]:
    return [acl for acl in acls if not any(word in str(acl["topic"]) for word in OLD_TOPICS)]


def old_dynsec_document(accounts: dict[str, str], disabled: tuple[str, ...]) -> dict[str, object]:
    """As an older release wrote it: no client id on any account, no signin or $share ACLs."""
    clients: list[dict[str, object]] = [
        {
            "username": "hailong-server",
            **hash_password(SERVER_PASSWORD),
            "roles": [{"rolename": SERVER_ROLE}],
        }
    ]
    roles: list[dict[str, object]] = [{"rolename": SERVER_ROLE, "acls": _old(server_acls())}]
    for username, password in accounts.items():
        role = device_role(username)
        clients.append(
            {
                "username": username,
                **hash_password(password),
                "roles": [{"rolename": role}],
                **({"disabled": True} if username in disabled else {}),
            }
        )
        roles.append({"rolename": role, "acls": _old(device_acls(username))})
    return {
        "clients": clients,
        "groups": [],
        "roles": roles,
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


@pytest.fixture
def old_broker(tmp_path: Path) -> Broker:
    cfg = BrokerConfig(data_dir=tmp_path / "broker", port=free_port())
    cfg.data_dir.mkdir(parents=True)
    accounts = {name: f"{name}-password" for name in ("dev-a", "dev-b", "dev-gone", "stranger")}
    cfg.dynsec_path.write_text(json.dumps(old_dynsec_document(accounts, disabled=("dev-gone",))))
    write_broker_files(cfg, "hailong-server", SERVER_PASSWORD)  # keeps the dynsec file
    process = MosquittoProcess(cfg).start()
    return Broker(process, cfg.bind, cfg.port, "hailong-server", SERVER_PASSWORD)


def device(broker: Broker, name: str) -> MqttTarget:
    return MqttTarget(broker.host, broker.port, name, f"{name}-password")


def roles_of(broker: Broker) -> dict[str, set[tuple[str, str]]]:
    with DynSec(broker.server_target) as dynsec:
        (listed,) = dynsec.run({"command": "listRoles", "verbose": True, "count": -1, "offset": 0})
    return {
        role["rolename"]: {(acl["acltype"], acl["topic"]) for acl in role["acls"]}
        for role in listed["data"]["roles"]
    }


def keys(acls: list[dict[str, object]]) -> set[tuple[str, str]]:
    return {(str(acl["acltype"]), str(acl["topic"])) for acl in acls}


def test_an_old_broker_is_upgraded_at_start_and_then_refuses_a_device_under_anothers_id(
    old_broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        attacker = Connection(device(old_broker, "dev-a"), "dev-b")
        assert attacker.refused is None, "the old broker lets A use B's id: nothing to upgrade"
        attacker.close()
        settings = server_settings(old_broker, tmp_path)
        seed_one_counter(settings.database_url, ("dev-a", "dev-b", "dev-gone", "dev-unknown"))
        with Session(make_engine(settings.database_url)) as session:
            gone = session.get(Device, "dev-gone")
            assert gone is not None
            gone.revoked_at = datetime.now(UTC)
            session.add(gone)
            session.commit()
        caplog.set_level(logging.INFO, logger="hailong.broker")
        app = create_app(settings)

        with TestClient(app):
            wait_for(lambda: "broker accounts checked" in caplog.text, "the broker upgrade")

            for name in ("dev-a", "dev-b"):
                assert f"setClientId {name} {name}" in caplog.text
                assert f"addRoleACL device-{name} publishClientSend" in caplog.text
            assert "3 device(s), " in caplog.text
            assert "1 registered device(s) have no broker account" in caplog.text
            assert "dev-unknown" in caplog.text
            assert "'stranger' is not a registered device" in caplog.text
            assert "dev-gone" not in caplog.text, "a revoked device's account is left alone"
            attacker = Connection(device(old_broker, "dev-a"), "dev-b")
            assert attacker.refused is not None, "the upgraded broker still lets A use B's id"
            for v5 in (True, False):
                own = Connection(device(old_broker, "dev-b"), "dev-b", v5=v5)
                assert own.refused is None
                own.close()
            roles = roles_of(old_broker)
            assert keys(server_acls()) <= roles[SERVER_ROLE]
            assert keys(device_acls("dev-a")) <= roles["device-dev-a"]
            # The server role's change disconnected the server's clients once; ingest is back.
            wait_for(app.state.ingest.connected.is_set, "the server's ingest to reconnect")
    finally:
        old_broker.process.stop()


def test_the_upgrade_changes_nothing_the_second_time(old_broker: Broker) -> None:
    try:
        with DynSec(old_broker.server_target) as dynsec:
            first = upgrade(dynsec, ["dev-a", "dev-b"])
            again = upgrade(dynsec, ["dev-a", "dev-b"])
        assert len(first.commands) == 2 * 2, "a binding and the signin ACL for each device"
        assert len(first.server_commands) == len(server_acls()) - len(_old(server_acls()))
        assert again.changes == []
    finally:
        old_broker.process.stop()


def test_a_broker_that_is_down_delays_the_upgrade_and_never_stops_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'server.db'}",
        mqtt_url=f"mqtt://hailong-server:{SERVER_PASSWORD}@127.0.0.1:{port}",
        data_dir=tmp_path / "data",
    )
    seed_one_counter(settings.database_url, ("dev-a", "dev-b"))
    engine = make_engine(settings.database_url)
    migrate(engine)
    now = [0.0]
    jobs = Jobs(
        engine, [upgrade_job(BrokerAccounts.from_settings(settings))], monotonic=lambda: now[0]
    )
    caplog.set_level(logging.INFO, logger="hailong.broker")

    assert jobs.run_due() == ["broker-upgrade"]
    assert "could not bring the broker's accounts up to date" in caplog.text

    cfg = BrokerConfig(data_dir=tmp_path / "broker", port=port)
    cfg.data_dir.mkdir()
    accounts = {"dev-a": "dev-a-password", "dev-b": "dev-b-password"}
    cfg.dynsec_path.write_text(json.dumps(old_dynsec_document(accounts, disabled=())))
    write_broker_files(cfg, "hailong-server", SERVER_PASSWORD)
    with MosquittoProcess(cfg):
        broker = Broker(MosquittoProcess(cfg), cfg.bind, port, "hailong-server", SERVER_PASSWORD)
        now[0] += 3600
        jobs.run_due()
        assert "broker accounts checked: 2 device(s)" in caplog.text
        assert Connection(device(broker, "dev-a"), "dev-b").refused is not None
    engine.dispose()


def test_the_client_token_is_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / TOKEN_FILE
    made = ensure_token(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ensure_token(path) == made
    assert ensure_token(path, make=lambda: "another") == made, "an existing token is kept"
    server = ServerClientIds.from_settings(Settings(data_dir=tmp_path / "data"))
    ingest = ServerClientIds.from_settings(
        Settings(data_dir=tmp_path / "data", mqtt_client_id="ingest-1")
    )
    assert made in server.ingest and len(made) >= 24
    assert server.ingest != ingest.ingest
    assert server.control() != server.control(), "each control connection its own id"
    other = ServerClientIds.from_settings(Settings(data_dir=tmp_path / "elsewhere"))
    assert other.ingest != server.ingest, "another installation, another token"


def session_present(broker: Broker, client_id: str) -> bool:
    """Connect under `client_id` resuming its session (kept an hour), and say if there was one."""
    present: list[bool] = []
    client = new_client(client_id, broker.server_target)
    client.on_connect = lambda _c, _u, flags, _rc, _p: present.append(flags.session_present)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    client.connect_async(broker.host, broker.port, clean_start=False, properties=props)
    client.loop_start()
    wait_for(lambda: bool(present), f"the CONNACK for {client_id}")
    client.subscribe(protocol.topic_filter("ratings"), qos=1)
    client.disconnect()
    client.loop_stop()
    return present[0]


def test_the_session_of_the_servers_old_client_id_is_dropped(
    broker: Broker, tmp_path: Path
) -> None:
    """Before the token the server's ingest was `hailong-server` (or HAILONG_MQTT_CLIENT_ID
    whole); that session would go on queueing every rating for a week."""
    session_present(broker, "hailong-server")
    assert session_present(broker, "hailong-server"), "no old session to drop: nothing to test"
    settings = server_settings(broker, tmp_path)
    seed_one_counter(settings.database_url, ("dev-a",))
    engine = make_engine(settings.database_url)
    accounts = BrokerAccounts.from_settings(settings)
    Jobs(engine, [upgrade_job(accounts, legacy_client_ids(settings))]).run_due()
    engine.dispose()

    assert not session_present(broker, "hailong-server")
