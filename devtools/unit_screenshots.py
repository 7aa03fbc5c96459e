"""`python -m devtools.unit_screenshots DIR`: the unit's screens as PNGs, for the docs and reviews.

Rendering needs no display, so this works on a server or in CI (SDL's dummy driver).
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from device.drawing import Fonts  # noqa: E402
from device.pages import render  # noqa: E402
from device.signin import Pad  # noqa: E402
from device.view import ReasonChoice, View  # noqa: E402

SIZE = (800, 480)
LARGE = (1024, 600)
_UNIT = View(
    unit_name="UBND phường Sài Gòn – Bộ phận một cửa",
    counter_id="Q03",
    online=True,
    buttons=4,
)
_IDLE = replace(
    _UNIT, officer_name="Nguyễn Thị Hồng Nhung", officer_title="Chuyên viên tiếp nhận hồ sơ"
)
# The link of ticket A-0153 as the server makes it (a base URL, /r/, 22 random characters).
RATING_URL = "https://hailong.saigon.gov.vn/r/q7Xk2mP9vR4tLw8nB3yZ5A"
_SIGNIN = replace(_IDLE, page="signin", signin_offered=True)
REASONS = (
    ReasonChoice("wait_time", "Chờ đợi lâu", "Long wait"),
    ReasonChoice("attitude", "Thái độ chưa tốt", "Poor attitude"),
    ReasonChoice("guidance", "Hướng dẫn chưa rõ", "Unclear guidance"),
    ReasonChoice("paperwork", "Thủ tục, giấy tờ phức tạp", "Complex paperwork"),
    ReasonChoice("late_result", "Trả kết quả trễ hẹn", "Result late"),
    ReasonChoice("facilities", "Cơ sở vật chất", "Facilities"),
)
# After a low score on a unit with four buttons: page 1 of 2, then page 2 (Gửi above button 4);
# a touch-only unit shows every reason at once.
_ASKING = replace(
    _IDLE,
    page="reasons",
    chosen=1,
    reasons=REASONS[:3],
    reasons_page=1,
    reasons_pages=2,
    reasons_left_s=14,
)
SCREENS: dict[str, tuple[View, tuple[int, int]]] = {
    "unit-idle.png": (_IDLE, SIZE),
    "unit-no-officer.png": (_UNIT, SIZE),
    "unit-thanks.png": (replace(_UNIT, page="thanks", chosen=4), SIZE),
    "unit-reasons.png": (replace(_ASKING, selected=frozenset({"wait_time"})), SIZE),
    "unit-reasons-2.png": (
        replace(
            _ASKING,
            reasons=REASONS[3:],
            selected=frozenset({"wait_time", "paperwork"}),
            reasons_page=2,
            reasons_left_s=12,
        ),
        SIZE,
    ),
    "unit-reasons-touch.png": (
        replace(
            _ASKING,
            buttons=0,
            reasons=REASONS,
            reasons_pages=1,
            selected=frozenset({"wait_time", "paperwork"}),
            reasons_left_s=12,
        ),
        SIZE,
    ),
    "unit-idle-1024x600.png": (_IDLE, LARGE),
    "unit-qr.png": (replace(_IDLE, page="thanks", chosen=4, qr_url=RATING_URL), SIZE),
    "unit-idle-qr.png": (replace(_IDLE, qr_url=RATING_URL, signin_offered=True), SIZE),
    "unit-pin.png": (replace(_SIGNIN, pad=Pad("entering", 3, can_sign_out=True)), SIZE),
    "unit-pin-checking.png": (
        replace(_SIGNIN, pad=Pad("checking", 0, ("Đang kiểm tra…", "Checking…"))),
        SIZE,
    ),
    "unit-pin-refused.png": (
        replace(
            _SIGNIN,
            pad=Pad(
                "answer", 0, ("Sai mã PIN. Còn 3 lần thử trước khi tạm khóa.", "Sign-in refused")
            ),
        ),
        SIZE,
    ),
}


def write_screenshots(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    fonts = Fonts()
    written = []
    for name, (view, size) in SCREENS.items():
        surface = pygame.Surface(size)
        render(surface, view, fonts)
        path = folder / name
        pygame.image.save(surface, str(path))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m devtools.unit_screenshots DIR", file=sys.stderr)
        return 2
    for path in write_screenshots(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
