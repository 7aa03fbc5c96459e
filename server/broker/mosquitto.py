"""Mosquitto set up for Hài Lòng: its config, its dynamic-security file, and its process.

The broker is the only thing a device can reach, so each device gets its own account, bound to
client id = its device id (so it cannot take another unit's or the server's session), and a role
that lets it write only below `hailong/v1/devices/<its id>/` (the dynsec plugin in Mosquitto 2.0
has no `%u` substitution, hence one role per device). Limits are sized for a fleet replaying a
backlog: Mosquitto's default of 1,000 queued QoS 1 messages per client would silently drop ratings.
"""

from __future__ import annotations

import base64
import getpass
import glob
import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hailong.errors import BrokerError
from hailong.net import free_port as free_port  # where tests and benches have it
from hailong.net import port_open
from server.broker.pidfile import stop_stale_broker
from server.broker.pki import PkiFiles

SERVER_ROLE = "hailong-server"
DYNSEC_PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)
MAX_QUEUED_MESSAGES = 1_000_000
# Unacknowledged QoS 1 messages on their way to one client. The server acks after its commit,
# so this must exceed an ingest batch, or every batch waits out its timer half empty.
MAX_INFLIGHT_MESSAGES = 2000
# A crashed broker is started again after 1, 2, 4 … s, at most this long apart; the delay
# starts over once a broker has stayed up for RESTART_STABLE_S.
RESTART_MAX_DELAY_S = 30.0
RESTART_STABLE_S = 60.0

log = logging.getLogger("hailong.broker")


def device_role(device_id: str) -> str:
    return f"device-{device_id}"


def device_acls(device_id: str) -> list[dict[str, object]]:
    base = f"hailong/v1/devices/{device_id}"
    acls: list[dict[str, object]] = [
        {"acltype": "publishClientSend", "topic": f"{base}/ratings", "allow": True},
        {"acltype": "publishClientSend", "topic": f"{base}/status", "allow": True},
        {"acltype": "publishClientSend", "topic": f"{base}/signin", "allow": True},
    ]
    for kind in ("config", "acks", "service"):
        acls.append({"acltype": "subscribePattern", "topic": f"{base}/{kind}", "allow": True})
        acls.append({"acltype": "publishClientReceive", "topic": f"{base}/{kind}", "allow": True})
    return acls


def server_acls() -> list[dict[str, object]]:
    acls: list[dict[str, object]] = []
    for acltype in ("publishClientSend", "publishClientReceive", "subscribePattern"):
        acls.append({"acltype": acltype, "topic": "$CONTROL/dynamic-security/#", "allow": True})
    for kind in ("ratings", "status", "signin"):
        # Mosquitto checks a shared subscription against its whole filter, $share/<group>/ and all
        for pattern in (f"hailong/v1/devices/+/{kind}", f"$share/+/hailong/v1/devices/+/{kind}"):
            acls.append({"acltype": "subscribePattern", "topic": pattern, "allow": True})
    for kind in ("acks", "config", "service"):
        acls.append(
            {"acltype": "publishClientSend", "topic": f"hailong/v1/devices/+/{kind}", "allow": True}
        )
    for acltype in ("publishClientSend", "subscribePattern"):  # server/ingest/connections.py marker
        acls.append({"acltype": acltype, "topic": "hailong/v1/server/+/mark", "allow": True})
    acls.append({"acltype": "publishClientReceive", "topic": "hailong/#", "allow": True})
    acls.append({"acltype": "unsubscribePattern", "topic": "#", "allow": True})
    return acls


def hash_password(password: str, iterations: int = 101) -> dict[str, object]:
    """Mosquitto's dynsec format: base64 PBKDF2-SHA512 over a 12-byte salt."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": iterations,
    }


def dynsec_document(server_user: str, server_password: str) -> dict[str, object]:
    return {
        "clients": [
            {
                "username": server_user,
                "textName": "Hài Lòng server",
                **hash_password(server_password),
                "roles": [{"rolename": SERVER_ROLE}],
            }
        ],
        "groups": [],
        "roles": [{"rolename": SERVER_ROLE, "acls": server_acls()}],
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


def find_dynsec_plugin() -> str:
    for pattern in DYNSEC_PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise BrokerError(
        "Mosquitto's dynamic security plugin (mosquitto_dynamic_security.so) was not found; "
        "install Debian's package: apt-get install mosquitto"
    )


@dataclass(frozen=True)
class TlsListener:
    """The listener the units reach: TLS only, on the office network's address."""

    bind: str
    port: int
    files: PkiFiles


@dataclass(frozen=True)
class BrokerConfig:
    """`port` on `bind` is plain MQTT for the server's own clients (keep it on loopback);
    `tls`, when given, is the listener for the units."""

    data_dir: Path
    port: int
    bind: str = "127.0.0.1"
    tls: TlsListener | None = None

    @property
    def listeners(self) -> list[tuple[str, int]]:
        found = [(self.bind, self.port)]
        if self.tls is not None:
            found.append((self.tls.bind, self.tls.port))
        return found

    @property
    def conf_path(self) -> Path:
        return self.data_dir / "mosquitto.conf"

    @property
    def dynsec_path(self) -> Path:
        return self.data_dir / "dynamic-security.json"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "mosquitto.log"

    @property
    def pid_path(self) -> Path:
        """The pid of the broker started on this config, while it runs."""
        return self.data_dir / "mosquitto.pid"


def write_broker_files(cfg: BrokerConfig, server_user: str, server_password: str) -> Path:
    """Write mosquitto.conf (always) and the dynsec file (only once: it holds device accounts)."""
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    (cfg.data_dir / "mosquitto-db").mkdir(exist_ok=True)
    if not cfg.dynsec_path.exists():
        cfg.dynsec_path.write_text(json.dumps(dynsec_document(server_user, server_password)))
        cfg.dynsec_path.chmod(0o600)
    lines = [
        "# Written by hailong; edits are overwritten at the next start.",
        # Started as root, Mosquitto would switch to the `mosquitto` user and lose access to
        # the files below, which belong to whoever runs hailong.
        f"user {getpass.getuser()}",
        "per_listener_settings false",
        "allow_anonymous false",
        f"listener {cfg.port} {cfg.bind}",
    ]
    if cfg.tls is not None:
        lines += [
            f"listener {cfg.tls.port} {cfg.tls.bind}",
            f"cafile {cfg.tls.files.ca_cert.resolve()}",
            f"certfile {cfg.tls.files.server_cert.resolve()}",
            f"keyfile {cfg.tls.files.server_key.resolve()}",
            "tls_version tlsv1.2",
        ]
    lines += [
        f"plugin {find_dynsec_plugin()}",
        f"plugin_opt_config_file {cfg.dynsec_path}",
        "persistence true",
        f"persistence_location {cfg.data_dir / 'mosquitto-db'}/",
        "autosave_interval 30",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
        "message_size_limit 16384",
        f"log_dest file {cfg.log_path}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    cfg.conf_path.write_text("\n".join(lines) + "\n")
    return cfg.conf_path


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def ensure_mosquitto(progress: bool = True) -> str:
    """Find Mosquitto, installing Debian's package when we are root and apt-get is there."""
    found = mosquitto_binary()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        if progress:
            print("Mosquitto is missing: installing Debian's mosquitto package…", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=False, env=env)
        done = subprocess.run(["apt-get", "install", "-y", "mosquitto"], check=False, env=env)
        found = mosquitto_binary()
        if done.returncode == 0 and found:
            return found
    raise BrokerError(
        "Mosquitto is not installed. Install it with: sudo apt-get install mosquitto "
        "(Debian/Ubuntu/Raspberry Pi OS), then run this command again."
    )


class MosquittoProcess:
    """A Mosquitto child process; a context manager that stops it on exit.

    It writes its pid to `cfg.pid_path`; `start()` first stops a broker an earlier, killed run
    left on the same config. With `supervise=True` a broker that dies is started again, with
    a doubling delay (RESTART_MAX_DELAY_S at most), until `stop()`.
    """

    def __init__(
        self,
        cfg: BrokerConfig,
        *,
        supervise: bool = False,
        max_delay: float = RESTART_MAX_DELAY_S,
        stable_after: float = RESTART_STABLE_S,
    ) -> None:
        self.cfg = cfg
        self.proc: subprocess.Popen[bytes] | None = None
        self.supervise = supervise
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.restarts = 0
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._spawned_at = 0.0

    def start(self, timeout: float = 10.0) -> MosquittoProcess:
        binary = ensure_mosquitto()
        stop_stale_broker(self.cfg.pid_path, self.cfg.conf_path)
        for host, port in self.cfg.listeners:
            if port_open(host, port):
                raise BrokerError(
                    f"port {port} on {host} is already in use; choose another with "
                    + ("--mqtt-port" if port == self.cfg.port else "--mqtts-port")
                )
        self._stopping.clear()
        self._spawn(binary, timeout)
        if self.supervise and (self._watcher is None or not self._watcher.is_alive()):
            self._watcher = threading.Thread(
                target=self._watch, args=(binary, timeout), name="mosquitto-watch", daemon=True
            )
            self._watcher.start()
        return self

    def _spawn(self, binary: str, timeout: float) -> subprocess.Popen[bytes]:
        self.proc = proc = subprocess.Popen(
            [binary, "-c", str(self.cfg.conf_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Its own session: Ctrl-C reaches us, and we stop the broker last, after the server.
            start_new_session=True,
        )
        self._spawned_at = time.monotonic()
        self.cfg.pid_path.write_text(f"{proc.pid} {os.getpid()}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise BrokerError(f"Mosquitto exited at start: {err.strip()}\n{self.log_tail()}")
            if all(port_open(host, port) for host, port in self.cfg.listeners) or (
                self._stopping.is_set()
            ):
                return proc
            time.sleep(0.05)
        self._terminate()
        raise BrokerError(f"Mosquitto did not listen on port {self.cfg.port} within {timeout} s")

    def _watch(self, binary: str, timeout: float) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            proc = self.proc
            if proc is None:
                return
            while proc.poll() is None:
                if self._stopping.wait(0.2):
                    return
            if proc.stderr is not None:
                proc.stderr.close()
            if time.monotonic() - self._spawned_at >= self.stable_after:
                delay = 1.0
            log.warning(
                "Mosquitto exited (code %s); starting it again in %g s", proc.returncode, delay
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self.max_delay)
            try:
                restarted = self._spawn(binary, timeout)
            except (BrokerError, OSError) as exc:
                log.error("Mosquitto did not start again: %s", exc)
                continue
            if not self._stopping.is_set():
                self.restarts += 1
                log.warning(
                    "Mosquitto started again (pid %d, restart %d)", restarted.pid, self.restarts
                )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.cfg.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
            self._watcher = None
        self._terminate()
        self._forget_pid()

    def _forget_pid(self) -> None:
        try:
            if self.proc and int(self.cfg.pid_path.read_text().split()[0]) == self.proc.pid:
                self.cfg.pid_path.unlink()
        except (OSError, ValueError):
            pass

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would; a supervised one is started again."""
        proc = self.proc
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()

    def __enter__(self) -> MosquittoProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def new_password() -> str:
    return secrets.token_urlsafe(18)
