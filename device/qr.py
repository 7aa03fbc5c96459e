"""The current ticket's rating link as a QR code on the unit's screen.

A citizen who prefers to rate later scans the code of the Service's `rating_url` from the
thank-you or idle page. segno makes the matrix (no network, no image files); it is drawn as
plain rectangles, black on white with the standard quiet zone of four modules, each module a
whole number of pixels so a phone camera sees sharp edges. `qr_geometry` says where each module
is, so a test reads the drawn code back module by module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402
import segno  # noqa: E402

from device.drawing import Fonts, blit_centred  # noqa: E402
from device.layout import INK, WHITE, Colour, unit_px  # noqa: E402

QUIET = 4  # modules of white around the code, as the QR standard asks
SIDE_QUIET = 3  # on the idle page's card, whose white continues beside the code
BLACK: Colour = (0, 0, 0)
CAPTION = ("Quét để đánh giá sau", "Scan to rate later")
SIDE_CAPTION = (("Quét để", "đánh giá", "sau"), ("Scan to", "rate later"))


@lru_cache(maxsize=8)
def qr_modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """The code's dark modules, row by row, without the quiet zone. Error level L (raised when
    the size allows): a screen is not a worn sticker, and fewer modules are larger ones."""
    code = segno.make_qr(url, error="l", boost_error=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.matrix)


@dataclass(frozen=True)
class QrGeometry:
    """Where the code sits: the white square, and the top-left of module (0, 0)."""

    square: pygame.Rect
    module: int  # pixels per module
    left: int
    top: int

    def module_rect(self, row: int, column: int) -> pygame.Rect:
        return pygame.Rect(
            self.left + column * self.module, self.top + row * self.module, self.module, self.module
        )


def qr_geometry(box: pygame.Rect, modules: int, quiet: int = QUIET) -> QrGeometry:
    """The largest code of `modules` (plus `quiet` modules around) with whole-pixel modules
    that fits in `box`, centred in it."""
    across = modules + 2 * quiet
    module = max(1, min(box.width, box.height) // across)
    side = module * across
    square = pygame.Rect(0, 0, side, side)
    square.center = box.center
    return QrGeometry(square, module, square.left + quiet * module, square.top + quiet * module)


def draw_qr(surface: pygame.Surface, box: pygame.Rect, url: str, quiet: int = QUIET) -> QrGeometry:
    """Draw the QR code of `url` as large as fits in `box`."""
    matrix = qr_modules(url)
    geometry = qr_geometry(box, len(matrix), quiet)
    pygame.draw.rect(surface, WHITE, geometry.square)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pygame.draw.rect(surface, BLACK, geometry.module_rect(r, c))
    return geometry


def draw_qr_panel(
    surface: pygame.Surface, box: pygame.Rect, url: str, fonts: Fonts, side: bool = False
) -> QrGeometry:
    """The code on a white card with "Quét để đánh giá sau / Scan to rate later" beneath it
    (or, `side`, beside it: the idle page has more width than height to spare)."""
    u = unit_px(surface.get_size())
    pygame.draw.rect(surface, WHITE, box, border_radius=round(12 * u))
    if side:
        return _draw_side_panel(surface, box, url, fonts)
    first, second = CAPTION
    room = box.width - 12 * u
    big, small = fonts.fit(first, 17 * u, room, True), fonts.fit(second, 14 * u, room)
    caption_h = big.get_linesize() + small.get_linesize() + 6 * u
    code_box = pygame.Rect(box.left, box.top, box.width, round(box.height - caption_h))
    geometry = draw_qr(surface, code_box, url)
    y = code_box.bottom
    y += blit_centred(surface, big, first, INK, box.centerx, y)
    blit_centred(surface, small, second, INK, box.centerx, y)
    return geometry


def _draw_side_panel(
    surface: pygame.Surface, box: pygame.Rect, url: str, fonts: Fonts
) -> QrGeometry:
    u = unit_px(surface.get_size())
    code_box = pygame.Rect(box.left, box.top, box.height, box.height)
    geometry = draw_qr(surface, code_box, url, SIDE_QUIET)
    left = geometry.square.right
    cx, room = (left + box.right) / 2, box.right - left - 6 * u
    vi, en = SIDE_CAPTION
    big = fonts.get(round(18 * u), True)
    small = fonts.get(round(14 * u))
    height = big.get_linesize() * len(vi) + small.get_linesize() * len(en) + 8 * u
    y = box.centery - height / 2
    for line in vi:
        y += blit_centred(surface, fonts.fit(line, 18 * u, room, True), line, INK, cx, y)
    y += 8 * u
    for line in en:
        y += blit_centred(surface, fonts.fit(line, 14 * u, room), line, INK, cx, y)
    return geometry
