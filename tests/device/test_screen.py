"""The screen: every page renders at both panel sizes and in both languages, one tap, click or
key is exactly one rating, and the reasons page and language switch answer taps and keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from device.clock import ManualClock
from device.drawing import Fonts, photo_surface
from device.layout import (
    initials,
    language_rect,
    level_rects,
    reason_rects,
    send_rect,
    skip_rect,
    tile_rects,
    tiles_skip_rect,
)
from device.pages import render
from device.screen import Action, Screen, action_for_event, score_for_event
from device.settings import DeviceSettings, ScreenSection
from device.unit import Unit
from device.view import View
from devtools.unit_screenshots import REASONS, write_screenshots
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, Reason
from tests.device.conftest import wait_until

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
SIZE = (800, 480)
SIZES = [(800, 480), (1024, 600)]
WITH_OFFICER = View(officer_name="Nguyễn Thị Hồng Nhung", officer_title="Chuyên viên")
ASKING = replace(WITH_OFFICER, page="reasons", chosen=1, reasons_left_s=15)

VIEWS = [
    replace(WITH_OFFICER, counter_id="Q03", unit_name="UBND phường Sài Gòn", online=True),
    replace(WITH_OFFICER, officer_photo=Path("/nonexistent/photo.png")),  # the initials instead
    View(counter_id="Q03"),
    replace(WITH_OFFICER, scale="vn3", language="en"),
    View(waiting_for_service=True),
    *[View(page="thanks", chosen=score) for score in (1, 2, 3, 4)],
    View(page="thanks", chosen=3, scale="vn3", language="en"),
    View(page="thanks"),
    *[
        replace(ASKING, reasons=REASONS[:n], language=language, buttons=buttons)
        for n in (0, 3, 6)
        for language in ("vi", "en")
        for buttons in (0, 4)
    ],
    replace(ASKING, reasons=REASONS[:2], selected=frozenset({"attitude"}), buttons=3),
    *[
        replace(ASKING, reasons=REASONS[3:4], reasons_page=2, reasons_pages=2, buttons=4, **more)
        for more in ({}, {"language": "en", "selected": frozenset({"paperwork", "wait_time"})})
    ],
    replace(ASKING, chosen=2, scale="vn4", reasons=REASONS * 2),  # more than fit: the first 8
]


@pytest.fixture
def unit(make_settings: Callable[..., DeviceSettings], clock: ManualClock) -> Iterator[Unit]:
    u = Unit(make_settings(NOWHERE), clock)
    yield u
    u.outbox.close()


@pytest.fixture
def screen() -> Iterator[Screen]:
    s = Screen(ScreenSection(width=SIZE[0], height=SIZE[1]))
    yield s
    pygame.display.quit()


@pytest.mark.parametrize("size", [*SIZES, (480, 320), (1920, 1080)])
@pytest.mark.parametrize("view", VIEWS)
def test_every_screen_renders(view: View, size: tuple[int, int]) -> None:
    surface = pygame.Surface(size)
    render(surface, view, Fonts())
    colours = {
        surface.get_at((x, y))[:3] for x in range(0, size[0], 23) for y in range(0, size[1], 17)
    }
    assert len(colours) > 3  # something was drawn, not just a background


def test_the_screenshots_are_written(tmp_path: Path) -> None:
    written = {p.name: pygame.image.load(str(p)).get_size() for p in write_screenshots(tmp_path)}
    assert written == {
        "unit-idle.png": SIZE,
        "unit-no-officer.png": SIZE,
        "unit-thanks.png": SIZE,
        "unit-reasons.png": SIZE,
        "unit-reasons-2.png": SIZE,
        "unit-reasons-touch.png": SIZE,
        "unit-idle-1024x600.png": (1024, 600),
        "unit-qr.png": SIZE,
        "unit-idle-qr.png": SIZE,
        "unit-pin.png": SIZE,
        "unit-pin-checking.png": SIZE,
        "unit-pin-refused.png": SIZE,
    }


@pytest.mark.parametrize("size", SIZES)
def test_the_reasons_page_targets_are_large_and_apart(size: tuple[int, int]) -> None:
    for count in (1, 3, 6, 8):
        rects = [*reason_rects(size, count), skip_rect(size), send_rect(size), language_rect(size)]
        assert len(rects) == count + 3
        for i, rect in enumerate(rects):
            assert pygame.Rect((0, 0), size).contains(rect)
            assert rect.height >= 40 * size[1] / 480
            assert rect.collidelist(rects[i + 1 :]) == -1
    assert len(reason_rects(size, 12)) == 8


def test_a_photo_is_cut_to_a_circle_and_a_bad_file_gives_the_initials(tmp_path: Path) -> None:
    photo = pygame.Surface((60, 90))
    photo.fill((200, 120, 40))
    good = tmp_path / "officer.png"
    pygame.image.save(photo, str(good))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    circle = photo_surface(good, 100)
    assert circle is not None and circle.get_size() == (100, 100)
    assert circle.get_at((50, 50))[3] == 255 and circle.get_at((2, 2))[3] == 0
    assert photo_surface(bad, 100) is None
    assert photo_surface(tmp_path / "missing.png", 100) is None
    surface = pygame.Surface(SIZE)
    render(surface, replace(WITH_OFFICER, officer_photo=good), Fonts())
    render(surface, replace(WITH_OFFICER, officer_photo=bad), Fonts())
    assert (initials("Nguyễn Thị Hồng Nhung"), initials("Đặng Ánh"), initials("Lan")) == (
        "NN",
        "ĐÁ",
        "L",
    )


def centre_of(score: int, count: int = 4) -> tuple[int, int]:
    rect = level_rects(SIZE, count)[score - 1]
    return rect.center


def tap_events(score: int) -> list[pygame.event.Event]:
    """What SDL delivers for one tap on a touch panel: a finger event and its mouse twin."""
    x, y = centre_of(score)
    return [
        pygame.event.Event(
            pygame.FINGERDOWN, x=x / SIZE[0], y=y / SIZE[1], touch_id=0, finger_id=0
        ),
        pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=True),
    ]


def test_one_tap_is_one_rating(screen: Screen, unit: Unit) -> None:
    for event in tap_events(2):
        screen.handle(event, unit, unit.view())
    pending = unit.outbox.pending(10)
    assert len(pending) == 1
    assert b'"score":2' in pending[0].payload and b'"input":"touch"' in pending[0].payload
    assert unit.ignored_presses == 0


def test_a_mouse_click_and_keys_rate(screen: Screen, unit: Unit, clock: ManualClock) -> None:
    x, y = centre_of(4)
    click = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=False)
    assert score_for_event(click, View(), SIZE) == (4, "touch")
    screen.handle(click, unit, unit.view())
    clock.advance(5)
    screen.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_1), unit, unit.view())
    payloads = [e.payload for e in unit.outbox.pending(10)]
    assert len(payloads) == 2
    assert b'"score":1' in payloads[1] and b'"input":"keyboard"' in payloads[1]


def test_what_is_not_a_rating() -> None:
    outside = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(400, 20), button=1, touch=False)
    right = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=centre_of(1), button=3, touch=False)
    key4 = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_4)
    x, y = centre_of(1)
    finger = pygame.event.Event(pygame.FINGERDOWN, x=x / SIZE[0], y=y / SIZE[1])
    assert score_for_event(outside, View(), SIZE) is None
    assert score_for_event(right, View(), SIZE) is None
    assert score_for_event(key4, View(scale="vn3"), SIZE) is None
    assert score_for_event(finger, View(page="thanks"), SIZE) is None  # the blocks are hidden
    assert score_for_event(key4, View(page="thanks"), SIZE) == (4, "keyboard")


def test_the_loop_turns_a_posted_tap_into_one_rating(screen: Screen, unit: Unit) -> None:
    stop = threading.Event()

    def stop_after_the_rating() -> None:
        wait_until(lambda: unit.outbox.count() >= 1)
        stop.set()

    watcher = threading.Thread(target=stop_after_the_rating, daemon=True)
    for event in tap_events(3):
        pygame.event.post(event)
    watcher.start()
    screen.run(unit, stop)
    watcher.join()
    assert unit.outbox.count() == 1
    assert unit.ignored_presses == 0


def tap(pos: tuple[int, int], size: tuple[int, int] = SIZE) -> pygame.event.Event:
    return pygame.event.Event(
        pygame.FINGERDOWN, x=pos[0] / size[0], y=pos[1] / size[1], touch_id=0, finger_id=0
    )


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code)


@pytest.mark.parametrize("size", SIZES)
def test_what_a_tap_asks_for_on_each_page(size: tuple[int, int]) -> None:
    idle = View()
    asking = replace(ASKING, reasons=REASONS)
    rects = reason_rects(size, len(REASONS))
    assert action_for_event(tap(level_rects(size, 4)[1].center, size), idle, size) == Action(
        "score", number=2
    )
    assert action_for_event(tap((size[0] // 2, size[1] // 3), size), idle, size) == Action("invite")
    for view in (idle, asking):
        switch = language_rect(size)
        assert action_for_event(tap(switch.center, size), view, size) == Action("language")
        corner = (switch.right, switch.top)  # the touch area is larger than the pill
        assert action_for_event(tap(corner, size), view, size) == Action("language")
    assert action_for_event(tap(rects[4].center, size), asking, size) == Action(
        "reason", code=REASONS[4].code
    )
    assert action_for_event(tap(send_rect(size).center, size), asking, size) == Action("send")
    assert action_for_event(tap(skip_rect(size).center, size), asking, size) == Action("skip")
    thanks = View(page="thanks")
    assert action_for_event(tap(language_rect(size).center, size), thanks, size) is None


@pytest.mark.parametrize("size", SIZES)
def test_with_buttons_a_tap_on_a_tile_is_what_its_button_does(size: tuple[int, int]) -> None:
    first = replace(ASKING, reasons=REASONS[:3], buttons=4, reasons_pages=2)
    last = replace(first, reasons=REASONS[3:], reasons_page=2)
    tiles = tile_rects(size, 4)
    assert action_for_event(tap(tiles[0].center, size), last, size) == Action(
        "reason", code=REASONS[3].code
    )
    assert action_for_event(tap(tiles[3].center, size), first, size) == Action("next")
    assert action_for_event(tap(tiles[3].center, size), last, size) == Action("send")
    assert action_for_event(tap(tiles_skip_rect(size).center, size), last, size) == Action("skip")
    one = replace(last, reasons=REASONS[3:4])  # a last page with one reason: tiles 2-3 empty
    assert action_for_event(tap(tiles[1].center, size), one, size) is None
    targets = [*tiles, tiles_skip_rect(size), language_rect(size)]
    for i, rect in enumerate(targets):
        assert pygame.Rect((0, 0), size).contains(rect)
        assert rect.collidelist(targets[i + 1 :]) == -1


def test_keys_rate_choose_reasons_send_skip_and_switch_language() -> None:
    asking = replace(ASKING, reasons=REASONS)
    assert action_for_event(key(pygame.K_2), View(), SIZE) == Action(
        "button", number=2, input="keyboard"
    )
    assert action_for_event(key(pygame.K_4), asking, SIZE) == Action(
        "button", number=4, input="keyboard"
    )
    assert action_for_event(key(pygame.K_4), replace(asking, scale="vn3"), SIZE) == Action(
        "button", number=4, input="keyboard"
    )
    assert action_for_event(key(pygame.K_RETURN), asking, SIZE) == Action("send", input="keyboard")
    assert action_for_event(key(pygame.K_ESCAPE), asking, SIZE) == Action("skip", input="keyboard")
    assert action_for_event(key(pygame.K_RETURN), View(), SIZE) is None
    assert action_for_event(key(pygame.K_l), View(), SIZE) == Action("language", input="keyboard")


def test_taps_drive_the_reasons_page_and_the_language_switch(
    screen: Screen, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    unit = Unit(make_settings(NOWHERE, screen={"enabled": True}), clock)
    reasons = [Reason(code=r.code, label_vi=r.label_vi, label_en=r.label_en) for r in REASONS]
    unit.apply_config(Config(device_id="unit-1", reasons=reasons))
    try:
        screen.handle(tap(language_rect(SIZE).center), unit, unit.view())
        assert unit.view().language == "en"
        screen.handle(tap(level_rects(SIZE, 4)[0].center), unit, unit.view())
        view = unit.view()
        assert (view.page, view.chosen, view.language) == ("reasons", 1, "en")
        clock.advance(2)
        rects = reason_rects(SIZE, len(view.reasons))
        for index in (0, 3, 5, 5):  # the second tap on the last one unselects it
            screen.handle(tap(rects[index].center), unit, unit.view())
        assert unit.view().selected == {REASONS[0].code, REASONS[3].code}
        screen.handle(tap(send_rect(SIZE).center), unit, unit.view())
        assert unit.view().page == "thanks"
        (entry,) = unit.outbox.pending(10)
        assert b'"reasons":["wait_time","paperwork"]' in entry.payload
        assert b'"input":"touch"' in entry.payload
        clock.advance(31)  # the citizen has gone: back to the configured language
        assert (unit.view().page, unit.view().language) == ("idle", "vi")
    finally:
        unit.outbox.close()


def test_taps_on_the_tiles_of_a_unit_with_buttons_reach_every_reason(
    screen: Screen, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    settings = make_settings(NOWHERE, screen={"enabled": True}, buttons={"enabled": True})
    unit = Unit(settings, clock)
    reasons = [Reason(code=r.code, label_vi=r.label_vi, label_en=r.label_en) for r in REASONS]
    unit.apply_config(Config(device_id="unit-1", reasons=reasons))
    tiles = tile_rects(SIZE, 4)
    try:
        screen.handle(tap(level_rects(SIZE, 4)[0].center), unit, unit.view())
        clock.advance(2)
        screen.handle(tap(tiles[3].center), unit, unit.view())  # Xem thêm
        assert unit.view().reasons_page == 2
        screen.handle(tap(tiles[2].center), unit, unit.view())  # the sixth reason
        screen.handle(tap(tiles[3].center), unit, unit.view())  # Gửi
        (entry,) = unit.outbox.pending(10)
        assert b'"reasons":["facilities"]' in entry.payload and b'"input":"touch"' in entry.payload
    finally:
        unit.outbox.close()
