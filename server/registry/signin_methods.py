"""How officers sign in at a unit's counters (`Unit.signin`, sent to its units as
`Config.signin`): none (shifts come from the registry only), pin, card or pin_or_card."""

from __future__ import annotations

from typing import Literal

from sqlmodel import Session, SQLModel

from hailong.errors import UnknownId
from server.storage.models import Unit, UnitCreate

Method = Literal["none", "pin", "card", "pin_or_card"]
SIGNIN_LABELS = {
    "none": ("Theo lịch trực (không đăng nhập)", "The rota only (no sign-in)"),
    "pin": ("Mã PIN", "PIN"),
    "card": ("Thẻ", "Card"),
    "pin_or_card": ("Mã PIN hoặc thẻ", "PIN or card"),
}


class UnitUpdate(SQLModel):
    """What an administrator changes in a unit beside its name: its sign-in method."""

    signin: Method


class UnitSignIn(UnitCreate):
    """A unit with its sign-in method, as the registry import's units sheet gives it."""

    signin: Method = "none"


def allows(method: str, kind: str) -> bool:
    """Whether a unit whose method is `method` takes a credential of `kind` (pin, card)."""
    return method == kind or (method == "pin_or_card" and kind in ("pin", "card"))


def set_signin(session: Session, unit_id: str, method: Method) -> Unit:
    """Set the unit's method and commit; the caller refreshes the units' Configs."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnknownId(f"there is no unit {unit_id!r}; create it first")
    unit.signin = method
    session.add(unit)
    session.commit()
    session.refresh(unit)
    return unit
