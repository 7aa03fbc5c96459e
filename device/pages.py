"""What each page of the citizen's screen looks like: `render` draws a View, and nothing else.

Pages: idle (who serves at this counter, and the levels as big faces: one tap rates), reasons
(after a low score: toggles, Gửi, Bỏ qua; on a unit with buttons, pages of tiles above the
buttons, `device.reasons_tiles`) and thanks. The idle and reasons pages carry a small
English / Tiếng Việt switch in the header. Being a function of a View, every page is drawn in
tests and in the screenshots without a display.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.drawing import (  # noqa: E402
    Fonts,
    blit_centred,
    blit_left,
    draw_face,
    draw_portrait,
)
from device.layout import (  # noqa: E402
    ATTENTION,
    BACKGROUND,
    HEADER,
    INK,
    MUTED,
    REASON,
    SEND,
    SKIP,
    TEXT,
    THANKS_BACKGROUND,
    THANKS_MUTED,
    WHITE,
    Colour,
    Level,
    idle_qr_rect,
    labels,
    level_rects,
    px_rect,
    reason_rects,
    send_rect,
    skip_rect,
    text,
    thanks_qr_rect,
    unit_px,
)
from device.parts import draw_check, render_action, render_header, render_reasons_top  # noqa: E402
from device.pin_pad import render_pad  # noqa: E402
from device.qr import draw_qr_panel  # noqa: E402
from device.reasons_tiles import render_button_reasons  # noqa: E402
from device.view import Language, ReasonChoice, View  # noqa: E402


def render(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    """Draw the whole screen for `view`."""
    if view.page == "signin":
        render_pad(surface, view, fonts)
    elif view.page == "thanks":
        _render_thanks(surface, view, fonts)
    elif view.page == "reasons" and view.buttons:
        render_button_reasons(surface, view, fonts)
    elif view.page == "reasons":
        _render_reasons(surface, view, fonts)
    else:
        _render_idle(surface, view, fonts)


def _render_idle(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width, _ = surface.get_size()
    u = unit_px(surface.get_size())
    surface.fill(BACKGROUND)
    render_header(surface, view, fonts)
    if view.qr_url:
        panel = idle_qr_rect(surface.get_size())
        draw_qr_panel(surface, panel, view.qr_url, fonts, side=True)
        width = panel.left - round(10 * u)  # the rest is laid out left of the code
    cx, usable = width / 2, width - 40 * u
    if view.officer_name:
        _render_officer(surface, view, fonts, width)
    else:
        first, second = text("no_officer", view.language)
        blit_centred(surface, fonts.fit(first, 36 * u, usable, True), first, ATTENTION, cx, 78 * u)
        blit_centred(surface, fonts.fit(second, 20 * u, usable), second, MUTED, cx, 126 * u)
    first, second = text("wait" if view.waiting_for_service else "prompt", view.language)
    pygame.draw.line(
        surface, HEADER, (round(60 * u), round(178 * u)), (round(width - 60 * u), round(178 * u)), 2
    )
    blit_centred(surface, fonts.fit(first, 32 * u, usable, True), first, WHITE, cx, 186 * u)
    blit_centred(surface, fonts.fit(second, 19 * u, usable), second, MUTED, cx, 228 * u)
    levels = labels(view.scale, view.language)
    for rect, (main, other, level) in zip(
        level_rects(surface.get_size(), len(levels)), levels, strict=True
    ):
        _render_level(surface, rect, main, other, level, fonts, dimmed=view.waiting_for_service)


def _render_officer(surface: pygame.Surface, view: View, fonts: Fonts, width: float) -> None:
    """Photo (or initials) on the left, then who serves here: label, name, title; centred in
    the `width` left of the QR code, if one is shown."""
    assert view.officer_name is not None
    u = unit_px(surface.get_size())
    r, gap = 54 * u, 22 * u
    text_room = width - 40 * u - 2 * r - gap
    first, second = text("officer", view.language)
    lines = [
        (f"{first} · {second}", fonts.fit(f"{first} · {second}", 18 * u, text_room), MUTED, 64 * u),
        (view.officer_name, fonts.fit(view.officer_name, 38 * u, text_room, True), WHITE, 88 * u),
    ]
    if view.officer_title:
        lines.append(
            (view.officer_title, fonts.fit(view.officer_title, 22 * u, text_room), MUTED, 136 * u)
        )
    text_w = max(font.size(line)[0] for line, font, _, _ in lines)
    left = (width - (2 * r + gap + text_w)) / 2
    draw_portrait(surface, (left + r, 118 * u), r, view.officer_name, view.officer_photo, fonts)
    for line, font, colour, y in lines:
        blit_left(surface, font, line, colour, left + 2 * r + gap, y)


def _render_level(
    surface: pygame.Surface,
    rect: pygame.Rect,
    main: str,
    other: str,
    level: Level,
    fonts: Fonts,
    dimmed: bool,
) -> None:
    u = unit_px(surface.get_size())
    fill = _mix(level.fill, BACKGROUND, 0.65) if dimmed else level.fill
    ink = MUTED if dimmed else level.ink  # dark ink on a dimmed block would be unreadable
    pygame.draw.rect(surface, fill, rect, border_radius=round(18 * u))
    draw_face(surface, (rect.centerx, rect.top + 58 * u), 42 * u, level.smile)
    inner = rect.width - 16 * u
    lines = _label_lines(fonts, main, 26 * u, inner)
    y = rect.top + (112 if len(lines) == 2 else 124) * u
    for line in lines:
        y += blit_centred(surface, fonts.fit(line, 26 * u, inner, True), line, ink, rect.centerx, y)
    blit_centred(surface, fonts.fit(other, 17 * u, inner), other, ink, rect.centerx, y + 4 * u)


def _render_reasons(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    size = surface.get_size()
    u = unit_px(size)
    render_reasons_top(surface, view, fonts)
    rects = reason_rects(size, len(view.reasons))
    for reason, rect in zip(view.reasons, rects, strict=False):
        _render_reason(surface, rect, reason, reason.code in view.selected, view.language, fonts)
    skip, send = skip_rect(size), send_rect(size)
    render_action(surface, skip, text("skip", view.language), SKIP, None, fonts)
    words = text("send" if view.selected else "done", view.language)
    render_action(surface, send, words, SEND, None, fonts)
    mid, room = (skip.right + send.left) / 2, send.left - skip.right - 24 * u
    hint = TEXT["tap"][view.language]
    countdown = TEXT["countdown"][view.language].format(s=view.reasons_left_s)
    top = skip.top + 8 * u
    top += blit_centred(surface, fonts.fit(hint, 17 * u, room), hint, MUTED, mid, top) + 8 * u
    blit_centred(surface, fonts.fit(countdown, 17 * u, room, True), countdown, WHITE, mid, top)


def _render_reason(
    surface: pygame.Surface,
    rect: pygame.Rect,
    reason: ReasonChoice,
    selected: bool,
    language: Language,
    fonts: Fonts,
) -> None:
    """A toggle: a check box and the label in both languages."""
    u = unit_px(surface.get_size())
    fill, ink, sub = (ATTENTION, INK, INK) if selected else (REASON, WHITE, MUTED)
    pygame.draw.rect(surface, fill, rect, border_radius=round(14 * u))
    pygame.draw.rect(
        surface, WHITE, rect, max(2, round((4 if selected else 2) * u)), border_radius=round(14 * u)
    )
    box = px_rect(rect.left + 14 * u, rect.centery - 16 * u, 32 * u, 32 * u)
    draw_check(surface, box, selected)
    right = rect.right - 12 * u
    x = box.right + 14 * u
    room = right - x
    main, other = reason.label(language), reason.label("en" if language == "vi" else "vi")
    small = fonts.fit(other, 15 * u, room)
    if rect.height >= 2 * fonts.get(round(23 * u), True).get_linesize() + small.get_linesize():
        font, lines = fonts.wrap(main, 23 * u, room, bold=True)
    else:  # four rows: no room for a second line
        font, lines = fonts.fit(main, 23 * u, room, bold=True), [main]
    total = font.get_linesize() * len(lines) + small.get_linesize()
    y = rect.centery - total / 2
    for line in lines:
        blit_left(surface, font, line, ink, x, y)
        y += font.get_linesize()
    blit_left(surface, small, other, sub, x, y)


def _render_thanks(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width, height = surface.get_size()
    u = unit_px(surface.get_size())
    surface.fill(THANKS_BACKGROUND)
    if view.qr_url:
        panel = thanks_qr_rect(surface.get_size())
        draw_qr_panel(surface, panel, view.qr_url, fonts)
        width = panel.left - round(10 * u)
    cx, usable = width / 2, width - 40 * u
    level = None
    if view.chosen is not None:
        main, other, level = labels(view.scale, view.language)[view.chosen - 1]
    draw_face(surface, (cx, 118 * u), 72 * u, 1.0)  # always a welcome, whatever was chosen
    first, second = text("thanks", view.language)
    blit_centred(surface, fonts.fit(first, 60 * u, usable, True), first, WHITE, cx, 216 * u)
    blit_centred(surface, fonts.fit(second, 32 * u, usable), second, THANKS_MUTED, cx, 296 * u)
    if level is not None:
        said = f"{text('chosen', view.language)[0]}: {main}"
        font = fonts.fit(said, 26 * u, usable * 0.8, True)
        image = font.render(said, True, level.ink)
        box = image.get_rect(center=(round(cx), round(height - 70 * u))).inflate(
            round(40 * u), round(20 * u)
        )
        pygame.draw.rect(surface, level.fill, box, border_radius=round(box.height / 2))
        pygame.draw.rect(
            surface, WHITE, box, max(2, round(3 * u)), border_radius=round(box.height / 2)
        )
        surface.blit(image, image.get_rect(center=box.center))


def _label_lines(fonts: Fonts, label: str, size: float, max_width: float) -> list[str]:
    """One line if it fits; else the last two syllables (the word "hài lòng") go below."""
    words = label.split()
    if fonts.get(round(size), True).size(label)[0] <= max_width or len(words) < 3:
        return [label]
    return [" ".join(words[:-2]), " ".join(words[-2:])]


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )
