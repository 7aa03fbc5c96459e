"""Where pages get the database and the clock: stored on the Flask server of each Dash app.

Dash keeps pages in a process-wide registry, so a page layout cannot close over one app's session
factory. Flask's `current_app` names the app serving the request, so two dashboards in one
process (as in the tests) each read their own database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Flask, current_app
from sqlmodel import Session

from server.timeutil import vn_day

SessionFactory = Callable[[], AbstractContextManager[Session]]

_EXTENSION = "hailong.dashboard"


def vn_today() -> date:
    """Today in Vietnam: the default report period ends on this day."""
    return vn_day(datetime.now(UTC))


@dataclass(frozen=True)
class Sources:
    """The seams a dashboard reads from; tests pass a fixed `today`."""

    session_factory: SessionFactory
    today: Callable[[], date] = vn_today


def install(server: Flask, sources: Sources) -> None:
    server.extensions[_EXTENSION] = sources


def current() -> Sources:
    """The sources of the app handling this request (only valid inside a request)."""
    sources: Sources = current_app.extensions[_EXTENSION]
    return sources
