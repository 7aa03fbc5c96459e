"""Where things are on the citizen's screen, in which colours and words: shared by the drawing
of each page (`device.pages`) and the reading of a tap (`device.screen`), so a tap lands on what
was drawn there.

The layout is drawn for 800x480 and scaled, so 1024x600 and other sizes show the same screen.
Every text is bilingual, the citizen's chosen language first.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.view import Language  # noqa: E402
from hailong.protocol import SCALES  # noqa: E402

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
MORE: Colour = (21, 101, 192)


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
    "under": {"vi": "Bấm nút ngay dưới lý do để chọn", "en": "Press the button below a reason"},
    "page": {"vi": "Trang {n}/{of}", "en": "Page {n}/{of}"},
    "picked": {"vi": "Đã chọn {n} lý do", "en": "{n} chosen"},
    "more": {"vi": "Xem thêm", "en": "More reasons"},
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


def px_rect(x: float, y: float, w: float, h: float) -> pygame.Rect:
    return pygame.Rect(round(x), round(y), round(w), round(h))


def level_rects(size: tuple[int, int], count: int) -> list[pygame.Rect]:
    """The big tappable blocks, left (worst) to right (best)."""
    width, height = size
    u = unit_px(size)
    margin, gap = 14 * u, 12 * u
    top = height - 14 * u - 204 * u
    block_w = (width - 2 * margin - (count - 1) * gap) / count
    return [px_rect(margin + i * (block_w + gap), top, block_w, 204 * u) for i in range(count)]


def language_rect(size: tuple[int, int]) -> pygame.Rect:
    """The English / Tiếng Việt switch, drawn at the right of the header."""
    u = unit_px(size)
    return px_rect(size[0] - 10 * u - 150 * u, 8 * u, 150 * u, 40 * u)


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
        px_rect(
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
    return px_rect(14 * u, height - 14 * u - 82 * u, 190 * u, 82 * u)


def send_rect(size: tuple[int, int]) -> pygame.Rect:
    width, height = size
    u = unit_px(size)
    return px_rect(width - 14 * u - 250 * u, height - 14 * u - 82 * u, 250 * u, 82 * u)


def tile_rects(size: tuple[int, int], buttons: int) -> list[pygame.Rect]:
    """On a unit with buttons, the reasons page's tiles: where the levels are on the idle
    page, one above each button; the last is Xem thêm or Gửi."""
    return level_rects(size, buttons)


def tiles_skip_rect(size: tuple[int, int]) -> pygame.Rect:
    """Bỏ qua on the tiles page, between the question and the tiles (touch only)."""
    u = unit_px(size)
    return px_rect(14 * u, 140 * u, 170 * u, 96 * u)


def score_at(pos: tuple[float, float], size: tuple[int, int], scale: str) -> int | None:
    for score, rect in enumerate(level_rects(size, SCALES[scale].size), start=1):
        if rect.collidepoint(pos):
            return score
    return None


def idle_qr_rect(size: tuple[int, int]) -> pygame.Rect:
    """The current ticket's QR card on the idle page: right of who serves, above the levels."""
    u = unit_px(size)
    return px_rect(size[0] - 14 * u - 290 * u, 60 * u, 290 * u, 196 * u)


def thanks_qr_rect(size: tuple[int, int]) -> pygame.Rect:
    """The QR card on the thank-you page: the right third, nearly full height."""
    u = unit_px(size)
    return px_rect(size[0] - 14 * u - 300 * u, 24 * u, 300 * u, size[1] - 48 * u)


def signin_rect(size: tuple[int, int]) -> pygame.Rect:
    """The officer's sign-in control, at the left of the header when the Config takes a PIN."""
    u = unit_px(size)
    return px_rect(10 * u, 8 * u, 150 * u, 40 * u)


def officer_band(size: tuple[int, int]) -> pygame.Rect:
    """Who serves here, on the idle page: a tap on it opens the sign-in pad too."""
    u = unit_px(size)
    return px_rect(0, 56 * u, size[0], 120 * u)
