"""Who may see what: a logged-in user's role and scope, as a plain value that the API's routes
and the dashboard's pages both consult. Every role table is here, so a rule is read in one place.

- admin: the registry, devices and users, and the audit log; reads everything.
- hr: reads every unit, with names, and exports.
- unit_head: reads their own unit only.
- officer: their own figures only.
- viewer: figures of every unit, without names (no officer ids either).

Every role may export what it may see, no more, because an export is the same query as the
screen (and is audited). The role tuples below are closed lists: a role that is not named in
one (a future role, a row edited by hand) gets nothing from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hailong.errors import HailongError
from server.storage.models import User

ADMINISTER = ("admin",)  # registry and device writes, users, the audit log, rejected messages
READ_REGISTRY = ("admin", "hr", "unit_head")
REGISTRY_SCREENS = ("admin", "unit_head")  # the dashboard's registry pages; a head sees their unit
ANY_UNIT = ("admin", "hr", "viewer")
OWN_UNIT = ("unit_head", "officer")
SEE_NAMES = ("admin", "hr", "unit_head", "officer")
EXPORT = ("admin", "hr", "unit_head", "officer", "viewer")
SEE_ALERTS = ("admin", "hr", "unit_head")  # an alert at a counter points at whoever sat there
SEE_FLEET = ("admin", "hr", "unit_head")  # the fleet view names the officer on duty at each unit
PRINT_MONTHLY = ("admin", "hr", "unit_head")  # the printable month names every officer of a unit
PRINT_QR_CARDS = ("admin", "unit_head")  # a counter's card links: who runs the counters
# The drill-down pages (server/reporting/drilldown.py): an officer's page names them and shows
# their hours; a unit's shows its officers' hours; units side by side span units.
OFFICER_PAGE = ("admin", "hr", "unit_head", "officer")
UNIT_PAGE = ("admin", "hr", "unit_head")
COMPARE_UNITS = ("admin", "hr")
# Paper survey forms: hr and admins enter any unit's; a unit_head may not (their own unit's
# forms would score their own officers).
ENTER_PAPER = ("admin", "hr")
NAME_FIELDS = ("officer_id", "name", "title")  # what a viewer's rows leave out


ACCESS_KEY = "hailong.access"  # where the login guard puts the user's Access in the ASGI scope


class Forbidden(HailongError):
    """Logged in, but the role does not allow this; the API answers 403 with the message."""


@dataclass(frozen=True)
class Access:
    role: str
    username: str
    unit_id: str | None = None
    officer_id: str | None = None
    full_name: str | None = None  # the person's name, for the dashboard's header

    @classmethod
    def of(cls, user: User) -> Access:
        return cls(user.role, user.username, user.unit_id, user.officer_id, user.full_name)

    @property
    def display_name(self) -> str:
        """Who is logged in, as a person reads it: the full name, else the login id."""
        return (self.full_name or "").strip() or self.username

    def require(self, roles: tuple[str, ...]) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}; you are {self.role}")

    def unit_scope(self, requested: str | None) -> str | None:
        """The unit a read is limited to, None for every unit. A unit_head or an officer is held
        to their own unit; asking for another is refused rather than quietly narrowed."""
        if self.role in ANY_UNIT:
            return requested
        if self.role not in OWN_UNIT:
            raise Forbidden(f"the role {self.role!r} sees no unit; ask an admin")
        if self.unit_id is None:
            raise Forbidden(f"this {self.role}'s login has no unit, so it sees none; ask an admin")
        if requested is not None and requested != self.unit_id:
            raise Forbidden(f"unit_id: a {self.role} sees only their own unit, {self.unit_id!r}")
        return self.unit_id

    def officer_scope(self, requested: str | None) -> str | None:
        """The officer a read is limited to, None for all; an officer gets only themselves.
        Combine it with `unit_scope`: for other roles it only narrows what that allows."""
        if self.role != "officer":
            return requested
        if self.officer_id is None:
            raise Forbidden("an officer's login without an officer sees nothing; ask an admin")
        if requested is not None and requested != self.officer_id:
            raise Forbidden(
                f"officer_id: an officer sees only their own figures, {self.officer_id!r}"
            )
        return self.officer_id

    @property
    def may_see_names(self) -> bool:
        return self.role in SEE_NAMES

    @property
    def may_export(self) -> bool:
        """Within `unit_scope`, `officer_scope` and `may_see_names`, as on the screen."""
        return self.role in EXPORT

    def redact(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Per-officer rows as this user may see them. Without names, NAME_FIELDS are dropped and
        the rows sorted by unit and then by what is shown, so their order (by name, by id)
        cannot tell who is who."""
        if self.may_see_names:
            return [dict(row) for row in rows]
        shown = [{k: v for k, v in row.items() if k not in NAME_FIELDS} for row in rows]
        return sorted(
            shown, key=lambda r: (str(r.get("unit_id")), json.dumps(r, sort_keys=True, default=str))
        )


def from_scope(scope: Mapping[str, Any] | None) -> Access:
    """Who is looking, as the login guard (server/web/login.py) handed it on in the ASGI scope,
    where no request header can reach. A request without one is refused, so a page served
    without the guard shows no figures rather than all of them."""
    found = (scope or {}).get(ACCESS_KEY)
    if not isinstance(found, Access):
        raise Forbidden("no logged-in user: open the dashboard through the server's /login")
    return found
