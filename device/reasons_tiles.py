"""The reasons page on a unit with buttons: every reason in reach of a button.

The reasons come in pages of N-1 tiles (N buttons), drawn where the levels were on the idle
page, each above its button with the button's number large on it, so a citizen who reads
little presses the button under the reason, as they pressed the one under the face. The last
tile, above the last button, is "Xem thêm" (the next page, "Trang 1/2" shown) or, on the last
page, Gửi. Bỏ qua, for touch, sits above the tiles; without a touch the page sends by itself.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.drawing import Fonts, blit_centred, disc  # noqa: E402
from device.layout import (  # noqa: E402
    ATTENTION,
    INK,
    MORE,
    MUTED,
    REASON,
    SEND,
    SKIP,
    TEXT,
    WHITE,
    Colour,
    px_rect,
    text,
    tile_rects,
    tiles_skip_rect,
    unit_px,
)
from device.parts import draw_check, render_action, render_reasons_top  # noqa: E402
from device.view import Language, ReasonChoice, View  # noqa: E402


def render_button_reasons(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    size = surface.get_size()
    u = unit_px(size)
    render_reasons_top(surface, view, fonts)
    skip = tiles_skip_rect(size)
    render_action(surface, skip, text("skip", view.language), SKIP, None, fonts)
    _render_guide(surface, view, fonts, left=skip.right + 16 * u)
    tiles = tile_rects(size, view.buttons)
    for number, (reason, rect) in enumerate(zip(view.reasons, tiles[:-1], strict=False), 1):
        _render_tile(surface, rect, number, reason, reason.code in view.selected, view, fonts)
    if view.more_reasons:
        words, fill = text("more", view.language), MORE
    else:
        words, fill = text("send" if view.selected else "done", view.language), SEND
    _render_last(surface, tiles[-1], view.buttons, words, fill, view.more_reasons, fonts)


def _render_guide(surface: pygame.Surface, view: View, fonts: Fonts, left: float) -> None:
    """Which page this is, what to press, and the countdown with how many are chosen."""
    width = surface.get_width()
    u = unit_px(surface.get_size())
    cx, room = (left + width - 14 * u) / 2, width - 14 * u - left
    lines: list[tuple[str, float, bool, Colour]] = []
    if view.reasons_pages > 1:
        page = TEXT["page"][view.language].format(n=view.reasons_page, of=view.reasons_pages)
        lines.append((page, 28 * u, True, ATTENTION))
    lines.append((TEXT["under"][view.language], 18 * u, False, MUTED))
    status = TEXT["countdown"][view.language].format(s=view.reasons_left_s)
    if view.selected:
        picked = TEXT["picked"][view.language].format(n=len(view.selected))
        status = f"{status} · {picked}"
    lines.append((status, 17 * u, True, WHITE))
    y = 140 * u
    for line, px, bold, colour in lines:
        y += blit_centred(surface, fonts.fit(line, px, room, bold), line, colour, cx, y) + 6 * u


def _number(surface: pygame.Surface, centre: tuple[float, float], n: int, on: bool) -> None:
    """The button's number, large, in a disc."""
    u = unit_px(surface.get_size())
    disc(surface, INK if on else WHITE, centre, 25 * u)
    image = Fonts.get(round(34 * u), True).render(str(n), True, ATTENTION if on else INK)
    surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))


def _render_tile(
    surface: pygame.Surface,
    rect: pygame.Rect,
    number: int,
    reason: ReasonChoice,
    selected: bool,
    view: View,
    fonts: Fonts,
) -> None:
    u = unit_px(surface.get_size())
    fill, ink, sub = (ATTENTION, INK, INK) if selected else (REASON, WHITE, MUTED)
    radius = round(18 * u)
    pygame.draw.rect(surface, fill, rect, border_radius=radius)
    pygame.draw.rect(surface, WHITE, rect, max(2, round((5 if selected else 2) * u)), radius)
    draw_check(surface, px_rect(rect.left + 12 * u, rect.top + 14 * u, 30 * u, 30 * u), selected)
    _number(surface, (rect.centerx, rect.top + 38 * u), number, selected)
    other: Language = "en" if view.language == "vi" else "vi"
    words = reason.label(view.language), reason.label(other)
    _render_words(surface, rect, words, ink, sub, fonts)


def _render_words(
    surface: pygame.Surface,
    rect: pygame.Rect,
    words: tuple[str, str],
    ink: Colour,
    sub: Colour,
    fonts: Fonts,
) -> None:
    """A label in up to two lines, the other language below, in the tile under its number."""
    u = unit_px(surface.get_size())
    room = rect.width - 16 * u
    main, other = words
    font, lines = fonts.wrap(main, 24 * u, room, bold=True, shrink=1.0)  # large over short
    small = fonts.fit(other, 16 * u, room)
    total = font.get_linesize() * len(lines) + small.get_linesize()
    top = rect.top + 70 * u
    y = top + (rect.bottom - 8 * u - top - total) / 2
    for line in lines:
        y += blit_centred(surface, font, line, ink, rect.centerx, y)
    blit_centred(surface, small, other, sub, rect.centerx, y)


def _render_last(
    surface: pygame.Surface,
    rect: pygame.Rect,
    number: int,
    words: tuple[str, str],
    fill: Colour,
    more: bool,
    fonts: Fonts,
) -> None:
    """Xem thêm (with an arrow) or Gửi, above the last button."""
    u = unit_px(surface.get_size())
    radius = round(18 * u)
    pygame.draw.rect(surface, fill, rect, border_radius=radius)
    pygame.draw.rect(surface, WHITE, rect, max(2, round(3 * u)), radius)
    _number(surface, (rect.centerx, rect.top + 38 * u), number, on=False)
    main, other = words
    room = rect.width - 16 * u
    big, small = fonts.fit(main, 30 * u, room, True), fonts.fit(other, 17 * u, room)
    y = rect.top + 78 * u
    y += blit_centred(surface, big, main, WHITE, rect.centerx, y)
    y += blit_centred(surface, small, other, WHITE, rect.centerx, y)
    if more:
        x, mid = rect.centerx, y + 22 * u
        arrow = [(x - 18 * u, mid - 14 * u), (x + 18 * u, mid), (x - 18 * u, mid + 14 * u)]
        pygame.draw.polygon(surface, WHITE, arrow)
