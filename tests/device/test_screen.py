"""The screen: every page renders, and one tap, click or key is exactly one rating."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from device.clock import ManualClock
from device.screen import Fonts, Screen, level_rects, render, score_for_event
from device.screenshots import write_screenshots
from device.settings import DeviceSettings, ScreenSection
from device.unit import Unit
from device.view import View
from hailong.mqtt import MqttTarget
from tests.device.conftest import wait_until

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
SIZE = (800, 480)
WITH_OFFICER = View(officer_name="Nguyễn Thị Hồng Nhung", officer_title="Chuyên viên")

VIEWS = [
    replace(WITH_OFFICER, counter_id="Q03", unit_name="UBND phường Bến Nghé", online=True),
    View(counter_id="Q03"),
    replace(WITH_OFFICER, scale="vn3", language="en"),
    View(waiting_for_service=True),
    *[View(page="thanks", chosen=score) for score in (1, 2, 3, 4)],
    View(page="thanks", chosen=3, scale="vn3", language="en"),
    View(page="thanks"),
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


@pytest.mark.parametrize("size", [(800, 480), (1024, 600), (480, 320), (1920, 1080)])
@pytest.mark.parametrize("view", VIEWS)
def test_every_screen_renders(view: View, size: tuple[int, int]) -> None:
    surface = pygame.Surface(size)
    render(surface, view, Fonts())
    colours = {
        surface.get_at((x, y))[:3] for x in range(0, size[0], 23) for y in range(0, size[1], 17)
    }
    assert len(colours) > 3  # something was drawn, not just a background


def test_the_screenshots_are_written(tmp_path: Path) -> None:
    written = write_screenshots(tmp_path)
    assert [p.name for p in written] == ["unit-idle.png", "unit-no-officer.png", "unit-thanks.png"]
    assert all(pygame.image.load(str(p)).get_size() == SIZE for p in written)


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
