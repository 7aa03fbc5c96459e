"""Brokers made by an older `hailong broker init` or `hailong up`, brought up to date at start.

The dynamic-security file is written once and then belongs to the broker, so a new release cannot
rewrite it. Before client ids were bound, a device account could connect under another unit's id
or the server's and take that session, and no role allowed the signin topic. Every server and
ingest process runs `upgrade_job`: it reads the accounts and roles over the control topic and
sends only what is missing (each registered, not revoked device's binding and ACLs; the server
role's ACLs). A broker already up to date is only read, so processes doing it at once do no
harm; and it is tried again until it has run once, so a broker that is down at start delays the
upgrade and never stops the start (ingest reconnects by itself).

The server's client ids changed too (server.broker.client_ids), and the broker keeps the session of
the id a process had before for a week, queueing every rating for it: in a shared subscription half
of them would wait there unseen. So each process also drops the session of its old id, once
(a rating queued there was never acknowledged, so its unit sends it again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from sqlmodel import Session, col, select

from hailong.errors import BrokerError
from hailong.mqtt import MqttTarget, new_client
from server.broker.dynsec import BrokerAccounts, DynSec
from server.broker.mosquitto import SERVER_ROLE, device_acls, device_role, server_acls
from server.jobs import Job
from server.settings import Settings
from server.storage.models import Device

log = logging.getLogger("hailong.broker")
# One control message carries this many commands: the broker refuses a publish over its
# message_size_limit (16 KiB in Hài Lòng's configs), and a province has thousands of devices.
COMMANDS_PER_MESSAGE = 40
RETRY_S = 60.0


@dataclass
class Plan:
    """What the broker lacks: the devices' `commands`, then the `server_commands` (sent last and
    alone), and `warnings` for an administrator to act on."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    server_commands: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[dict[str, Any]]:
        return self.commands + self.server_commands


def _missing_acls(
    role: dict[str, Any] | None, rolename: str, wanted: list[dict[str, object]]
) -> list[dict[str, Any]]:
    have = {(acl["acltype"], acl["topic"]) for acl in (role or {}).get("acls", [])}
    return [
        {"command": "addRoleACL", "rolename": rolename, **acl, "priority": 0}
        for acl in wanted
        if (acl["acltype"], acl["topic"]) not in have
    ]


def plan(
    clients: list[dict[str, Any]], roles: list[dict[str, Any]], device_ids: Iterable[str]
) -> Plan:
    """Compare the broker's accounts and roles (listClients/listRoles, verbose) with what the
    registered, not revoked devices and the server need."""
    by_user = {client["username"]: client for client in clients}
    by_role = {role["rolename"]: role for role in roles}
    result = Plan()
    devices = set(device_ids)
    unknown = sorted(devices - by_user.keys())
    if unknown:
        result.warnings.append(
            f"{len(unknown)} registered device(s) have no broker account and cannot connect "
            f"({', '.join(unknown[:10])}): reset their password (register them again)"
        )
    for device_id in sorted(devices & by_user.keys()):
        client, rolename = by_user[device_id], device_role(device_id)
        if rolename not in by_role:
            result.commands.append({"command": "createRole", "rolename": rolename})
        result.commands += _missing_acls(by_role.get(rolename), rolename, device_acls(device_id))
        if rolename not in {role["rolename"] for role in client.get("roles", [])}:
            result.commands.append(
                {"command": "addClientRole", "username": device_id, "rolename": rolename}
            )
        if client.get("clientid") != device_id:
            result.commands.append(
                {"command": "setClientId", "username": device_id, "clientid": device_id}
            )
    for client in clients:
        own_roles = {role["rolename"] for role in client.get("roles", [])}
        if (
            client["username"] not in devices
            and not client.get("clientid")
            and not client.get("disabled")
            and SERVER_ROLE not in own_roles
        ):
            result.warnings.append(
                f"broker account {client['username']!r} is not a registered device and has no "
                "client id bound: it can connect under any id and take that session; bind it "
                "(setClientId) or delete it"
            )
    # Last: a change to the server's role disconnects every client holding it, this one too.
    if SERVER_ROLE in by_role:
        result.server_commands = _missing_acls(by_role[SERVER_ROLE], SERVER_ROLE, server_acls())
    else:
        result.warnings.append(
            f"the broker has no role {SERVER_ROLE!r}: give the server's account the ACLs of "
            "`hailong broker init` by hand"
        )
    return result


def describe(command: dict[str, Any]) -> str:
    """One change, for the log: `setClientId dev-a dev-a`, `addRoleACL device-dev-a …`."""
    parts = [command["command"], command.get("username") or command["rolename"]]
    parts += [str(command[key]) for key in ("clientid", "acltype", "topic") if key in command]
    if command["command"] == "addClientRole":
        parts.append(command["rolename"])
    return " ".join(parts)


def upgrade(dynsec: DynSec, device_ids: Iterable[str]) -> Plan:
    """Read the broker's accounts and roles, then send what they lack."""
    listed = dynsec.run(
        {"command": "listClients", "verbose": True, "count": -1, "offset": 0},
        {"command": "listRoles", "verbose": True, "count": -1, "offset": 0},
    )
    for response in listed:
        if response.get("error"):
            raise BrokerError(f"the broker refused {response['command']!r}: {response['error']}")
    clients_response, roles_response = listed
    result = plan(clients_response["data"]["clients"], roles_response["data"]["roles"], device_ids)
    batches = [
        result.commands[start : start + COMMANDS_PER_MESSAGE]
        for start in range(0, len(result.commands), COMMANDS_PER_MESSAGE)
    ]
    if result.server_commands:
        batches.append(result.server_commands)
    for batch in batches:
        # The server role's change disconnects this client, and its publish may then be
        # delivered again on reconnection: an ACL it finds there already is no error.
        dynsec.check(*batch, ignore=("already exists",))
    return result


def legacy_client_ids(settings: Settings) -> set[str]:
    """The ids this process may have had before they held the token: HAILONG_MQTT_CLIENT_ID
    itself (the whole id then), or with the `hailong-` of the old defaults before it."""
    suffix = settings.mqtt_client_id
    return {suffix, suffix if suffix.startswith("hailong-") else f"hailong-{suffix}"}


def forget_session(target: MqttTarget, client_id: str, timeout: float = 5.0) -> bool:
    """Connect under `client_id` with a clean start and no session expiry, then leave: the
    broker drops whatever session that id had. False when the broker did not accept us."""
    accepted = threading.Event()
    answered = threading.Event()
    client = new_client(client_id, target)

    def on_connect(_c: object, _u: object, _f: object, rc: paho.ReasonCode, _p: object) -> None:
        if not rc.is_failure:
            accepted.set()
        answered.set()

    client.on_connect = on_connect
    client.on_connect_fail = lambda *_: answered.set()
    client.connect_async(target.host, target.port, keepalive=30, clean_start=True)
    client.loop_start()
    try:
        answered.wait(timeout)
        return accepted.is_set()
    finally:
        client.disconnect()
        client.loop_stop()


def upgrade_job(
    accounts: BrokerAccounts, legacy_ids: Iterable[str] = (), retry_s: float = RETRY_S
) -> Job:
    """Runs once per process, as soon as the broker answers."""
    done: list[bool] = []

    def run(session: Session, _now: object) -> None:
        if done:
            return
        query = select(Device.id).where(col(Device.revoked_at).is_(None))
        device_ids = list(session.exec(query))
        session.rollback()  # no transaction held open while the broker answers
        try:
            with accounts.control() as dynsec:
                result = upgrade(dynsec, device_ids)
        except BrokerError as exc:
            log.error(
                "could not bring the broker's accounts up to date (%s); trying again in %.0f s",
                exc,
                retry_s,
            )
            return
        done.append(True)
        # A registered device's id is never taken, not even for a moment.
        for client_id in sorted(set(legacy_ids) - set(device_ids)):
            if forget_session(accounts.server_target, client_id):
                log.info("dropped the broker's session of the old client id %r, if any", client_id)
        for command in result.changes:
            log.info("broker upgrade: %s", describe(command))
        for warning in result.warnings:
            log.warning("%s", warning)
        log.log(
            logging.WARNING if result.changes else logging.INFO,
            "broker accounts checked: %d device(s), %d change(s) made",
            len(device_ids),
            len(result.changes),
        )

    return Job("broker-upgrade", retry_s, run)
