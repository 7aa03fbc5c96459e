"""The citizen-facing screen: pygame with no desktop (SDL kmsdrm on the Pi, dummy in tests).

What a tap or key asks for is a function of an event (`action_for_event`), and drawing is a
function of a View (`device.pages.render`), so both are tested without a display. `Screen` only
owns the window and the loop that joins them to a Unit.

A tap on a touch panel arrives twice, as FINGERDOWN and as a synthetic MOUSEBUTTONDOWN with
`touch` set; the finger event is the one handled, so one tap is one rating.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.drawing import Fonts  # noqa: E402
from device.layout import (  # noqa: E402
    language_rect,
    officer_band,
    reason_rects,
    score_at,
    send_rect,
    signin_rect,
    skip_rect,
    tile_rects,
    tiles_skip_rect,
    unit_px,
)
from device.pages import render  # noqa: E402
from device.pin_pad import pad_key_at  # noqa: E402
from device.settings import ScreenSection  # noqa: E402
from device.view import View  # noqa: E402
from hailong.protocol import SCALES  # noqa: E402

if TYPE_CHECKING:
    from device.unit import InputKind, Unit

FPS = 30

RATING_KEYS = {
    **{key: n for n, key in enumerate((pygame.K_1, pygame.K_2, pygame.K_3, pygame.K_4), 1)},
    **{key: n for n, key in enumerate((pygame.K_KP1, pygame.K_KP2, pygame.K_KP3, pygame.K_KP4), 1)},
}

ActionKind = Literal[
    "score", "button", "reason", "next", "send", "skip", "language", "invite", "signin", "pad"
]
PAD_KEYS = {
    **{getattr(pygame, f"K_{n}"): ("digit", n) for n in range(10)},
    **{getattr(pygame, f"K_KP{n}"): ("digit", n) for n in range(10)},
    pygame.K_BACKSPACE: ("delete", 0),
    pygame.K_RETURN: ("ok", 0),
    pygame.K_KP_ENTER: ("ok", 0),
    pygame.K_ESCAPE: ("cancel", 0),
}


@dataclass(frozen=True)
class Action:
    """What an input event asks the unit for: a score (a tap on a level), a numbered button
    (a key: a score, or on the reasons page a reason, Xem thêm or Gửi), a reason toggle, the
    next page of reasons (Xem thêm), Gửi, Bỏ qua, the language switch, or the spoken
    invitation again (a tap elsewhere on the idle page); the officer's sign-in pad opened
    (`signin`), or one of its keys (`pad`: `code` digit, delete, ok, out or cancel)."""

    kind: ActionKind
    number: int = 0
    code: str = ""
    input: InputKind = "touch"


def _pointer(event: pygame.event.Event, size: tuple[int, int]) -> tuple[float, float] | None:
    """Where a tap or left click landed; None for anything else and for a tap's mouse twin."""
    if event.type == pygame.FINGERDOWN:
        return event.x * size[0], event.y * size[1]
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
        return None if getattr(event, "touch", False) else event.pos
    return None


def _language_hit(size: tuple[int, int]) -> pygame.Rect:
    """The switch's touch area: its whole corner of the header, for unsteady fingers."""
    u = unit_px(size)
    return language_rect(size).inflate(round(16 * u), round(16 * u))


def _signin_hit(pos: tuple[float, float], view: View, size: tuple[int, int]) -> bool:
    """The sign-in control, or who serves here, on the idle page of a unit that takes a PIN."""
    if view.page != "idle" or not view.signin_offered:
        return False
    return signin_rect(size).collidepoint(pos) or officer_band(size).collidepoint(pos)


def action_for_event(event: pygame.event.Event, view: View, size: tuple[int, int]) -> Action | None:
    if event.type == pygame.KEYDOWN:
        if view.page == "signin":
            code, number = PAD_KEYS.get(event.key, ("", 0))
            return Action("pad", number, code, "keyboard") if code else None
        return _key_action(event.key, view)
    pos = _pointer(event, size)
    if pos is None or view.page == "thanks":
        return None
    if view.page == "signin":
        key = pad_key_at(pos, view, size)
        return Action("pad", key[1], key[0]) if key else None
    if _signin_hit(pos, view, size):
        return Action("signin")
    if _language_hit(size).collidepoint(pos):
        return Action("language")
    if view.page == "reasons" and view.buttons:
        return _tile_action(pos, view, size)
    if view.page == "reasons":
        for reason, rect in zip(view.reasons, reason_rects(size, len(view.reasons)), strict=False):
            if rect.collidepoint(pos):
                return Action("reason", code=reason.code)
        if send_rect(size).collidepoint(pos):
            return Action("send")
        if skip_rect(size).collidepoint(pos):
            return Action("skip")
        return None
    score = score_at(pos, size, view.scale)
    return Action("score", number=score) if score else Action("invite")


def _tile_action(pos: tuple[float, float], view: View, size: tuple[int, int]) -> Action | None:
    """A tap on the reasons page of a unit with buttons: the tiles above the buttons."""
    *reasons, last = tile_rects(size, view.buttons)
    for reason, rect in zip(view.reasons, reasons, strict=False):
        if rect.collidepoint(pos):
            return Action("reason", code=reason.code)
    if last.collidepoint(pos):
        return Action("next" if view.more_reasons else "send")
    if tiles_skip_rect(size).collidepoint(pos):
        return Action("skip")
    return None


def _key_action(key: int, view: View) -> Action | None:
    if key == pygame.K_l and view.page != "thanks":
        return Action("language", input="keyboard")
    if view.page == "reasons":
        if key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            return Action("send", input="keyboard")
        if key == pygame.K_ESCAPE:
            return Action("skip", input="keyboard")
    digit = RATING_KEYS.get(key)
    if digit and (view.page == "reasons" or digit <= SCALES[view.scale].size):
        return Action("button", number=digit, input="keyboard")
    return None


def score_for_event(
    event: pygame.event.Event, view: View, size: tuple[int, int]
) -> tuple[int, InputKind] | None:
    """The rating an input event asks for, if any; the synthetic mouse twin of a tap is not."""
    action = action_for_event(event, view, size)
    if action is None or action.kind not in ("score", "button"):
        return None
    return action.number, action.input


class Screen:
    """The display of a running unit; `run` must be called from the main thread."""

    def __init__(self, section: ScreenSection) -> None:
        self.section = section
        pygame.display.init()
        flags = pygame.FULLSCREEN if section.fullscreen else 0
        self.surface = pygame.display.set_mode((section.width, section.height), flags)
        pygame.display.set_caption("Hài Lòng")
        if section.fullscreen:
            pygame.mouse.set_visible(False)
        self.fonts = Fonts()

    def handle(self, event: pygame.event.Event, unit: Unit, view: View) -> None:
        action = action_for_event(event, view, self.surface.get_size())
        if action is None:
            return
        if action.kind == "score":
            unit.press(action.number, input=action.input)
        elif action.kind == "button":
            unit.button(action.number, input=action.input)
        elif action.kind == "reason":
            unit.toggle_reason(action.code)
        elif action.kind == "next":
            unit.next_reasons()
        elif action.kind == "send":
            unit.send_reasons()
        elif action.kind == "skip":
            unit.skip_reasons()
        elif action.kind == "language":
            unit.toggle_language()
        elif action.kind == "signin":
            unit.open_signin()
        elif action.kind == "pad":
            unit.pad_key(action.code, action.number)
        else:
            unit.invite()

    def run(self, unit: Unit, stop: threading.Event) -> None:
        """Draw and read input until `stop` is set or the window is closed."""
        ticker = pygame.time.Clock()
        shown: View | None = None
        try:
            while not stop.is_set():
                view = unit.view()
                for event in pygame.event.get():
                    if event.type == pygame.QUIT:
                        stop.set()
                    self.handle(event, unit, view)
                view = unit.view()
                if view != shown:
                    render(self.surface, view, self.fonts)
                    pygame.display.flip()
                    shown = view
                ticker.tick(FPS)
        finally:
            pygame.display.quit()
