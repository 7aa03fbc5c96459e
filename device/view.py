"""What the citizen's screen shows, as plain data.

The unit decides what to show and the screen only draws it, so every screen can be rendered in
a test from a View alone, and the unit's logic is tested without pygame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from device.signin import Pad

Page = Literal["idle", "reasons", "thanks", "signin"]
Language = Literal["vi", "en"]


@dataclass(frozen=True)
class ReasonChoice:
    """One reason offered after a low score, with its Config code and both labels."""

    code: str
    label_vi: str
    label_en: str

    def label(self, language: Language) -> str:
        return self.label_vi if language == "vi" else self.label_en


@dataclass(frozen=True)
class View:
    page: Page = "idle"
    unit_name: str = ""
    counter_id: str | None = None
    officer_name: str | None = None
    officer_title: str | None = None
    officer_photo: Path | None = None  # the cached photo file; None shows the initials
    scale: Literal["vn4", "vn3"] = "vn4"
    language: Language = "vi"
    chosen: int | None = None  # the score just given, shown on the reasons and thank-you pages
    device_id: str = ""
    online: bool = False
    waiting_for_service: bool = False  # Config.require_service and no Service is open
    reasons: tuple[ReasonChoice, ...] = ()  # on the reasons page shown now, in Config order
    selected: frozenset[str] = frozenset()  # codes of the reasons toggled on, on any page
    reasons_left_s: int = 0  # seconds before the reasons page sends by itself
    buttons: int = 0  # physical buttons: 1..buttons-1 toggle the reasons above them
    reasons_page: int = 1  # with buttons, reasons come in pages of buttons-1: this one …
    reasons_pages: int = 1  # … of these; the last button turns the page, on the last one sends
    qr_url: str | None = None  # the current ticket's rating link, shown as a QR code
    signin_offered: bool = False  # the Config takes a PIN: the idle page offers the pad
    pad: Pad = Pad()  # the officer's PIN pad, on the signin page

    @property
    def more_reasons(self) -> bool:
        """Another page of reasons follows this one."""
        return self.reasons_page < self.reasons_pages
