"""The citizen-facing screen: pygame with no desktop (SDL kmsdrm on the Pi, dummy in tests).

Drawing is a function of a View (`render`), and which level a tap or key means is a function of
an event (`score_for_event`), so both are tested without a display. `Screen` only owns the window
and the loop that joins them to a Unit.

A tap on a touch panel arrives twice, as FINGERDOWN and as a synthetic MOUSEBUTTONDOWN with
`touch` set; the finger event is the one handled, so one tap is one rating.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402
import pygame.gfxdraw  # noqa: E402

from device.settings import ScreenSection  # noqa: E402
from device.view import Language, View  # noqa: E402
from hailong.protocol import SCALES  # noqa: E402

if TYPE_CHECKING:
    from device.unit import InputKind, Unit

ASSETS = Path(__file__).parent / "assets"
FONT_REGULAR = ASSETS / "DejaVuSans.ttf"
FONT_BOLD = ASSETS / "DejaVuSans-Bold.ttf"
FPS = 30

Colour = tuple[int, int, int]
BACKGROUND: Colour = (10, 32, 60)
HEADER: Colour = (20, 52, 92)
THANKS_BACKGROUND: Colour = (16, 84, 48)
THANKS_MUTED: Colour = (214, 240, 222)
WHITE: Colour = (255, 255, 255)
MUTED: Colour = (190, 208, 230)
INK: Colour = (20, 20, 20)
ATTENTION: Colour = (255, 213, 79)
ONLINE: Colour = (102, 220, 120)
OFFLINE: Colour = (150, 150, 150)


@dataclass(frozen=True)
class Level:
    """How one level of a scale looks: block colour, text colour and the mouth's curve."""

    fill: Colour
    ink: Colour
    smile: float  # -1 frown … 0 flat … 1 open laugh


# Keyed by the Vietnamese label so vn3 and vn4 show a level the same way.
LEVELS: dict[str, Level] = {
    "Không hài lòng": Level((198, 40, 40), WHITE, -1.0),
    "Bình thường": Level((249, 168, 37), INK, 0.0),
    "Hài lòng": Level((124, 179, 66), INK, 0.6),
    "Rất hài lòng": Level((27, 94, 32), WHITE, 1.0),
}

TEXT: dict[str, dict[Language, str]] = {
    "prompt": {"vi": "Xin vui lòng đánh giá", "en": "Please rate our service"},
    "officer": {"vi": "Cán bộ phục vụ", "en": "Serving officer"},
    "no_officer": {"vi": "Quầy chưa có cán bộ", "en": "No officer at this counter"},
    "counter": {"vi": "Quầy", "en": "Counter"},
    "thanks": {"vi": "Cảm ơn quý khách!", "en": "Thank you!"},
    "chosen": {"vi": "Quý khách đã chọn", "en": "You chose"},
    "wait": {
        "vi": "Mời quý khách đánh giá sau khi được phục vụ",
        "en": "Please rate once you have been served",
    },
}


def text(key: str, language: Language) -> tuple[str, str]:
    """The (first, second) lines of a bilingual text, the chosen language first."""
    other: Language = "en" if language == "vi" else "vi"
    return TEXT[key][language], TEXT[key][other]


def labels(scale: str, language: Language) -> list[tuple[str, str, Level]]:
    info = SCALES[scale]
    pairs = zip(info.labels_vi, info.labels_en, strict=True)
    return [(vi, en, LEVELS[vi]) if language == "vi" else (en, vi, LEVELS[vi]) for vi, en in pairs]


# --- geometry, shared by drawing and hit-testing ---------------------------------------


def unit_px(size: tuple[int, int]) -> float:
    """One design pixel: the layout is drawn for 800x480 and scaled to the real screen."""
    return min(size[0] / 800, size[1] / 480)


def level_rects(size: tuple[int, int], count: int) -> list[pygame.Rect]:
    """The big tappable blocks, left (worst) to right (best)."""
    width, height = size
    u = unit_px(size)
    margin, gap = 14 * u, 12 * u
    top = height - 14 * u - 204 * u
    block_w = (width - 2 * margin - (count - 1) * gap) / count
    return [
        pygame.Rect(round(margin + i * (block_w + gap)), round(top), round(block_w), round(204 * u))
        for i in range(count)
    ]


def score_at(pos: tuple[float, float], size: tuple[int, int], scale: str) -> int | None:
    for score, rect in enumerate(level_rects(size, SCALES[scale].size), start=1):
        if rect.collidepoint(pos):
            return score
    return None


RATING_KEYS = {
    **{key: n for n, key in enumerate((pygame.K_1, pygame.K_2, pygame.K_3, pygame.K_4), 1)},
    **{key: n for n, key in enumerate((pygame.K_KP1, pygame.K_KP2, pygame.K_KP3, pygame.K_KP4), 1)},
}


def score_for_event(
    event: pygame.event.Event, view: View, size: tuple[int, int]
) -> tuple[int, InputKind] | None:
    """The rating an input event asks for, if any; the synthetic mouse twin of a tap is not."""
    if event.type == pygame.KEYDOWN:
        digit = RATING_KEYS.get(event.key)
        if digit and digit <= SCALES[view.scale].size:
            return digit, "keyboard"
        return None
    if view.page != "idle":
        return None
    if event.type == pygame.FINGERDOWN:
        score = score_at((event.x * size[0], event.y * size[1]), size, view.scale)
    elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
        if getattr(event, "touch", False):
            return None
        score = score_at(event.pos, size, view.scale)
    else:
        return None
    return (score, "touch") if score else None


# --- drawing ---------------------------------------------------------------------------


class Fonts:
    """The bundled DejaVu fonts (pygame's default font has no Vietnamese glyphs)."""

    def __init__(self) -> None:
        pygame.font.init()

    @staticmethod
    @lru_cache(maxsize=64)
    def get(size: int, bold: bool = False) -> pygame.font.Font:
        return pygame.font.Font(str(FONT_BOLD if bold else FONT_REGULAR), max(size, 6))

    def fit(self, line: str, size: float, max_width: float, bold: bool = False) -> pygame.font.Font:
        """The font at `size`, shrunk until `line` fits in `max_width`."""
        px = round(size)
        font = self.get(px, bold)
        while font.size(line)[0] > max_width and px > 8:
            px -= 1
            font = self.get(px, bold)
        return font


def _blit_centred(
    surface: pygame.Surface, font: pygame.font.Font, line: str, colour: Colour, cx: float, y: float
) -> int:
    image = font.render(line, True, colour)
    surface.blit(image, image.get_rect(midtop=(round(cx), round(y))))
    return image.get_height()


def _label_lines(fonts: Fonts, label: str, size: float, max_width: float) -> list[str]:
    """One line if it fits; else the last two syllables (the word "hài lòng") go below."""
    words = label.split()
    if fonts.get(round(size), True).size(label)[0] <= max_width or len(words) < 3:
        return [label]
    return [" ".join(words[:-2]), " ".join(words[-2:])]


def _disc(surface: pygame.Surface, colour: Colour, centre: tuple[float, float], r: float) -> None:
    x, y, radius = round(centre[0]), round(centre[1]), max(1, round(r))
    pygame.gfxdraw.filled_circle(surface, x, y, radius, colour)
    pygame.gfxdraw.aacircle(surface, x, y, radius, colour)


def draw_face(surface: pygame.Surface, centre: tuple[float, float], r: float, smile: float) -> None:
    """A plain face whose mouth curves from a frown (-1) to an open laugh (1)."""
    cx, cy = centre
    _disc(surface, INK, centre, r)
    _disc(surface, WHITE, centre, r - max(2, r / 12))
    for side in (-1, 1):
        _disc(surface, INK, (cx + side * r * 0.36, cy - r * 0.22), r * 0.11)
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
            _disc(surface, INK, end, thickness / 2)


def render(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    """Draw the whole screen for `view`."""
    if view.page == "thanks":
        _render_thanks(surface, view, fonts)
    else:
        _render_idle(surface, view, fonts)


def _render_header(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width = surface.get_width()
    u = unit_px(surface.get_size())
    pygame.draw.rect(surface, HEADER, (0, 0, width, round(56 * u)))
    right = width - 20 * u
    dot = ONLINE if view.online else OFFLINE
    pygame.draw.circle(surface, dot, (round(right - 7 * u), round(28 * u)), round(7 * u))
    right -= 24 * u
    if view.counter_id:
        label = f"{TEXT['counter'][view.language]} {view.counter_id}"
        font = fonts.fit(label, 24 * u, width * 0.4, bold=True)
        image = font.render(label, True, WHITE)
        surface.blit(image, image.get_rect(midright=(round(right), round(28 * u))))
        right -= image.get_width() + 16 * u
    name = view.unit_name or view.device_id
    if name:
        font = fonts.fit(name, 22 * u, right - 20 * u)
        image = font.render(name, True, MUTED)
        surface.blit(image, image.get_rect(midleft=(round(20 * u), round(28 * u))))


def _render_idle(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width, _ = surface.get_size()
    u = unit_px(surface.get_size())
    surface.fill(BACKGROUND)
    _render_header(surface, view, fonts)
    cx, usable = width / 2, width - 40 * u
    if view.officer_name:
        first, second = text("officer", view.language)
        small = fonts.fit(f"{first} · {second}", 18 * u, usable)
        _blit_centred(surface, small, f"{first} · {second}", MUTED, cx, 66 * u)
        name = fonts.fit(view.officer_name, 40 * u, usable, bold=True)
        _blit_centred(surface, name, view.officer_name, WHITE, cx, 90 * u)
        if view.officer_title:
            title = fonts.fit(view.officer_title, 22 * u, usable)
            _blit_centred(surface, title, view.officer_title, MUTED, cx, 140 * u)
    else:
        first, second = text("no_officer", view.language)
        _blit_centred(surface, fonts.fit(first, 36 * u, usable, True), first, ATTENTION, cx, 78 * u)
        _blit_centred(surface, fonts.fit(second, 20 * u, usable), second, MUTED, cx, 126 * u)
    first, second = text("wait" if view.waiting_for_service else "prompt", view.language)
    pygame.draw.line(
        surface, HEADER, (round(60 * u), round(176 * u)), (round(width - 60 * u), round(176 * u)), 2
    )
    _blit_centred(surface, fonts.fit(first, 34 * u, usable, True), first, WHITE, cx, 186 * u)
    _blit_centred(surface, fonts.fit(second, 20 * u, usable), second, MUTED, cx, 230 * u)
    levels = labels(view.scale, view.language)
    for rect, (main, other, level) in zip(
        level_rects(surface.get_size(), len(levels)), levels, strict=True
    ):
        _render_level(surface, rect, main, other, level, fonts, dimmed=view.waiting_for_service)


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
    pygame.draw.rect(surface, fill, rect, border_radius=round(18 * u))
    draw_face(surface, (rect.centerx, rect.top + 58 * u), 42 * u, level.smile)
    inner = rect.width - 16 * u
    lines = _label_lines(fonts, main, 26 * u, inner)
    y = rect.top + (112 if len(lines) == 2 else 124) * u
    for line in lines:
        y += _blit_centred(
            surface, fonts.fit(line, 26 * u, inner, True), line, level.ink, rect.centerx, y
        )
    _blit_centred(
        surface, fonts.fit(other, 17 * u, inner), other, level.ink, rect.centerx, y + 4 * u
    )


def _render_thanks(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width, height = surface.get_size()
    u = unit_px(surface.get_size())
    surface.fill(THANKS_BACKGROUND)
    cx, usable = width / 2, width - 40 * u
    level = None
    if view.chosen is not None:
        main, other, level = labels(view.scale, view.language)[view.chosen - 1]
    draw_face(surface, (cx, 118 * u), 72 * u, 1.0)  # always a welcome, whatever was chosen
    first, second = text("thanks", view.language)
    _blit_centred(surface, fonts.fit(first, 60 * u, usable, True), first, WHITE, cx, 216 * u)
    _blit_centred(surface, fonts.fit(second, 32 * u, usable), second, THANKS_MUTED, cx, 296 * u)
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


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


# --- the window and its loop -------------------------------------------------------------


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
        hit = score_for_event(event, view, self.surface.get_size())
        if hit:
            unit.press(hit[0], input=hit[1])

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
