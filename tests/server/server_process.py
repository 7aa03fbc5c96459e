"""`hailong server` as a real child process on a free loopback port, configured by HAILONG_*.

Fault tests need a server that can be SIGKILLed and started again, or run twice side by side;
an in-process app cannot be. The child's log is read as it comes (tests.child.Child), so a
test can wait on it and show its tail when something goes wrong.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from server.broker.mosquitto import free_port
from tests.child import Child
from tests.conftest import Broker

THREAD_DIED = "Exception in thread"  # Python's report of a thread ended by an exception


def chain_key_file(database_url: str) -> str:
    """One chain key per test database, shared by every process on it, outside the repo."""
    name = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / "hailong-test-keys" / f"{name}.key")


def probe(base: str) -> tuple[int, dict[str, Any]]:
    """/healthz's status and body, 503 included; (0, {}) while nothing answers."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except (OSError, ValueError):
        return 0, {}


class ServerProcess:
    """One server process; `start()` again after `kill()` or `stop()` is a restart."""

    def __init__(
        self,
        broker: Broker,
        database_url: str,
        *,
        client_id: str = "server",
        shared_group: str = "",
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "HAILONG_DATABASE_URL": database_url,
            "HAILONG_MQTT_URL": broker.server_url,
            "HAILONG_MQTT_CLIENT_ID": client_id,
            "HAILONG_MQTT_SHARED_GROUP": shared_group,
            "HAILONG_SECRET_KEY": "fault-tests-" + "k" * 32,
            "HAILONG_CHAIN_KEY_FILE": chain_key_file(database_url),
            "HAILONG_DATA_DIR": str(Path(chain_key_file(database_url)).with_suffix(".data")),
            **(env or {}),
        }
        self.child: Child | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start it and wait until it answers /healthz with its MQTT link up."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> ServerProcess:
        """Start it without waiting, so that several can start side by side."""
        self.child = Child(
            [sys.executable, "-m", "system.cli", "server", "--port", str(self.port)],
            env=self.env,
        )
        return self

    def wait_ready(self, timeout: float = 60.0) -> ServerProcess:
        assert self.child is not None, "launch() it first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.child.proc.poll() is None, f"the server exited at start:\n{self.tail()}"
            health = self.health()
            if health is not None and health.get("mqtt") == "connected":
                return self
            time.sleep(0.1)
        raise AssertionError(f"the server was not ready within {timeout} s:\n{self.tail()}")

    def health(self) -> dict[str, Any] | None:
        """/healthz's answer (a 503's too), or None while nothing answers."""
        return probe(self.base)[1] or None

    @property
    def output(self) -> str:
        return self.child.output if self.child else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    def crashed(self) -> bool:
        """A thread of it (the ingest worker, say) died of an exception."""
        return THREAD_DIED in self.output

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or the OOM killer."""
        if self.child is not None:
            self.child.kill()

    def stop(self) -> None:
        """SIGTERM, the way a service manager stops it; SIGKILL if it does not end in time."""
        if self.child is None or self.child.proc.poll() is not None:
            return
        try:
            self.child.stop(timeout=40)
        except subprocess.TimeoutExpired:
            self.child.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
