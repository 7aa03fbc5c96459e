"""Pieces drawn on more than one page: the header (unit, counter, online dot, the language
switch) and the big bilingual action buttons (Gửi, Bỏ qua, Xem thêm)."""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.drawing import Fonts, blit_centred, disc, draw_face  # noqa: E402
from device.layout import (  # noqa: E402
    ATTENTION,
    BACKGROUND,
    HEADER,
    INK,
    MUTED,
    OFFLINE,
    ONLINE,
    TEXT,
    WHITE,
    Colour,
    labels,
    language_rect,
    px_rect,
    signin_rect,
    text,
    unit_px,
)
from device.view import View  # noqa: E402

SIGNIN_LABEL = "Cán bộ đăng nhập"


def render_header(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width = surface.get_width()
    u = unit_px(surface.get_size())
    pygame.draw.rect(surface, HEADER, (0, 0, width, round(56 * u)))
    right = width - 20 * u
    officer = view.page == "signin"  # the officer's page: Vietnamese first, no switch
    if not officer:
        switch = language_rect(surface.get_size())
        render_switch(surface, switch, TEXT["switch"][view.language], fonts)
        right = switch.left - 16 * u
    dot = ONLINE if view.online else OFFLINE
    pygame.draw.circle(surface, dot, (round(right - 7 * u), round(28 * u)), round(7 * u))
    right -= 24 * u
    if view.counter_id:
        label = f"{TEXT['counter'][view.language]} {view.counter_id}"
        font = fonts.fit(label, 24 * u, width * 0.3, bold=True)
        image = font.render(label, True, WHITE)
        surface.blit(image, image.get_rect(midright=(round(right), round(28 * u))))
        right -= image.get_width() + 16 * u
    left = 20 * u
    if view.signin_offered and not officer:
        pill = signin_rect(surface.get_size())
        render_switch(surface, pill, SIGNIN_LABEL, fonts, icon=False)
        left = pill.right + 12 * u
    name = view.unit_name or view.device_id
    if name:
        font = fonts.fit(name, 22 * u, right - left)
        image = font.render(name, True, MUTED)
        surface.blit(image, image.get_rect(midleft=(round(left), round(28 * u))))


def render_switch(
    surface: pygame.Surface, rect: pygame.Rect, label: str, fonts: Fonts, icon: bool = True
) -> None:
    """A white-edged pill with a globe, saying the language it switches to (or, without the
    globe, the officer's sign-in)."""
    u = unit_px(surface.get_size())
    radius = rect.height // 2
    pygame.draw.rect(surface, BACKGROUND, rect, border_radius=radius)
    pygame.draw.rect(surface, WHITE, rect, max(2, round(2 * u)), border_radius=radius)
    if not icon:
        font = fonts.fit(label, 18 * u, rect.width - radius, bold=True)
        image = font.render(label, True, WHITE)
        surface.blit(image, image.get_rect(center=rect.center))
        return
    r = 11 * u
    cx, cy = rect.left + radius + 2 * u, rect.centery
    line = max(1, round(1.6 * u))
    pygame.draw.circle(surface, WHITE, (round(cx), round(cy)), round(r), line)
    pygame.draw.ellipse(surface, WHITE, px_rect(cx - r * 0.45, cy - r, r * 0.9, 2 * r), line)
    pygame.draw.line(surface, WHITE, (round(cx - r), round(cy)), (round(cx + r), round(cy)), line)
    left = cx + r + 8 * u
    font = fonts.fit(label, 19 * u, rect.right - radius / 2 - left, bold=True)
    image = font.render(label, True, WHITE)
    surface.blit(image, image.get_rect(midleft=(round(left), rect.centery)))


def render_action(
    surface: pygame.Surface,
    rect: pygame.Rect,
    words: tuple[str, str],
    fill: Colour,
    badge: int | None,
    fonts: Fonts,
) -> None:
    """Gửi or Bỏ qua: a big button in both languages, with its physical button's number."""
    u = unit_px(surface.get_size())
    pygame.draw.rect(surface, fill, rect, border_radius=round(16 * u))
    pygame.draw.rect(surface, WHITE, rect, max(2, round(3 * u)), border_radius=round(16 * u))
    cx, room = rect.centerx, rect.width - 20 * u
    if badge is not None:
        r = 18 * u
        centre = (rect.right - 16 * u - r, rect.centery)
        disc(surface, WHITE, centre, r)
        image = fonts.get(round(24 * u), True).render(str(badge), True, INK)
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))
        room = rect.width - 2 * (2 * r + 24 * u)
    first, second = words
    big = fonts.fit(first, 32 * u, room, True)
    small = fonts.fit(second, 17 * u, room)
    y = rect.centery - (big.get_linesize() + small.get_linesize()) / 2
    y += blit_centred(surface, big, first, WHITE, cx, y)
    blit_centred(surface, small, second, WHITE, cx, y)


def render_reasons_top(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    """The reasons page's background, header, the face just chosen and the question."""
    width = surface.get_width()
    u = unit_px(surface.get_size())
    surface.fill(BACKGROUND)
    render_header(surface, view, fonts)
    left = 20 * u
    if view.chosen is not None:
        _, _, level = labels(view.scale, view.language)[view.chosen - 1]
        disc(surface, level.fill, (48 * u, 91 * u), 31 * u)
        draw_face(surface, (48 * u, 91 * u), 24 * u, level.smile)
        left = 92 * u
    cx, room = (left + width - 20 * u) / 2, width - 20 * u - left
    first, second = text("reasons", view.language)
    blit_centred(surface, fonts.fit(first, 30 * u, room, True), first, WHITE, cx, 62 * u)
    blit_centred(surface, fonts.fit(second, 18 * u, room), second, MUTED, cx, 100 * u)


def draw_check(surface: pygame.Surface, box: pygame.Rect, selected: bool) -> None:
    """A reason's check box: empty, or ticked."""
    u = unit_px(surface.get_size())
    if selected:
        pygame.draw.rect(surface, INK, box, border_radius=round(6 * u))
        tick = [
            (box.left + box.width * 0.2, box.top + box.height * 0.52),
            (box.left + box.width * 0.42, box.top + box.height * 0.74),
            (box.left + box.width * 0.8, box.top + box.height * 0.28),
        ]
        pygame.draw.lines(surface, ATTENTION, False, tick, max(3, round(5 * u)))
    else:
        pygame.draw.rect(surface, WHITE, box, max(2, round(3 * u)), border_radius=round(6 * u))
