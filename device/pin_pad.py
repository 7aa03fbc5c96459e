"""The officer's PIN pad on the touchscreen: where its keys are, and how it is drawn.

Geometry and drawing sit together so that a tap lands on what was drawn (as `device.layout`
does for the citizen's pages). The digits are never drawn, only dots; large keys (a thumb's
width at 800x480), Vietnamese first. While the server checks, or when it refused, the pad
gives way to the message (`device.signin` says which).
"""

from __future__ import annotations

import os
from typing import Literal

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.drawing import Fonts, blit_centred, disc  # noqa: E402
from device.layout import (  # noqa: E402
    ATTENTION,
    BACKGROUND,
    HEADER,
    MORE,
    MUTED,
    REASON,
    SEND,
    SKIP,
    WHITE,
    px_rect,
    unit_px,
)
from device.parts import render_action, render_header  # noqa: E402
from device.signin import PIN_DIGITS  # noqa: E402
from device.view import View  # noqa: E402

PadKey = Literal["digit", "delete", "ok", "cancel", "out"]
KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "delete", "0", "ok")
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Cán bộ đăng nhập", "Officer sign-in"),
    "prompt": ("Nhập mã PIN rồi bấm Đăng nhập", "Enter your PIN, then Sign in"),
    "delete": ("Xóa", "Delete"),
    "ok": ("Đăng nhập", "Sign in"),
    "cancel": ("Hủy", "Cancel"),
    "out": ("Đăng xuất", "Sign out"),
}


def key_rects(size: tuple[int, int]) -> list[pygame.Rect]:
    """The twelve keys, 1-9 then Xóa, 0, Đăng nhập, on the right of the screen."""
    u = unit_px(size)
    left, top, width, height, gap = 340 * u, 66 * u, size[0] - 14 * u - 340 * u, 400 * u, 8 * u
    key_w, key_h = (width - 2 * gap) / 3, (height - 3 * gap) / 4
    return [
        px_rect(left + (i % 3) * (key_w + gap), top + (i // 3) * (key_h + gap), key_w, key_h)
        for i in range(12)
    ]


def cancel_rect(size: tuple[int, int]) -> pygame.Rect:
    u = unit_px(size)
    return px_rect(14 * u, size[1] - 14 * u - 84 * u, 150 * u, 84 * u)


def out_rect(size: tuple[int, int]) -> pygame.Rect:
    u = unit_px(size)
    return px_rect(174 * u, size[1] - 14 * u - 84 * u, 152 * u, 84 * u)


def pad_key_at(
    pos: tuple[float, float], view: View, size: tuple[int, int]
) -> tuple[PadKey, int] | None:
    """What a tap on the sign-in page asks for (a digit's key carries it); only the keys and
    buttons drawn are live: while the server checks or answers, just Hủy."""
    if view.pad.phase == "entering":
        for key, rect in zip(KEYS, key_rects(size), strict=True):
            if rect.collidepoint(pos):
                if key.isdigit():
                    return "digit", int(key)
                return ("delete" if key == "delete" else "ok"), 0
        if view.pad.can_sign_out and out_rect(size).collidepoint(pos):
            return "out", 0
    if cancel_rect(size).collidepoint(pos):
        return "cancel", 0
    return None


def render_pad(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    """The sign-in page: title, dots and message on the left, the keys on the right."""
    size = surface.get_size()
    u = unit_px(size)
    surface.fill(BACKGROUND)
    render_header(surface, view, fonts)
    pad = view.pad
    entering = pad.phase == "entering"
    column = (330 if entering else size[0] / u - 14) * u
    cx, room = (14 * u + column) / 2, column - 28 * u
    first, second = WORDS["title"]
    y = 70 * u
    y += blit_centred(surface, fonts.fit(first, 30 * u, room, True), first, WHITE, cx, y)
    blit_centred(surface, fonts.fit(second, 18 * u, room), second, MUTED, cx, y)
    if entering:
        _render_dots(surface, pad.digits, cx, 170 * u, fonts)
        words = pad.message or WORDS["prompt"]
        colour = ATTENTION if pad.message else MUTED
        _render_message(surface, words, cx, 222 * u, room, colour, fonts)
        for key, rect in zip(KEYS, key_rects(size), strict=True):
            _render_key(surface, rect, key, pad.digits, fonts)
        if pad.can_sign_out:
            render_action(surface, out_rect(size), WORDS["out"], MORE, None, fonts)
    elif pad.message is not None:
        colour = WHITE if pad.phase == "checking" else ATTENTION
        _render_message(surface, pad.message, cx, 200 * u, room * 0.8, colour, fonts, big=True)
    render_action(surface, cancel_rect(size), WORDS["cancel"], SKIP, None, fonts)


def _render_dots(surface: pygame.Surface, digits: int, cx: float, cy: float, fonts: Fonts) -> None:
    """One filled dot per digit typed, hollow ones up to the shortest PIN."""
    u = unit_px(surface.get_size())
    slots = max(digits, PIN_DIGITS[0])
    step = 34 * u
    for i in range(slots):
        centre = (cx + (i - (slots - 1) / 2) * step, cy)
        if i < digits:
            disc(surface, WHITE, centre, 11 * u)
        else:
            pygame.draw.circle(
                surface, MUTED, (round(centre[0]), round(centre[1])), round(11 * u), 2
            )


def _render_message(
    surface: pygame.Surface,
    words: tuple[str, str],
    cx: float,
    y: float,
    room: float,
    colour: tuple[int, int, int],
    fonts: Fonts,
    big: bool = False,
) -> None:
    u = unit_px(surface.get_size())
    first, second = words
    font, lines = fonts.wrap(first, (34 if big else 20) * u, room, bold=True)
    for line in lines:
        y += blit_centred(surface, font, line, colour, cx, y)
    small, others = fonts.wrap(second, (22 if big else 16) * u, room)
    y += 6 * u
    for line in others:
        y += blit_centred(surface, small, line, MUTED, cx, y)


def _render_key(
    surface: pygame.Surface, rect: pygame.Rect, key: str, digits: int, fonts: Fonts
) -> None:
    u = unit_px(surface.get_size())
    if not key.isdigit():
        ready = key == "ok" and digits >= PIN_DIGITS[0]
        fill = (SEND if ready else HEADER) if key == "ok" else SKIP
        render_action(surface, rect, WORDS[key], fill, None, fonts)
        return
    pygame.draw.rect(surface, REASON, rect, border_radius=round(14 * u))
    pygame.draw.rect(surface, WHITE, rect, max(2, round(2 * u)), border_radius=round(14 * u))
    font = fonts.get(round(44 * u), True)
    image = font.render(key, True, WHITE)
    surface.blit(image, image.get_rect(center=rect.center))
