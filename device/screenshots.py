"""`python -m device.screenshots DIR`: the unit's screens as PNGs, for the docs and reviews.

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

from device.screen import Fonts, render  # noqa: E402
from device.view import View  # noqa: E402

SIZE = (800, 480)
_UNIT = View(unit_name="UBND phường Bến Nghé – Bộ phận một cửa", counter_id="Q03", online=True)
SCREENS: dict[str, View] = {
    "unit-idle.png": replace(
        _UNIT, officer_name="Nguyễn Thị Hồng Nhung", officer_title="Chuyên viên tiếp nhận hồ sơ"
    ),
    "unit-no-officer.png": _UNIT,
    "unit-thanks.png": replace(_UNIT, page="thanks", chosen=4),
}


def write_screenshots(folder: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    fonts = Fonts()
    written = []
    for name, view in SCREENS.items():
        surface = pygame.Surface(size)
        render(surface, view, fonts)
        path = folder / name
        pygame.image.save(surface, str(path))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m device.screenshots DIR", file=sys.stderr)
        return 2
    for path in write_screenshots(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
