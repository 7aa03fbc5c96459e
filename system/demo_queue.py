"""The demo's queue-number system: tickets issued, called at the counters and served, posted to
POST /api/v1/services with an API token as a real queue system would (docs/queue-integration.md),
so the dashboard's response rate (rated ÷ served) is real.

History: each day's tickets are posted late (the server then tells no unit), and the unit is
handed each rated ticket's Service just before the citizen presses, as the broker would have
done at the time. Live: a ticket is called now, the server sends the unit its Service over the
broker, and most citizens rate it at the unit.
"""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hailong.protocol import Service
from system.admin_api import AdminApi, fetch_json

MAX_EVENTS = 500  # what one request of the route takes
RATED_SHARE = 0.75  # citizens who rate a served ticket at the unit


@dataclass(frozen=True)
class Ticket:
    counter_id: str
    code: str
    called_at: datetime
    served_at: datetime


def queue_token(api: AdminApi, folder: Path) -> str:
    """The demo queue's token, made once and kept beside the fleet's passwords (0600)."""
    kept = folder / "queue-token"
    if kept.exists():
        return kept.read_text().strip()
    name = f"demo-queue-{datetime.now().strftime('%Y%m%d%H%M%S')}"
    made = api.post("/api/v1/tokens", {"name": name, "scope": "services"})
    folder.mkdir(parents=True, exist_ok=True)
    kept.write_text(str(made["token"]))
    kept.chmod(0o600)
    return str(made["token"])


def letter(counter_id: str) -> str:
    """One queue letter per field (the counter id ends in its field's code): T-0001, D-0001 …"""
    return counter_id.rsplit("-", 1)[-1][0]


class DemoQueue:
    def __init__(self, base_url: str, token: str, rng: random.Random) -> None:
        self.base_url = base_url
        self.token = token
        self.rng = rng
        self._numbers: dict[tuple[str, str], int] = {}

    def next_code(self, counter_id: str, day: str) -> str:
        key = (counter_id, day)
        self._numbers[key] = self._numbers.get(key, 0) + 1
        return f"{letter(counter_id)}-{self._numbers[key]:04d}"

    def post(self, events: Sequence[dict[str, str]]) -> list[dict[str, object]]:
        answers: list[dict[str, object]] = []
        for start in range(0, len(events), MAX_EVENTS):
            request = urllib.request.Request(
                f"{self.base_url}/api/v1/services",
                data=json.dumps({"events": list(events[start : start + MAX_EVENTS])}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self.token}",
                },
            )
            answers += fetch_json(request)["events"]
        return answers

    def tickets_for(self, counter_id: str, presses: Sequence[datetime]) -> list[Ticket | None]:
        """A ticket served before each press that a citizen rated (None: rated without one,
        as a few walk up without a number), and some more served and never rated."""
        tickets: list[Ticket | None] = []
        for at in presses:
            if self.rng.random() < 0.05:
                tickets.append(None)
                continue
            served = at - timedelta(seconds=self.rng.randint(20, 90))
            called = served - timedelta(minutes=self.rng.randint(3, 15))
            code = self.next_code(counter_id, at.date().isoformat())
            tickets.append(Ticket(counter_id, code, called, served))
        return tickets

    def unrated(self, counter_id: str, presses: Sequence[datetime]) -> list[Ticket]:
        """Tickets served at the counter whose citizens did not rate: about 1 in 4."""
        out = []
        for at in presses:
            if self.rng.random() < (1 - RATED_SHARE) / RATED_SHARE:
                served = at - timedelta(minutes=self.rng.randint(20, 40))
                called = served - timedelta(minutes=self.rng.randint(3, 15))
                code = self.next_code(counter_id, at.date().isoformat())
                out.append(Ticket(counter_id, code, called, served))
        return out


def events_of(tickets: Sequence[Ticket]) -> list[dict[str, str]]:
    """Each ticket as the queue system sends it: issued, called, served."""
    out = []
    for t in tickets:
        issued = t.called_at - timedelta(minutes=5)
        for kind, at in (("issued", issued), ("called", t.called_at), ("served", t.served_at)):
            out.append(
                {"event": kind, "ticket": t.code, "counter_id": t.counter_id, "at": at.isoformat()}
            )
    return out


def service_of(ticket: Ticket, officer_id: str) -> Service:
    return Service(ticket=ticket.code, officer_id=officer_id, open_s=120)


def called_events(counter_id: str, code: str, at: datetime) -> list[dict[str, str]]:
    """A live ticket issued and called at once (the demo's citizens never wait)."""
    where = {"ticket": code, "counter_id": counter_id, "at": at.isoformat()}
    return [{"event": "issued", **where}, {"event": "called", **where}]


def served_event(counter_id: str, code: str, at: datetime) -> dict[str, str]:
    return {"event": "served", "ticket": code, "counter_id": counter_id, "at": at.isoformat()}
