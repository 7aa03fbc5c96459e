"""When a press is taken: the guards a citizen's press passes before it becomes a Rating.

A person at a counter may press twice by mistake (the Config's cooldown), or rate where the
Config requires a served transaction and none is open; a low score of theirs asks for reasons;
and their press happens now, in this boot, so it is dated by this boot's clocks (the contract's
"Time on the unit"). The unit asks its Guard about every press. CitizenGuard, the default, is
the one for a counter; a program that presses at moments of its own choosing gives the unit a
guard of its own, as it gives it a clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Opening:
    """A rating the server (a Service) or the officer's button opened, until `until`
    (monotonic): the open transaction a guard is told of."""

    ticket: str | None
    officer_id: str | None
    until: float


@dataclass(frozen=True)
class Press:
    """What a guard is told about a press."""

    since_last_s: float | None  # since the last rating was complete; None before the first
    cooldown_s: float
    require_service: bool
    service_open: bool


@dataclass(frozen=True)
class Take:
    """Take the press. `ask_reasons`: a low score may open the reasons page. `of_this_boot`:
    the press happens now and is dated by this boot's clocks; else its moment is the one set on
    the wall clock, and it carries no boot."""

    ask_reasons: bool = True
    of_this_boot: bool = True


@dataclass(frozen=True)
class Ignore:
    """Ignore the press, for the reason given; `counted` ones are double presses, counted in
    Status.ignored_presses."""

    why: str
    counted: bool


class Guard(Protocol):
    def judge(self, press: Press) -> Take | Ignore: ...


class CitizenGuard:
    """A counter's guard: no double press, no rating outside a transaction that is required."""

    def judge(self, press: Press) -> Take | Ignore:
        if press.since_last_s is not None and press.since_last_s < press.cooldown_s:
            return Ignore(f"inside the {press.cooldown_s:.1f} s cooldown", counted=True)
        if press.require_service and not press.service_open:
            return Ignore("no transaction is open (require_service)", counted=False)
        return Take()
