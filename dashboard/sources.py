"""Where pages get the database, the clock, the policy and the logged-in user.

Dash keeps pages in a process-wide registry, so a page layout cannot close over one app's session
factory. Flask's `current_app` names the app serving the request, so two dashboards in one
process (as in the tests) each read their own database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from flask import Flask, current_app, request
from sqlmodel import Session

from hailong.mqtt import MqttTarget
from server.access.roles import Access, from_scope
from server.ingest.store import IngestRules
from server.policy import Policy
from server.reporting.reports import default_policy
from server.timeutil import vn_day

SessionFactory = Callable[[], AbstractContextManager[Session]]

_EXTENSION = "hailong.dashboard"


def vn_today() -> date:
    """Today in Vietnam: the default report period ends on this day."""
    return vn_day(datetime.now(UTC))


class DeviceAccounts(Protocol):
    """The broker accounts a device write needs (server/broker/dynsec.py `BrokerAccounts`)."""

    @property
    def device_target(self) -> MqttTarget: ...

    def put_device(self, device_id: str, password: str) -> None: ...

    def put_devices(self, passwords: Mapping[str, str]) -> None: ...

    def disable_device(self, device_id: str) -> None: ...


def _no_accounts() -> DeviceAccounts | None:
    return None


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Sources:
    """The seams a dashboard reads from; tests pass a fixed `today`. `policy` must be the API's,
    or ranks and classes would differ from its reports.

    The registry screens write through two more: `accounts` gives the server's broker accounts
    when a device is written (None: devices are read only here), and `registry_changed` asks the
    ingest to refresh the units' Configs after a write, as the API does."""

    session_factory: SessionFactory
    today: Callable[[], date] = vn_today
    policy: Policy = field(default_factory=default_policy)
    accounts: Callable[[], DeviceAccounts | None] = _no_accounts
    registry_changed: Callable[[], None] = _nothing
    alert_webhook: bool = False  # whether alerts are sent to a webhook (the panel says so)
    # How the server stores ratings it takes itself (paper forms): None, no such writes here.
    ingest_rules: IngestRules | None = None
    # The server's secret_key, which officers' PINs and cards are tagged with
    # (server/registry/credentials.py); empty: credentials cannot be set here.
    credential_secret: str = ""


def install(server: Flask, sources: Sources) -> None:
    server.extensions[_EXTENSION] = sources


def current() -> Sources:
    """The sources of the app handling this request (only valid inside a request)."""
    sources: Sources = current_app.extensions[_EXTENSION]
    return sources


def access() -> Access:
    """Who is looking, as the server's login guard hands it on (a2wsgi gives the ASGI scope as
    environ["asgi.scope"]); a request without one is refused (server/access/roles.py)."""
    return from_scope(request.environ.get("asgi.scope"))


def client() -> str | None:
    """Where the request came from, for the audit log: the peer address, as the API records it."""
    return request.remote_addr
