"""The tables of the channels beside the counter unit: machine tokens, queue tickets, the
citizen's rating links, officers' sign-in credentials and paper survey batches.

Each of these feeds ratings or shifts into the same tables as a unit does (`rating`,
`assignment`, `service`), so reports need no second path; what is kept here is only what the
channel itself must remember: who may post tickets, which link has been used, which form number
was already entered, how many wrong PINs a unit has seen.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

# A token's scope says which routes it opens; the only one today is the queue system's.
TOKEN_SCOPES = ("services",)
# Ticket events a queue system posts (POST /api/v1/services), in the order they happen.
TICKET_EVENTS = ("issued", "called", "served")
CREDENTIAL_KINDS = ("pin", "card")
SIGNIN_METHODS = ("none", "pin", "card", "pin_or_card")
# The channels a rating comes in by (`rating.input`); the last two are the server's own.
INPUTS = ("button", "touch", "keyboard", "web", "paper")
# The pseudo devices that server-side channels' ratings are chained under: `~` is outside the
# contract's id alphabet, so no unit can ever be registered under either name.
WEB_DEVICE = "~web"
PAPER_DEVICE = "~paper"


class ApiToken(SQLModel, table=True):
    """A revocable token for one machine client (an integration, never a person). Only the
    SHA-256 of the token is stored: it is 32 random bytes, so a fast hash is enough, and a
    leaked database does not give working tokens."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    scope: str = Field(max_length=16)
    unit_id: str | None = Field(default=None, max_length=64, description="limited to one unit")
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime
    created_by: str = Field(max_length=64)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class QueueTicket(SQLModel, table=True):
    """One ticket of a queue system through its events: issued, called to a counter, served.
    Keyed by unit, Vietnam day and code, because queue systems start again at A-0001 each day."""

    __tablename__ = "queue_ticket"
    __table_args__ = (UniqueConstraint("unit_id", "day", "ticket"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: str = Field(max_length=64)
    day: date
    ticket: str = Field(max_length=64)
    state: str = Field(max_length=16)  # the last event: issued, called or served
    issued_at: datetime | None = None
    called_at: datetime | None = None
    served_at: datetime | None = None
    counter_id: str | None = Field(default=None, max_length=64)
    officer_id: str | None = Field(default=None, max_length=64)
    token_id: int | None = Field(default=None, description="the api_token that posted it")


class RatingInvite(SQLModel, table=True):
    """A citizen's rating link. A ticket's link takes one rating and expires; a counter's
    printed card has no ticket and no expiry, and its ratings are flagged `web_unverified`.
    `token` is the link's secret part (random, unguessable): ticket codes are sequential."""

    __tablename__ = "rating_invite"
    token: str = Field(primary_key=True, max_length=64)
    counter_id: str = Field(max_length=64, index=True)
    unit_id: str = Field(max_length=64)
    ticket: str | None = Field(default=None, max_length=64)
    queue_ticket_id: int | None = Field(default=None, unique=True)
    officer_id: str | None = Field(default=None, max_length=64)
    served_at: datetime | None = None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rating_id: str | None = Field(default=None, max_length=36, description="the one rating taken")


class WebSubmission(SQLModel, table=True):
    """When a card link was used, from which address: the limit per address and counter."""

    __tablename__ = "web_submission"
    __table_args__ = (Index("ix_web_submission_counter_address", "counter_id", "address", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    counter_id: str = Field(max_length=64)
    address: str = Field(max_length=64)
    at: datetime
    rating_id: str = Field(max_length=36)


class OfficerCredential(SQLModel, table=True):
    """An officer's PIN or card number, only as an Argon2 hash. `tag` is a short keyed digest
    of the value (one hex digit of an HMAC under the server's secret) that narrows which hashes
    a sign-in must try, so finding the officer stays fast without storing anything guessable."""

    __tablename__ = "officer_credential"
    officer_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=8)
    unit_id: str = Field(max_length=64, index=True)
    tag: str = Field(max_length=8)
    hash: str = Field(max_length=200)
    created_at: datetime
    created_by: str = Field(max_length=64)


class SignInGuard(SQLModel, table=True):
    """Wrong credentials one unit sent in a row, and until when its sign-in is locked."""

    __tablename__ = "signin_guard"
    device_id: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None


class PaperBatch(SQLModel, table=True):
    """One upload of paper survey forms: who entered it, when, from which file."""

    __tablename__ = "paper_batch"
    id: int | None = Field(default=None, primary_key=True)
    entered_by: str = Field(max_length=64)
    entered_at: datetime
    filename: str = Field(max_length=200)
    forms: int


class PaperForm(SQLModel, table=True):
    """A form number entered once per unit, and the rating and batch it became."""

    __tablename__ = "paper_form"
    unit_id: str = Field(primary_key=True, max_length=64)
    form_no: str = Field(primary_key=True, max_length=64)
    batch_id: int = Field(index=True)
    rating_id: str = Field(unique=True, max_length=36)
