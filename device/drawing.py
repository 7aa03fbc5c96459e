"""The pieces the pages are drawn with: the bundled fonts, faces, discs and the officer's
portrait. pygame draws onto a Surface, so all of it runs without a display (SDL dummy)."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402
import pygame.gfxdraw  # noqa: E402

from device.layout import INK, PLACEHOLDER, WHITE, Colour, initials  # noqa: E402

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
FONT_REGULAR = ASSETS / "DejaVuSans.ttf"
FONT_BOLD = ASSETS / "DejaVuSans-Bold.ttf"


class Fonts:
    """The bundled DejaVu fonts (pygame's default font has no Vietnamese glyphs)."""

    def __init__(self) -> None:
        pygame.font.init()

    @staticmethod
    @lru_cache(maxsize=128)
    def get(size: int, bold: bool = False) -> pygame.font.Font:
        return pygame.font.Font(str(FONT_BOLD if bold else FONT_REGULAR), max(size, 6))

    def fit(self, line: str, size: float, max_width: float, bold: bool = False) -> pygame.font.Font:
        """The font at `size`, shrunk until `line` fits in `max_width`."""
        return self.get(self._fit_px(line, size, max_width, bold), bold)

    def wrap(
        self, line: str, size: float, max_width: float, bold: bool = False, shrink: float = 0.75
    ) -> tuple[pygame.font.Font, list[str]]:
        """One line if it fits at `shrink` times `size` or more, else two balanced lines."""
        px = self._fit_px(line, size, max_width, bold)
        words = line.split()
        if px >= size * shrink or len(words) < 2:
            return self.get(px, bold), [line]
        probe = self.get(round(size), bold)
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        top, bottom = min(splits, key=lambda s: max(probe.size(s[0])[0], probe.size(s[1])[0]))
        px = min(self._fit_px(part, size, max_width, bold) for part in (top, bottom))
        return self.get(px, bold), [top, bottom]

    def _fit_px(self, line: str, size: float, max_width: float, bold: bool) -> int:
        px = round(size)
        while self.get(px, bold).size(line)[0] > max_width and px > 8:
            px -= 1
        return px


def blit_centred(
    surface: pygame.Surface, font: pygame.font.Font, line: str, colour: Colour, cx: float, y: float
) -> int:
    image = font.render(line, True, colour)
    surface.blit(image, image.get_rect(midtop=(round(cx), round(y))))
    return image.get_height()


def blit_left(
    surface: pygame.Surface, font: pygame.font.Font, line: str, colour: Colour, x: float, y: float
) -> int:
    image = font.render(line, True, colour)
    surface.blit(image, (round(x), round(y)))
    return image.get_height()


def disc(surface: pygame.Surface, colour: Colour, centre: tuple[float, float], r: float) -> None:
    x, y, radius = round(centre[0]), round(centre[1]), max(1, round(r))
    pygame.gfxdraw.filled_circle(surface, x, y, radius, colour)
    pygame.gfxdraw.aacircle(surface, x, y, radius, colour)


def draw_face(surface: pygame.Surface, centre: tuple[float, float], r: float, smile: float) -> None:
    """A plain face whose mouth curves from a frown (-1) to an open laugh (1)."""
    cx, cy = centre
    disc(surface, INK, centre, r)
    disc(surface, WHITE, centre, r - max(2, r / 12))
    for side in (-1, 1):
        disc(surface, INK, (cx + side * r * 0.36, cy - r * 0.22), r * 0.11)
    half, base, depth = r * 0.48, cy + r * 0.36, r * 0.3 * smile
    points = [
        (cx + half * x / 10, base - depth / 2 + depth * (1 - (x / 10) ** 2)) for x in range(-10, 11)
    ]
    if smile >= 1.0:
        pygame.draw.polygon(surface, INK, points)
        pygame.gfxdraw.aapolygon(surface, points, INK)
    else:
        thickness = max(3, round(r / 9))
        pygame.draw.lines(surface, INK, False, points, thickness)
        for end in (points[0], points[-1]):
            disc(surface, INK, end, thickness / 2)


@lru_cache(maxsize=8)
def _photo_circle(path: str, mtime_ns: int, diameter: int) -> pygame.Surface | None:
    """The photo cropped to its centre square, scaled and cut to a circle; None if unreadable."""
    try:
        image = pygame.image.load(path)
    except (pygame.error, OSError) as exc:
        log.warning("officer photo %s cannot be shown (%s); showing the initials", path, exc)
        return None
    side = min(image.get_size())
    if side < 1:
        return None
    square = pygame.Surface((side, side), pygame.SRCALPHA)
    square.blit(image, (-(image.get_width() - side) // 2, -(image.get_height() - side) // 2))
    photo = pygame.transform.smoothscale(square, (diameter, diameter))
    mask = pygame.Surface((diameter, diameter), pygame.SRCALPHA)
    r = diameter // 2
    pygame.gfxdraw.filled_circle(mask, r, r, r - 1, (255, 255, 255, 255))
    pygame.gfxdraw.aacircle(mask, r, r, r - 1, (255, 255, 255, 255))
    photo.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MIN)
    return photo


def photo_surface(path: Path, diameter: int) -> pygame.Surface | None:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _photo_circle(str(path), mtime, diameter)


def draw_portrait(
    surface: pygame.Surface,
    centre: tuple[float, float],
    r: float,
    name: str,
    photo: Path | None,
    fonts: Fonts,
) -> None:
    """The officer's photo in a circle, or their initials where there is none."""
    image = photo_surface(photo, round(2 * r)) if photo is not None else None
    if image is not None:
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))
    else:
        disc(surface, PLACEHOLDER, centre, r)
        letters = initials(name)
        font = fonts.fit(letters, r * 0.9, r * 1.5, bold=True)
        image = font.render(letters, True, WHITE)
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))
    ring = max(2, round(r / 20))
    for i in range(ring):
        pygame.gfxdraw.aacircle(surface, round(centre[0]), round(centre[1]), round(r) + i, WHITE)
