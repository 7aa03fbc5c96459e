"""The production layout on a second loopback address (127.0.0.2), as the README's steps make it.

`hailong pki init` then `hailong up --bind 127.0.0.2`, run as a person would; a device registered
through the HTTPS API; a real unit configured only from the device.toml it was given reaches the
broker over TLS, checking the server's certificate, and its rating is acknowledged and stored.
Plain MQTT on 127.0.0.2 is refused on every broker port, even with the unit's own login.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from device.clock import SystemClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.errors import HailongError
from hailong.mqtt import tls_context
from server.broker.mosquitto import free_port
from server.storage.db import make_engine
from server.storage.models import Rating as StoredRating
from system import up
from system.cli import main
from tests.child import Child
from tests.server.web.test_api import bundle_toml

HOST = "127.0.0.2"
DEADLINE_S = 90.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def plain_connack(host: str, port: int, user: str, password: str) -> bytes:
    """An MQTT 3.1.1 CONNECT without TLS; what comes back (b"" when the broker hangs up)."""
    payload = _utf8(user) + _utf8(user) + _utf8(password)
    variable = _utf8("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 30)
    body = variable + payload
    assert len(body) < 128
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(bytes([0x10, len(body)]) + body)
        try:
            return s.recv(4)
        except (ConnectionResetError, TimeoutError):
            return b""


def register_device(web: httpx.Client, admin_password: str) -> dict[str, Any]:
    """Through the API as admin: a unit, field and counter, and device dev-1 on the counter;
    then its bundle: its device.toml as "config" and the broker password in it."""
    token = web.post(
        "/api/v1/auth/token", data={"username": "admin", "password": admin_password}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for path, body in [
        ("/api/v1/units", {"id": "DH", "name": "Phường Diên Hồng", "kind": "ward"}),
        ("/api/v1/fields", {"id": "tu-phap", "name": "Tư pháp"}),
        (
            "/api/v1/counters",
            {"id": "DH-Q1", "name": "Quầy 1", "unit_id": "DH", "field_ids": ["tu-phap"]},
        ),
        ("/api/v1/devices", {"id": "dev-1", "counter_id": "DH-Q1"}),
    ]:
        made = web.post(path, json=body, headers=auth)
        assert made.status_code in (200, 201), made.text
    config = bundle_toml(web, auth, "dev-1")  # type: ignore[arg-type]
    password = DeviceSettings.from_mapping(tomllib.loads(config)).mqtt.target.password
    return {"config": config, "mqtt_password": password}


def rate_from_bundle(config: str, broker: str, ca: Path, unit_dir: Path, database: Path) -> None:
    """A real unit from only the device.toml the server handed out (paths and hardware set for a
    test: outbox in `unit_dir`), told to reach `broker` (host:port) over TLS checked against
    `ca`, gets its Config, rates 4 and is acknowledged; the rating is in the SQLite `database`."""
    bundle = tomllib.loads(config)
    assert bundle["mqtt"]["url"].startswith("mqtts://dev-1:")
    assert bundle["mqtt"]["url"].endswith(f"@{broker}")
    assert bundle["mqtt"]["ca"].strip() == ca.read_text().strip()
    bundle["device"]["data_dir"] = str(unit_dir)
    bundle["buttons"]["enabled"] = False
    bundle["screen"]["enabled"] = False
    unit = Unit(DeviceSettings.from_mapping(bundle), SystemClock(trust=True))
    unit.start()
    try:
        wait_until(lambda: unit.config is not None, "the unit's Config over TLS")
        assert unit.press(4) is not None
        wait_until(lambda: unit.outbox.count() == 0, "the server's Ack")
    finally:
        unit.stop()
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            row = session.exec(select(StoredRating)).one()
    finally:
        engine.dispose()
    assert (row.device_id, row.score) == ("dev-1", 4)


@pytest.fixture
def production(tmp_path: Path) -> Iterator[tuple[Path, dict[str, int], Child]]:
    data_dir = tmp_path / "hailong-data"
    assert (
        main(
            ["pki", "init", "--data-dir", str(data_dir), "--name", "hailong.test"]
            + ["--address", HOST]
        )
        == 0
    )
    ports = {"http": free_port(HOST), "mqtt": free_port("127.0.0.1"), "mqtts": free_port(HOST)}
    up = Child(
        [
            sys.executable,
            "-m",
            "system.cli",
            "up",
            "--data-dir",
            str(data_dir),
            "--bind",
            HOST,
            "--http-port",
            str(ports["http"]),
            "--mqtt-port",
            str(ports["mqtt"]),
            "--mqtts-port",
            str(ports["mqtts"]),
        ]
    )
    try:
        up.wait_for("admin login:")
        yield data_dir, ports, up
    finally:
        up.stop()


def test_a_unit_on_the_network_rates_over_tls_and_plain_mqtt_is_refused(
    production: tuple[Path, dict[str, int], Child], tmp_path: Path
) -> None:
    data_dir, ports, up = production
    ca = data_dir / "pki" / "ca.crt"
    assert (data_dir / "pki" / "ca.key").stat().st_mode & 0o777 == 0o600
    assert f"mqtts://{HOST}:{ports['mqtts']}" in up.wait_for("units: ")

    base = f"https://{HOST}:{ports['http']}"
    password = json.loads((data_dir / "secrets.json").read_text())["admin_password"]
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=ca)) as web:
        assert web.get("/healthz").status_code == 200
        provisioned = register_device(web, password)
    # Plain HTTP on the HTTPS port gets no page.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://{HOST}:{ports['http']}/healthz", timeout=5).raise_for_status()

    broker = f"{HOST}:{ports['mqtts']}"
    rate_from_bundle(provisioned["config"], broker, ca, tmp_path / "unit", data_dir / "hailong.db")

    # Plain MQTT with the unit's own login: nothing listens on the plain port off loopback,
    # and the TLS port hangs up on a CONNECT that is not TLS.
    device_password = provisioned["mqtt_password"]
    with pytest.raises(ConnectionRefusedError):
        plain_connack(HOST, ports["mqtt"], "dev-1", device_password)
    assert plain_connack(HOST, ports["mqtts"], "dev-1", device_password)[:1] != b"\x20"

    # The unit checks the server: a name the certificate does not hold, or no CA, fails.
    for context, name in [
        (tls_context(ca.read_text()), "elsewhere.test"),
        (tls_context(None), HOST),
    ]:
        with (
            socket.create_connection((HOST, ports["mqtts"]), timeout=5) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            context.wrap_socket(raw, server_hostname=name)


def test_off_loopback_up_needs_the_certificate_and_tells_units_the_servers_name(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "hailong-data"
    with pytest.raises(HailongError, match="hailong pki init"):
        up.prepare(data_dir, 8443, 1883, up.Network(bind=HOST))
    main(["pki", "init", "--data-dir", str(data_dir), "--name", "hailong.lan"])
    everywhere = up.prepare(data_dir, 8443, 1883, up.Network(bind="0.0.0.0"))
    assert everywhere.settings.device_mqtt_url == "mqtts://hailong.lan:8883"
    assert everywhere.settings.device_mqtt_ca_file == str(data_dir.resolve() / "pki" / "ca.crt")
    assert everywhere.base_url == "https://hailong.lan:8443"
    assert everywhere.broker.bind == "127.0.0.1"
    demo = up.prepare(data_dir, 8000, 1883)
    assert (demo.broker.tls, demo.settings.device_mqtt_url, demo.base_url) == (
        None,
        "",
        "http://127.0.0.1:8000",
    )


def test_server_https_needs_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--tls-cert", str(tmp_path / "server.crt")]) == 2
    assert "--tls-cert and --tls-key together" in capsys.readouterr().err
    given = ["--tls-cert", str(tmp_path / "server.crt"), "--tls-key", str(tmp_path / "k")]
    assert main(["server", *given]) == 2
    assert "server.crt is missing" in capsys.readouterr().err
    assert main(["up", "--data-dir", str(tmp_path), "--tls-ca", str(tmp_path / "ca.crt")]) == 2
    assert "--tls-ca, --tls-cert and --tls-key together" in capsys.readouterr().err
