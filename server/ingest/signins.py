"""An officer's sign-in at the unit (the contract's SignIn): the credential checked, the
assignment started or ended, wrong credentials counted until the unit's sign-in locks.

Called by server/ingest/store.py `store_batch` inside the batch's transaction, so the Ack is sent
only after the assignment is committed. A payload the contract refuses, or one from an unknown or
revoked device, raises ContractError and is kept as rejected like a bad rating; everything else
is answered: accepted, duplicate (an id already handled: each handled id is in the audit log,
which a resent SignIn is looked up in) or rejected with a short reason for the unit's screen,
Vietnamese first.

A sign-in overrides the rota from its moment until the end of the shift the registry puts at that
counter then (rota or one-off), or the end of that Vietnam day when there is none; it ends any
other sign-in running at the counter, and the officer's own sign-in at another counter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, or_, select

from hailong import protocol
from hailong.protocol import ContractError, SignIn
from server.access import audit
from server.registry.credentials import find_officer
from server.registry.roster import SignedIn, rows_between
from server.registry.rota import SIGNIN, resolve
from server.registry.signin_methods import allows
from server.storage.channels import SignInGuard
from server.storage.models import Assignment, AuditEvent, Counter, Device, Officer, Unit
from server.timeutil import VN_TZ, utc, vn_day, vn_day_start

ACTIONS = ("signin.in", "signin.out", "signin.refused", "signin.locked")
KIND_TEXT = {"pin": ("mã PIN", "PIN"), "card": ("thẻ", "card")}
# How far a sign-in's `at` may be from its receipt and still be believed (the contract's clock
# tolerance): the officer is at the unit as it sends, so only a wrong clock puts it further off.
TOLERANCE = timedelta(seconds=protocol.CLOCK_TOLERANCE_S)
DUPLICATE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class SignInRules:
    """`secret`: the server's secret_key, which the credentials' tags are keyed with."""

    secret: str = ""
    max_failures: int = 5
    lock: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Answer:
    """What the Ack says of one SignIn; `changed`: an assignment started or ended, so the
    units' Configs must be refreshed."""

    id: str
    verdict: Literal["accepted", "duplicate", "rejected"]
    reason: str = ""
    changed: bool = False


def handle(
    session: Session,
    device: Device | None,
    device_id: str,
    payload: bytes,
    received_at: datetime,
    rules: SignInRules,
) -> Answer:
    """Apply one SignIn from `device_id`'s topic, in the caller's transaction."""
    signin = protocol.decode_signin(payload)
    if device is None:
        raise ContractError("device_id", f"unknown device {device_id!r}")
    if device.revoked_at is not None:
        raise ContractError("device_id", f"device {device_id!r} is revoked")
    received_at = utc(received_at)
    if _handled(session, signin.id, received_at):
        return Answer(signin.id, "duplicate")
    return _Handler(session, device, signin, received_at, rules).run()


def sign_in_time(at: datetime, received_at: datetime) -> datetime:
    """When the shift starts: the unit's `at`, unless it is more than the clock tolerance off
    the receipt, or later than it: a unit whose clock is unsynchronised (no RTC, no NTP yet)
    would otherwise start a shift hours or years away, and a shift must never start after the
    server learned of it, or the unit would keep showing the previous officer until then."""
    at, received_at = utc(at), utc(received_at)
    return min(at, received_at) if abs(at - received_at) <= TOLERANCE else received_at


def _handled(session: Session, signin_id: str, received_at: datetime) -> bool:
    """Whether the SignIn was handled within DUPLICATE_WINDOW before now: a unit resends one
    only until its Ack comes, every `resend_s`, so the window bounds the search (the audit
    log's action-and-time index) without missing a resend."""
    found = session.exec(
        select(AuditEvent.id)
        .where(col(AuditEvent.action).in_(ACTIONS))
        .where(col(AuditEvent.at) >= received_at - DUPLICATE_WINDOW)
        .where(AuditEvent.target == signin_id)
        .limit(1)
    ).first()
    return found is not None


def _clock_text(moment: datetime) -> str:
    """HH:MM in Vietnam time, rounded up: the officer who waits until then is let in."""
    local = moment.astimezone(VN_TZ)
    minutes = math.ceil((local.second + local.microsecond / 1e6) / 60)
    return (local.replace(second=0, microsecond=0) + timedelta(minutes=minutes)).strftime("%H:%M")


class _Handler:
    """One SignIn from a known device: its unit's method, the lock, the credential, then the
    sign-in or sign-out; every outcome is audited under the SignIn's id."""

    def __init__(
        self,
        session: Session,
        device: Device,
        signin: SignIn,
        received_at: datetime,
        rules: SignInRules,
    ) -> None:
        self.session = session
        self.device = device
        self.signin = signin
        self.received_at = received_at
        self.rules = rules
        self.at = sign_in_time(signin.at, received_at)
        self.counter_id = device.counter_id
        self.kind = signin.credential.kind
        self.officer: Officer | None = None

    def run(self) -> Answer:
        counter = self.session.get(Counter, self.counter_id)
        unit = self.session.get(Unit, counter.unit_id) if counter else None
        vi, en = KIND_TEXT[self.kind]
        if unit is None or not allows(unit.signin, self.kind):
            return self._refuse(
                f"Đơn vị không dùng đăng nhập bằng {vi}; sign-in by {en} is not enabled here"
            )
        guard = self.session.get(SignInGuard, self.device.id) or SignInGuard(
            device_id=self.device.id
        )
        if guard.locked_until is not None and self.received_at < utc(guard.locked_until):
            return self._locked_refusal(guard.locked_until)
        value = self.signin.credential.value
        self.officer = find_officer(self.session, self.rules.secret, unit.id, self.kind, value)
        if self.officer is None:
            return self._wrong(guard, vi, en)
        if guard.failures or guard.locked_until is not None:
            guard.failures = 0
            guard.locked_until = None
            self.session.add(guard)
        if self.signin.action == "in":
            return self._sign_in(self.officer)
        return self._sign_out(self.officer)

    # outcomes ------------------------------------------------------------------------------

    def _audit(self, action: str, **detail: object) -> None:
        audit.record(
            self.session,
            f"device:{self.device.id}",
            action,
            target=self.signin.id,
            at=self.received_at,
            detail={
                "device_id": self.device.id,
                "counter_id": self.counter_id,
                "officer_id": self.officer.id if self.officer else None,
                "action": self.signin.action,
                "kind": self.kind,
                **detail,
            },
        )

    def _refuse(self, reason: str, action: str = "signin.refused") -> Answer:
        self._audit(action, reason=reason)
        return Answer(self.signin.id, "rejected", reason)

    def _locked_refusal(self, until: datetime) -> Answer:
        hhmm = _clock_text(utc(until))
        return self._refuse(f"Tạm khóa đăng nhập đến {hhmm}; sign-in locked until {hhmm}")

    def _wrong(self, guard: SignInGuard, vi: str, en: str) -> Answer:
        guard.failures += 1
        guard.last_failure_at = self.received_at
        self.session.add(guard)
        left = self.rules.max_failures - guard.failures
        if left > 0:
            return self._refuse(f"Sai {vi} (còn {left} lần); wrong {en} ({left} tries left)")
        until = self.received_at + self.rules.lock
        guard.failures = 0
        guard.locked_until = until
        hhmm = _clock_text(until)
        return self._refuse(
            f"Sai {vi}. Tạm khóa đăng nhập đến {hhmm}; wrong {en}, sign-in locked until {hhmm}",
            "signin.locked",
        )

    def _running(self, *conditions: object) -> list[Assignment]:
        """The sign-ins running at the sign-in's moment that meet `conditions`."""
        return list(
            self.session.exec(
                select(Assignment)
                .where(Assignment.source == SIGNIN)
                .where(col(Assignment.start) <= self.at)
                .where(or_(col(Assignment.end).is_(None), col(Assignment.end) > self.at))
                .where(*conditions)  # type: ignore[arg-type]
            ).all()
        )

    def _sign_in(self, officer: Officer) -> Answer:
        running = self._running(
            or_(Assignment.counter_id == self.counter_id, Assignment.officer_id == officer.id)
        )
        here = [a for a in running if (a.counter_id, a.officer_id) == (self.counter_id, officer.id)]
        if here:  # signed in here already: the shift goes on as it was
            self._audit("signin.in", assignment_id=here[0].id, already=True)
            return Answer(self.signin.id, "accepted")
        ended = []
        for other in running:
            other.end = self.at
            self.session.add(other)
            ended.append(other.id)
        shift = Assignment(
            officer_id=officer.id,
            counter_id=self.counter_id,
            start=self.at,
            end=self._shift_end(),
            source=SIGNIN,
        )
        self.session.add(shift)
        self.session.flush()
        self._audit("signin.in", assignment_id=shift.id, end=shift.end, ended=ended)
        return Answer(self.signin.id, "accepted", changed=True)

    def _sign_out(self, officer: Officer) -> Answer:
        mine = self._running(
            Assignment.counter_id == self.counter_id, Assignment.officer_id == officer.id
        )
        if not mine:
            return self._refuse(
                "Cán bộ chưa đăng nhập tại quầy này; this officer is not signed in at this counter"
            )
        for shift in mine:
            shift.end = self.at
            self.session.add(shift)
        self._audit("signin.out", assignment_id=mine[0].id)
        return Answer(self.signin.id, "accepted", changed=True)

    def _shift_end(self) -> datetime:
        """The end of the registry's shift at the counter at the sign-in's moment (the rota's
        or a one-off's, every sign-in left out), else the end of that Vietnam day; earlier if a
        later sign-in at the counter is already stored (a SignIn that arrived late)."""
        rotas, assignments, absences, units = rows_between(
            self.session, [self.counter_id], self.at, self.at
        )
        planned = [a for a in assignments if a.source != SIGNIN]
        leave = [a for a in absences if not isinstance(a, SignedIn)]
        resolved = resolve(self.at, self.at, rotas, planned, leave, units)
        ends = [
            s.end
            for s in resolved.get(self.counter_id, [])
            if s.start <= self.at and s.end is not None and self.at < s.end
        ]
        end = min(ends) if ends else vn_day_start(vn_day(self.at) + timedelta(days=1))
        later = self.session.exec(
            select(Assignment.start)
            .where(Assignment.source == SIGNIN)
            .where(Assignment.counter_id == self.counter_id)
            .where(col(Assignment.start) > self.at)
            .order_by(col(Assignment.start))
        ).first()
        return min(utc(end), utc(later)) if later is not None else utc(end)
