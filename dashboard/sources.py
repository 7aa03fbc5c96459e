"""Where pages get the database, the clock, the policy and the logged-in user.

Dash keeps pages in a process-wide registry, so a page layout cannot close over one app's session
factory. Flask's `current_app` names the app serving the request, so two dashboards in one
process (as in the tests) each read their own database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import Flask, current_app, request
from sqlmodel import Session

from server.access.roles import Access, from_scope
from server.policy import Policy
from server.reporting.reports import default_policy
from server.timeutil import vn_day

SessionFactory = Callable[[], AbstractContextManager[Session]]
ConfigRefresh = Callable[[], None]

_EXTENSION = "hailong.dashboard"


def no_refresh() -> None:
    """Without an ingest in this process, a unit's Config follows at the next boundary."""


def vn_today() -> date:
    """Today in Vietnam: the default report period ends on this day."""
    return vn_day(datetime.now(UTC))


@dataclass(frozen=True)
class Sources:
    """The seams a dashboard reads from; tests pass a fixed `today`. `policy` must be the API's,
    or ranks and classes would differ from its reports. `refresh_configs` asks the ingest to
    send the units new Configs, as the API does after a registry write."""

    session_factory: SessionFactory
    today: Callable[[], date] = vn_today
    policy: Policy = field(default_factory=default_policy)
    refresh_configs: ConfigRefresh = no_refresh


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
