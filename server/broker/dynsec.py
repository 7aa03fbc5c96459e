"""Device accounts in Mosquitto, kept through the dynamic-security plugin's control topic.

Registering a device must make it able to connect at once, and revoking it must cut it off at
once; the plugin does both live, so the server never rewrites broker files or restarts it. Each
device account is bound to client id = its device id: Mosquitto gives a session to whoever
connects with its id, so an unbound account could take another unit's session or the server's.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from hailong.errors import BrokerError, ConfigError
from hailong.mqtt import MqttTarget, new_client
from server.broker.client_ids import ServerClientIds
from server.broker.mosquitto import device_acls, device_role
from server.settings import Settings

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"


class DynSec:
    """A small synchronous client for `$CONTROL/dynamic-security/v1`. The server passes its
    own unguessable `client_id` (server.broker.client_ids); tests and tools may leave it random."""

    def __init__(
        self, target: MqttTarget, timeout: float = 5.0, *, client_id: str | None = None
    ) -> None:
        self.target = target
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[threading.Event, list[Any]]] = {}
        self._client = new_client(client_id or f"hailong-dynsec-{uuid.uuid4().hex}", target)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._answered = threading.Event()  # subscribed, or refused: no need to wait longer
        self._client.on_connect_fail = lambda *_: self._answered.set()
        self._subscribed = threading.Event()
        self._client.on_subscribe = self._on_subscribe

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self._answered.set()
        else:
            client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_subscribe(self, *_: Any) -> None:
        self._subscribed.set()
        self._answered.set()

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        for response in body.get("responses", []):
            key = response.get("correlationData")
            waiter = self._pending.get(key)
            if waiter:
                waiter[1].append(response)
                waiter[0].set()

    def __enter__(self) -> DynSec:
        self._client.connect_async(self.target.host, self.target.port, keepalive=30)
        self._client.loop_start()
        self._answered.wait(self.timeout)
        if not self._subscribed.is_set():
            self.close()
            raise BrokerError(
                f"could not reach the broker's control topic at {self.target.redacted()} "
                f"within {self.timeout} s: is Mosquitto running and are the server's "
                "credentials right?"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def run(self, *commands: dict[str, Any]) -> list[dict[str, Any]]:
        """Send commands in as few messages as the size limit allows (the plugin runs them in
        order); one response each."""
        waiters = []
        for _ in commands:
            key = uuid.uuid4().hex
            waiter: tuple[threading.Event, list[Any]] = (threading.Event(), [])
            self._pending[key] = waiter
            waiters.append((key, waiter))
        try:
            body = [
                {**c, "correlationData": key} for c, (key, _) in zip(commands, waiters, strict=True)
            ]
            for message in _messages(body):
                info = self._client.publish(CONTROL_TOPIC, message, qos=1)
                info.wait_for_publish(self.timeout)
            responses = []
            for command, (_, (event, box)) in zip(commands, waiters, strict=True):
                if not event.wait(self.timeout):
                    raise BrokerError(f"the broker did not answer {command['command']!r} in time")
                responses.append(dict(box[0]))
            return responses
        finally:
            for key, _ in waiters:
                self._pending.pop(key, None)

    def check(self, *commands: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
        for command, response in zip(commands, self.run(*commands), strict=True):
            error = response.get("error")
            if error and not any(text in error for text in ignore):
                raise BrokerError(f"the broker refused {command['command']!r}: {error}")

    def put_device(self, device_id: str, password: str) -> None:
        """Create (or reset) a device's account, bound to client id = device id, and its own
        role; re-enabling a revoked one. A reset binds an account made before bindings too."""
        self.put_devices({device_id: password})

    def put_devices(self, passwords: Mapping[str, str]) -> None:
        """`put_device` for many devices in three messages, whatever their number: each message
        waits for its answer, and a round trip to the plugin is tens of milliseconds, which one
        at a time made an import of a province's devices take minutes."""
        if not passwords:
            return
        roles: list[dict[str, Any]] = []
        for device_id in passwords:
            role = device_role(device_id)
            roles.append({"command": "createRole", "rolename": role})
            roles += (
                {"command": "addRoleACL", "rolename": role, **acl, "priority": 0}
                for acl in device_acls(device_id)
            )
        self.check(*roles, ignore=("already exists",))
        created = self.run(
            *(
                {
                    "command": "createClient",
                    "username": device_id,
                    "password": password,
                    "clientid": device_id,
                    "roles": [{"rolename": device_role(device_id)}],
                }
                for device_id, password in passwords.items()
            )
        )
        existing = []
        for device_id, answer in zip(passwords, created, strict=True):
            error = answer.get("error")
            if error and "already exists" not in error:
                raise BrokerError(f"the broker refused to create {device_id!r}: {error}")
            if error:
                existing.append(device_id)
        if not existing:
            return
        self.check(
            *(
                command
                for device_id in existing
                for command in (
                    {
                        "command": "setClientPassword",
                        "username": device_id,
                        "password": passwords[device_id],
                    },
                    {"command": "setClientId", "username": device_id, "clientid": device_id},
                    {"command": "enableClient", "username": device_id},
                )
            )
        )
        # The role may already be the client's own; the plugin answers that with an error.
        self.run(
            *(
                {"command": "addClientRole", "username": d, "rolename": device_role(d)}
                for d in existing
            )
        )

    def disable_device(self, device_id: str) -> None:
        """Revocation: the device is disconnected now and cannot log in again. A device the
        broker has no account for (its dynsec file was remade) is cut off already."""
        self.check({"command": "disableClient", "username": device_id}, ignore=("not found",))


# The broker refuses a message over its message_size_limit (16384, server/broker/mosquitto.py).
MESSAGE_BUDGET = 12_000


def _messages(commands: list[dict[str, Any]]) -> list[str]:
    """The commands as few control messages as fit the broker's size limit, in order (the
    plugin runs a client's messages, and the commands in each, in order)."""
    messages: list[str] = []
    batch: list[str] = []
    size = 0
    for command in commands:
        text = json.dumps(command)
        if batch and size + len(text) + 1 > MESSAGE_BUDGET:
            messages.append('{"commands": [' + ",".join(batch) + "]}")
            batch, size = [], 0
        batch.append(text)
        size += len(text) + 1
    if batch:
        messages.append('{"commands": [' + ",".join(batch) + "]}")
    return messages


class BrokerAccounts:
    """What the registry needs from the broker: make and disable accounts, where devices connect."""

    def __init__(
        self,
        server_target: MqttTarget,
        device_target: MqttTarget,
        control_id: Callable[[], str] | None = None,
    ) -> None:
        self.server_target = server_target
        self.device_target = device_target
        self.control_id = control_id

    @classmethod
    def from_settings(cls, settings: Settings) -> BrokerAccounts:
        server_target = MqttTarget.from_url(settings.mqtt_url)
        if settings.device_mqtt_url:
            device_target = MqttTarget.from_url(settings.device_mqtt_url)
        else:
            device_target = MqttTarget(
                server_target.host, server_target.port, tls=server_target.tls
            )
        if settings.device_mqtt_ca_file:
            try:
                ca_pem = Path(settings.device_mqtt_ca_file).read_text()
            except OSError as exc:
                raise ConfigError(
                    f"HAILONG_DEVICE_MQTT_CA_FILE {settings.device_mqtt_ca_file} cannot be read "
                    f"({exc.strerror})"
                ) from None
            device_target = dataclasses.replace(device_target, ca_pem=ca_pem)
        return cls(server_target, device_target, ServerClientIds.from_settings(settings).control)

    def control(self) -> DynSec:
        """A control-topic client logged in as the server, under one of the server's ids."""
        client_id = self.control_id() if self.control_id else None
        return DynSec(self.server_target, client_id=client_id)

    def put_device(self, device_id: str, password: str) -> None:
        with self.control() as dynsec:
            dynsec.put_device(device_id, password)

    def put_devices(self, passwords: Mapping[str, str]) -> None:
        """Many accounts over one control connection, in a few messages (an import)."""
        with self.control() as dynsec:
            dynsec.put_devices(passwords)

    def disable_device(self, device_id: str) -> None:
        with self.control() as dynsec:
            dynsec.disable_device(device_id)
