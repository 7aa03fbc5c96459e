"""What the citizen's screen shows, as plain data.

The unit decides what to show and the screen only draws it, so every screen can be rendered in
a test from a View alone, and the unit's logic is tested without pygame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Page = Literal["idle", "thanks"]
Language = Literal["vi", "en"]


@dataclass(frozen=True)
class View:
    page: Page = "idle"
    unit_name: str = ""
    counter_id: str | None = None
    officer_name: str | None = None
    officer_title: str | None = None
    scale: Literal["vn4", "vn3"] = "vn4"
    language: Language = "vi"
    chosen: int | None = None  # the score just given, shown on the thank-you page
    device_id: str = ""
    online: bool = False
    waiting_for_service: bool = False  # Config.require_service and no Service is open
