"""The README's systemd layout, followed step by step on a second loopback address (127.0.0.2).

The files are firmware-config/'s own (the Mosquitto conf, server.env, the server and ingest
units), with their /etc and /var paths moved under tmp_path and their ports made free ones; the
processes are the ones the units would start, run directly: Mosquitto with the dynamic-security
file of `hailong broker init` (TLS on 127.0.0.2, plain MQTT on 127.0.0.1 for the server), `hailong
server --tls-cert/--tls-key` on 127.0.0.2 serving only the API (HAILONG_INGEST=false) and one
`hailong ingest`. A device registered through the HTTPS API; a real unit configured only from its
device.toml rates over TLS, is acknowledged, and the ingest process stores the rating. Plain MQTT
on 127.0.0.2 is refused.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.broker.mosquitto import free_port
from tests.child import Child
from tests.system.test_production import (
    plain_connack,
    rate_from_bundle,
    register_device,
    wait_until,
)

HOST = "127.0.0.2"
DEADLINE_S = 90.0  # for a one-shot command, or a process to stop
CONFIG = Path(__file__).resolve().parents[2] / "firmware-config"
HAILONG = "/opt/hailong/venv/bin/hailong"


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Layout:
    """/etc and /var of the README's steps, under a test folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("etc/mosquitto/certs", "etc/mosquitto/conf.d", "etc/hailong"):
            (root / folder).mkdir(parents=True)
        for folder in ("var/lib/hailong", "var/lib/mosquitto"):
            (root / folder).mkdir(parents=True)

    def path(self, text: str) -> str:
        """`text` with every /etc/ and /var/ path moved under the root."""
        return text.replace("/etc/", f"{self.root}/etc/").replace("/var/", f"{self.root}/var/")

    def file(self, absolute: str) -> Path:
        return Path(self.path(absolute))


def replaced(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced, failing if firmware-config no longer holds it."""
    assert old in text, f"firmware-config changed: {old!r} is gone"
    return text.replace(old, new)


def hailong(args: list[str], env: dict[str, str] | None = None, stdin: str = "") -> str:
    """A one-shot `hailong` command, as a person types it; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "system.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile=: KEY=VALUE lines, # comments."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def service(name: str, instance: str = "") -> tuple[list[str], dict[str, str], str]:
    """A unit file's ExecStart (split), Environment= values and EnvironmentFile, with %i."""
    text = (CONFIG / "systemd" / name).read_text().replace("\\\n", " ").replace("%i", instance)
    exec_start, env, env_file = [], {}, ""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            exec_start = shlex.split(value)
        elif key == "Environment":
            name_, _, setting = value.partition("=")
            env[name_] = setting
        elif key == "EnvironmentFile":
            env_file = value
    assert exec_start[0] == HAILONG, exec_start
    return exec_start[1:], env, env_file


def process_env(unit_env: dict[str, str], env_file: Path) -> dict[str, str]:
    """What systemd gives the process: the unit's Environment=, overridden by the file's."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("HAILONG_")}
    return {**base, **unit_env, **environment_file(env_file)}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[Layout, dict[str, int], str]]:
    fs = Layout(tmp_path / "root")
    data_dir = fs.file("/var/lib/hailong")
    ports = {"http": free_port(HOST), "mqtt": free_port("127.0.0.1"), "mqtts": free_port(HOST)}
    children: list[Child] = []
    try:
        # 2. The certificates, and Mosquitto's copy of them.
        hailong(
            ["pki", "init", "--data-dir", str(data_dir), "--name", "hailong.test"]
            + ["--address", HOST]
        )
        for name in ("ca.crt", "server.crt", "server.key"):
            shutil.copy2(data_dir / "pki" / name, fs.file("/etc/mosquitto/certs/") / name)
        fs.file("/etc/mosquitto/certs/server.key").chmod(0o600)

        # 3. The broker's accounts and its conf.
        mqtt_password = secrets.token_urlsafe(18)
        dynsec = "/var/lib/mosquitto/dynamic-security.json"
        hailong(
            ["broker", "init", "--dynsec-file", fs.path(dynsec), "--password-stdin"],
            stdin=mqtt_password + "\n",
        )
        conf = (CONFIG / "mosquitto" / "hailong.conf").read_text()
        assert f"plugin_opt_config_file {dynsec}" in conf
        conf = replaced(conf, "listener 1883 127.0.0.1", f"listener {ports['mqtt']} 127.0.0.1")
        conf = replaced(conf, "\nlistener 8883\n", f"\nlistener {ports['mqtts']} {HOST}\n")
        conf_file = fs.file("/etc/mosquitto/conf.d/hailong.conf")
        # The files are the user's Mosquitto runs as: here this test's user (as root, Mosquitto
        # would switch to `mosquitto`, who owns them on a server).
        conf_file.write_text(f"user {getpass.getuser()}\n" + fs.path(conf))
        broker = Child(["mosquitto", "-c", str(conf_file)])
        children.append(broker)
        wait_until(
            lambda: listening("127.0.0.1", ports["mqtt"]) or broker.proc.poll() is not None,
            "Mosquitto",
        )
        assert broker.proc.poll() is None, broker.output

        # 4. server.env, for a province (ingest apart), and the chain key it names.
        env_text = (CONFIG / "examples" / "server.env").read_text()
        env_text = replaced(
            env_text,
            "mqtt://hailong-server:CHANGE-ME@127.0.0.1:1883",
            f"mqtt://hailong-server:{mqtt_password}@127.0.0.1:{ports['mqtt']}",
        )
        env_text = replaced(
            env_text,
            "HAILONG_DEVICE_MQTT_URL=mqtts://hailong.example.gov.vn:8883",
            f"HAILONG_DEVICE_MQTT_URL=mqtts://{HOST}:{ports['mqtts']}",
        )
        env_text = replaced(
            env_text, "HAILONG_SECRET_KEY=CHANGE-ME", f"HAILONG_SECRET_KEY={secrets.token_hex(32)}"
        )
        env_text = replaced(
            env_text, "# HAILONG_MQTT_SHARED_GROUP=hailong", "HAILONG_MQTT_SHARED_GROUP=hailong"
        )
        env_text = replaced(env_text, "# HAILONG_INGEST=false", "HAILONG_INGEST=false")
        env_file = fs.file("/etc/hailong/server.env")
        env_file.write_text(fs.path(env_text))
        key_file = fs.file("/etc/hailong/chain.key")
        key_file.write_text(secrets.token_hex(32) + "\n")
        key_file.chmod(0o600)

        argv, unit_env, named_file = service("hailong-server.service")
        assert fs.file(named_file) == env_file
        env = process_env(unit_env, env_file)
        admin_password = secrets.token_urlsafe(18)
        hailong(
            ["user", "add", "admin", "--role", "admin", "--password-stdin"]
            + ["--data-dir", str(data_dir)],
            env=env,
            stdin=admin_password + "\n",
        )
        argv = [fs.path(arg) for arg in argv]
        argv[argv.index("--host") + 1] = HOST
        argv[argv.index("--port") + 1] = str(ports["http"])
        children.append(Child([sys.executable, "-m", "system.cli", *argv], env=env))

        argv, unit_env, named_file = service("hailong-ingest@.service", "1")
        assert fs.file(named_file) == env_file
        ingest_env = process_env(unit_env, env_file)
        assert ingest_env["HAILONG_MQTT_CLIENT_ID"] == "ingest-1"
        children.append(Child([sys.executable, "-m", "system.cli", *argv], env=ingest_env))
        yield fs, ports, admin_password
    finally:
        for child in reversed(children):
            try:
                child.stop(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                child.kill()


def test_the_systemd_layout_takes_a_units_rating_over_tls(
    services: tuple[Layout, dict[str, int], str], tmp_path: Path
) -> None:
    fs, ports, admin_password = services
    ca = fs.file("/var/lib/hailong/pki/ca.crt")
    base = f"https://{HOST}:{ports['http']}"
    with httpx.Client(
        base_url=base, verify=ssl.create_default_context(cafile=ca), timeout=10
    ) as web:

        def healthy() -> bool:
            try:
                return web.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, "the server's HTTPS")
        provisioned = register_device(web, admin_password)
    database = fs.file("/var/lib/hailong/hailong.db")
    broker = f"{HOST}:{ports['mqtts']}"
    rate_from_bundle(provisioned["config"], broker, ca, tmp_path / "unit", database)

    # Plain MQTT on the office address: the plain listener is loopback only, the TLS one hangs
    # up on a CONNECT that is not TLS.
    with pytest.raises(ConnectionRefusedError):
        plain_connack(HOST, ports["mqtt"], "dev-1", provisioned["mqtt_password"])
    assert plain_connack(HOST, ports["mqtts"], "dev-1", provisioned["mqtt_password"])[:1] != (
        b"\x20"
    )
