"""The server's own MQTT client ids: unguessable, and the same at every start of an installation.

Mosquitto hands a session, with its subscriptions and queued messages, to whoever connects with
its client id; a fixed id such as `hailong-server` let any account that knew it take the server's
session. Every device account is bound to its own id (server.broker.dynsec), so a unit can use no
other id at all. The server's account cannot be bound the same way: the dynamic-security plugin
binds an account to one id, and the server's processes (API and ingest, `hailong ingest` instances,
the control client) share the account. So the server's ids carry a random token made once per
installation and kept in a private file: an account without a binding (one made by hand) cannot
guess them, and each process finds its persistent session again after a restart.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hailong.errors import ConfigError
from server.settings import Settings
from server.storage.secret_file import make_once

log = logging.getLogger("hailong.server")
TOKEN_FILE = "mqtt-client-token"
TOKEN_BYTES = 12


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def ensure_token(
    path: Path, make: Callable[[], str] = lambda: secrets.token_hex(TOKEN_BYTES)
) -> str:
    """The installation's token, made at the first start (server/storage/secret_file.py)."""
    try:
        if make_once(path, make):
            log.info("made the server's MQTT client token %s", path)
    except OSError as exc:
        raise ConfigError(
            f"cannot make the server's MQTT client token {path} ({exc}): set "
            "HAILONG_DATA_DIR to a folder the server's user can write"
        ) from None
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the server's MQTT client token {path} ({exc}): give the server's "
            "user access to it, or delete it and the next start makes a new one"
        ) from None
    if not token:
        raise ConfigError(f"{path} is empty: delete it, and the next start makes a new token")
    return token


@dataclass(frozen=True)
class ServerClientIds:
    """`suffix` (HAILONG_MQTT_CLIENT_ID) tells this process's ids from the other processes'."""

    token: str
    suffix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerClientIds:
        return cls(ensure_token(token_path(settings)), settings.mqtt_client_id)

    @property
    def ingest(self) -> str:
        """The ingest client's id: its persistent session must be found again at each start."""
        return f"hailong-{self.token}-{self.suffix}"

    def control(self) -> str:
        """A control-topic client's id, new for each connection: a registration from the API
        and the start-up upgrade may hold one at the same time, and a shared id would
        disconnect the other."""
        return f"{self.ingest}-dynsec-{secrets.token_hex(4)}"
