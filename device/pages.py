"""The citizen-facing screen: pygame with no desktop (SDL kmsdrm on the Pi, dummy in tests).

Drawing is a function of a View (`render`), and what a tap or key asks for is a function of an
event (`action_for_event`), so both are tested without a display. `Screen` only owns the window
and the loop that joins them to a Unit.

Pages: idle (who serves at this counter, and the levels as big faces: one tap rates), reasons
(after a low score: toggles, Gửi, Bỏ qua) and thanks. The idle and reasons pages carry a small
English / Tiếng Việt switch in the header. The layout is drawn for 800x480 and scaled, so
1024x600 and other sizes show the same screen.

A tap on a touch panel arrives twice, as FINGERDOWN and as a synthetic MOUSEBUTTONDOWN with
`touch` set; the finger event is the one handled, so one tap is one rating.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402
import pygame.gfxdraw  # noqa: E402

from device.settings import ScreenSection  # noqa: E402
from device.view import Language, ReasonChoice, View  # noqa: E402
from hailong.protocol import SCALES  # noqa: E402

if TYPE_CHECKING:
    from device.unit import InputKind, Unit

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
FONT_REGULAR = ASSETS / "DejaVuSans.ttf"
FONT_BOLD = ASSETS / "DejaVuSans-Bold.ttf"
FPS = 30
MAX_REASONS = 8  # two columns of four; a Config with more shows the first eight

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
PLACEHOLDER: Colour = (52, 101, 164)
REASON: Colour = (30, 64, 108)
SEND: Colour = (27, 94, 32)
SKIP: Colour = (60, 78, 104)


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
    "switch": {"vi": "English", "en": "Tiếng Việt"},  # the language the switch turns to
    "reasons": {"vi": "Chúng tôi cần cải thiện điều gì?", "en": "What should we improve?"},
    "tap": {"vi": "Chạm để chọn một hoặc nhiều lý do", "en": "Tap one or more reasons"},
    "keys": {
        "vi": "Nút 1–{last}: chọn lý do · nút {n}: Gửi",
        "en": "Buttons 1–{last} choose · {n} sends",
    },
    "countdown": {"vi": "Tự động gửi sau {s} giây", "en": "Sends by itself in {s} s"},
    "send": {"vi": "Gửi", "en": "Send"},
    "done": {"vi": "Xong", "en": "Done"},  # Gửi with nothing selected
    "skip": {"vi": "Bỏ qua", "en": "Skip"},
}


def text(key: str, language: Language) -> tuple[str, str]:
    """The (first, second) lines of a bilingual text, the chosen language first."""
    other: Language = "en" if language == "vi" else "vi"
    return TEXT[key][language], TEXT[key][other]


def labels(scale: str, language: Language) -> list[tuple[str, str, Level]]:
    info = SCALES[scale]
    pairs = zip(info.labels_vi, info.labels_en, strict=True)
    return [(vi, en, LEVELS[vi]) if language == "vi" else (en, vi, LEVELS[vi]) for vi, en in pairs]


def initials(name: str) -> str:
    """The placeholder for a missing photo: family and given name, "Nguyễn Thị Lan" → "NL"."""
    words = name.split()
    if not words:
        return "?"
    first, last = words[0][0], words[-1][0]
    return (first + last if len(words) > 1 else first).upper()


# --- geometry, shared by drawing and hit-testing ---------------------------------------


def unit_px(size: tuple[int, int]) -> float:
    """One design pixel: the layout is drawn for 800x480 and scaled to the real screen."""
    return min(size[0] / 800, size[1] / 480)


def _rect(x: float, y: float, w: float, h: float) -> pygame.Rect:
    return pygame.Rect(round(x), round(y), round(w), round(h))


def level_rects(size: tuple[int, int], count: int) -> list[pygame.Rect]:
    """The big tappable blocks, left (worst) to right (best)."""
    width, height = size
    u = unit_px(size)
    margin, gap = 14 * u, 12 * u
    top = height - 14 * u - 204 * u
    block_w = (width - 2 * margin - (count - 1) * gap) / count
    return [_rect(margin + i * (block_w + gap), top, block_w, 204 * u) for i in range(count)]


def language_rect(size: tuple[int, int]) -> pygame.Rect:
    """The English / Tiếng Việt switch, drawn at the right of the header."""
    u = unit_px(size)
    return _rect(size[0] - 10 * u - 150 * u, 8 * u, 150 * u, 40 * u)


def _language_hit(size: tuple[int, int]) -> pygame.Rect:
    """The switch's touch area: its whole corner of the header, for unsteady fingers."""
    u = unit_px(size)
    return language_rect(size).inflate(round(16 * u), round(16 * u))


def reason_rects(size: tuple[int, int], count: int) -> list[pygame.Rect]:
    """The reason toggles: one column up to three, else two columns, filled row by row."""
    width, height = size
    u = unit_px(size)
    count = min(count, MAX_REASONS)
    if count == 0:
        return []
    columns = 1 if count <= 3 else 2
    rows = math.ceil(count / columns)
    margin, gap = 14 * u, 10 * u
    top, bottom = 126 * u, height - 96 * u - 12 * u
    cell_w = (width - 2 * margin - (columns - 1) * gap) / columns
    cell_h = min((bottom - top - (rows - 1) * gap) / rows, 84 * u)
    return [
        _rect(
            margin + (i % columns) * (cell_w + gap),
            top + (i // columns) * (cell_h + gap),
            cell_w,
            cell_h,
        )
        for i in range(count)
    ]


def skip_rect(size: tuple[int, int]) -> pygame.Rect:
    width, height = size
    u = unit_px(size)
    return _rect(14 * u, height - 14 * u - 82 * u, 190 * u, 82 * u)


def send_rect(size: tuple[int, int]) -> pygame.Rect:
    width, height = size
    u = unit_px(size)
    return _rect(width - 14 * u - 250 * u, height - 14 * u - 82 * u, 250 * u, 82 * u)


def score_at(pos: tuple[float, float], size: tuple[int, int], scale: str) -> int | None:
    for score, rect in enumerate(level_rects(size, SCALES[scale].size), start=1):
        if rect.collidepoint(pos):
            return score
    return None


# --- input -------------------------------------------------------------------------------

RATING_KEYS = {
    **{key: n for n, key in enumerate((pygame.K_1, pygame.K_2, pygame.K_3, pygame.K_4), 1)},
    **{key: n for n, key in enumerate((pygame.K_KP1, pygame.K_KP2, pygame.K_KP3, pygame.K_KP4), 1)},
}

ActionKind = Literal["score", "button", "reason", "send", "skip", "language", "invite"]


@dataclass(frozen=True)
class Action:
    """What an input event asks the unit for: a score (a tap on a level), a numbered button
    (a key: a score, or on the reasons page a reason or Gửi), a reason toggle, Gửi, Bỏ qua,
    the language switch, or the spoken invitation again (a tap elsewhere on the idle page)."""

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


def action_for_event(event: pygame.event.Event, view: View, size: tuple[int, int]) -> Action | None:
    if event.type == pygame.KEYDOWN:
        return _key_action(event.key, view)
    pos = _pointer(event, size)
    if pos is None or view.page == "thanks":
        return None
    if _language_hit(size).collidepoint(pos):
        return Action("language")
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


# --- drawing ---------------------------------------------------------------------------


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
        self, line: str, size: float, max_width: float, bold: bool = False
    ) -> tuple[pygame.font.Font, list[str]]:
        """One line if it fits at three quarters of `size` or more, else two balanced lines."""
        px = self._fit_px(line, size, max_width, bold)
        words = line.split()
        if px >= size * 0.75 or len(words) < 2:
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


def _blit_centred(
    surface: pygame.Surface, font: pygame.font.Font, line: str, colour: Colour, cx: float, y: float
) -> int:
    image = font.render(line, True, colour)
    surface.blit(image, image.get_rect(midtop=(round(cx), round(y))))
    return image.get_height()


def _blit_left(
    surface: pygame.Surface, font: pygame.font.Font, line: str, colour: Colour, x: float, y: float
) -> int:
    image = font.render(line, True, colour)
    surface.blit(image, (round(x), round(y)))
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
        _disc(surface, PLACEHOLDER, centre, r)
        letters = initials(name)
        font = fonts.fit(letters, r * 0.9, r * 1.5, bold=True)
        image = font.render(letters, True, WHITE)
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))
    ring = max(2, round(r / 20))
    for i in range(ring):
        pygame.gfxdraw.aacircle(surface, round(centre[0]), round(centre[1]), round(r) + i, WHITE)


def render(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    """Draw the whole screen for `view`."""
    if view.page == "thanks":
        _render_thanks(surface, view, fonts)
    elif view.page == "reasons":
        _render_reasons(surface, view, fonts)
    else:
        _render_idle(surface, view, fonts)


def _render_header(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width = surface.get_width()
    u = unit_px(surface.get_size())
    pygame.draw.rect(surface, HEADER, (0, 0, width, round(56 * u)))
    switch = language_rect(surface.get_size())
    _render_switch(surface, switch, TEXT["switch"][view.language], fonts)
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
    name = view.unit_name or view.device_id
    if name:
        font = fonts.fit(name, 22 * u, right - 20 * u)
        image = font.render(name, True, MUTED)
        surface.blit(image, image.get_rect(midleft=(round(20 * u), round(28 * u))))


def _render_switch(surface: pygame.Surface, rect: pygame.Rect, label: str, fonts: Fonts) -> None:
    """A white-edged pill with a globe, saying the language it switches to."""
    u = unit_px(surface.get_size())
    radius = rect.height // 2
    pygame.draw.rect(surface, BACKGROUND, rect, border_radius=radius)
    pygame.draw.rect(surface, WHITE, rect, max(2, round(2 * u)), border_radius=radius)
    r = 11 * u
    cx, cy = rect.left + radius + 2 * u, rect.centery
    line = max(1, round(1.6 * u))
    pygame.draw.circle(surface, WHITE, (round(cx), round(cy)), round(r), line)
    pygame.draw.ellipse(surface, WHITE, _rect(cx - r * 0.45, cy - r, r * 0.9, 2 * r), line)
    pygame.draw.line(surface, WHITE, (round(cx - r), round(cy)), (round(cx + r), round(cy)), line)
    left = cx + r + 8 * u
    font = fonts.fit(label, 19 * u, rect.right - radius / 2 - left, bold=True)
    image = font.render(label, True, WHITE)
    surface.blit(image, image.get_rect(midleft=(round(left), rect.centery)))


def _render_idle(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    width, _ = surface.get_size()
    u = unit_px(surface.get_size())
    surface.fill(BACKGROUND)
    _render_header(surface, view, fonts)
    cx, usable = width / 2, width - 40 * u
    if view.officer_name:
        _render_officer(surface, view, fonts)
    else:
        first, second = text("no_officer", view.language)
        _blit_centred(surface, fonts.fit(first, 36 * u, usable, True), first, ATTENTION, cx, 78 * u)
        _blit_centred(surface, fonts.fit(second, 20 * u, usable), second, MUTED, cx, 126 * u)
    first, second = text("wait" if view.waiting_for_service else "prompt", view.language)
    pygame.draw.line(
        surface, HEADER, (round(60 * u), round(178 * u)), (round(width - 60 * u), round(178 * u)), 2
    )
    _blit_centred(surface, fonts.fit(first, 32 * u, usable, True), first, WHITE, cx, 186 * u)
    _blit_centred(surface, fonts.fit(second, 19 * u, usable), second, MUTED, cx, 228 * u)
    levels = labels(view.scale, view.language)
    for rect, (main, other, level) in zip(
        level_rects(surface.get_size(), len(levels)), levels, strict=True
    ):
        _render_level(surface, rect, main, other, level, fonts, dimmed=view.waiting_for_service)


def _render_officer(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    """Photo (or initials) on the left, then who serves here: label, name, title."""
    assert view.officer_name is not None
    width, _ = surface.get_size()
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
        _blit_left(surface, font, line, colour, left + 2 * r + gap, y)


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
        y += _blit_centred(
            surface, fonts.fit(line, 26 * u, inner, True), line, ink, rect.centerx, y
        )
    _blit_centred(surface, fonts.fit(other, 17 * u, inner), other, ink, rect.centerx, y + 4 * u)


def _render_reasons(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    size = surface.get_size()
    width = size[0]
    u = unit_px(size)
    surface.fill(BACKGROUND)
    _render_header(surface, view, fonts)
    left = 20 * u
    if view.chosen is not None:
        _, _, level = labels(view.scale, view.language)[view.chosen - 1]
        _disc(surface, level.fill, (48 * u, 91 * u), 31 * u)
        draw_face(surface, (48 * u, 91 * u), 24 * u, level.smile)
        left = 92 * u
    cx, room = (left + width - 20 * u) / 2, width - 20 * u - left
    first, second = text("reasons", view.language)
    _blit_centred(surface, fonts.fit(first, 30 * u, room, True), first, WHITE, cx, 62 * u)
    _blit_centred(surface, fonts.fit(second, 18 * u, room), second, MUTED, cx, 100 * u)
    keys = view.buttons - 1 if view.buttons else 0
    rects = reason_rects(size, len(view.reasons))
    for number, (reason, rect) in enumerate(zip(view.reasons, rects, strict=False), start=1):
        badge = number if number <= keys else None
        _render_reason(
            surface, rect, reason, reason.code in view.selected, badge, view.language, fonts
        )
    skip, send = skip_rect(size), send_rect(size)
    _render_action(surface, skip, text("skip", view.language), SKIP, None, fonts)
    words = text("send" if view.selected else "done", view.language)
    _render_action(surface, send, words, SEND, view.buttons or None, fonts)
    mid, room = (skip.right + send.left) / 2, send.left - skip.right - 24 * u
    if keys:
        hint = TEXT["keys"][view.language].format(last=keys, n=view.buttons)
    else:
        hint = TEXT["tap"][view.language]
    countdown = TEXT["countdown"][view.language].format(s=view.reasons_left_s)
    top = skip.top + 8 * u
    top += _blit_centred(surface, fonts.fit(hint, 17 * u, room), hint, MUTED, mid, top) + 8 * u
    _blit_centred(surface, fonts.fit(countdown, 17 * u, room, True), countdown, WHITE, mid, top)


def _render_reason(
    surface: pygame.Surface,
    rect: pygame.Rect,
    reason: ReasonChoice,
    selected: bool,
    badge: int | None,
    language: Language,
    fonts: Fonts,
) -> None:
    """A toggle: a check box, the label in both languages, and the button's number if any."""
    u = unit_px(surface.get_size())
    fill, ink, sub = (ATTENTION, INK, INK) if selected else (REASON, WHITE, MUTED)
    pygame.draw.rect(surface, fill, rect, border_radius=round(14 * u))
    pygame.draw.rect(
        surface, WHITE, rect, max(2, round((4 if selected else 2) * u)), border_radius=round(14 * u)
    )
    box = _rect(rect.left + 14 * u, rect.centery - 16 * u, 32 * u, 32 * u)
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
    right = rect.right - 12 * u
    if badge is not None:
        r = 18 * u
        centre = (rect.right - 14 * u - r, rect.centery)
        _disc(surface, INK if selected else WHITE, centre, r)
        digit = str(badge)
        font = fonts.get(round(24 * u), True)
        image = font.render(digit, True, ATTENTION if selected else INK)
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))
        right = centre[0] - r - 10 * u
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
        _blit_left(surface, font, line, ink, x, y)
        y += font.get_linesize()
    _blit_left(surface, small, other, sub, x, y)


def _render_action(
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
        _disc(surface, WHITE, centre, r)
        image = fonts.get(round(24 * u), True).render(str(badge), True, INK)
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))
        room = rect.width - 2 * (2 * r + 24 * u)
    first, second = words
    big = fonts.fit(first, 32 * u, room, True)
    small = fonts.fit(second, 17 * u, room)
    y = rect.centery - (big.get_linesize() + small.get_linesize()) / 2
    y += _blit_centred(surface, big, first, WHITE, cx, y)
    _blit_centred(surface, small, second, WHITE, cx, y)


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
        action = action_for_event(event, view, self.surface.get_size())
        if action is None:
            return
        if action.kind == "score":
            unit.press(action.number, input=action.input)
        elif action.kind == "button":
            unit.button(action.number, input=action.input)
        elif action.kind == "reason":
            unit.toggle_reason(action.code)
        elif action.kind == "send":
            unit.send_reasons()
        elif action.kind == "skip":
            unit.skip_reasons()
        elif action.kind == "language":
            unit.toggle_language()
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
