"""Every reason in reach of a button: on a unit with N buttons the reasons page shows pages of
N-1 reasons, the last button turns the page and, on the last page, sends; the rating is in the
outbox from the press on, whatever happens on the page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.protocol import Config
from server.reporting.reason_reach import reason_reach
from server.storage.reasons import REASONS
from system.simulator import PlacingGuard
from tests.device.test_unit import NOWHERE

SIX = list(REASONS)  # the six every unit is offered
CODES = [r.code for r in SIX]


@pytest.fixture
def make_unit(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock, guard: PlacingGuard
) -> Iterator[Callable[..., Unit]]:
    """A unit with a screen and `pins` buttons, offered the six reasons."""
    made: list[Unit] = []

    def make(pins: int = 4, scale: str = "vn4") -> Unit:
        settings = make_settings(
            NOWHERE,
            screen={"enabled": True},
            buttons={"enabled": True, "pins": [17, 27, 22, 23][:pins]},
        )
        unit = Unit(settings, clock, guard)
        unit.apply_config(Config(device_id="unit-1", reasons=SIX, scale=scale))  # type: ignore[arg-type]
        made.append(unit)
        return unit

    yield make
    for unit in made:
        unit.outbox.close()


def shown(unit: Unit) -> tuple[list[str], int, int]:
    view = unit.view()
    return [r.code for r in view.reasons], view.reasons_page, view.reasons_pages


def test_button_four_shows_the_next_page_and_button_one_there_chooses_the_fourth_reason(
    make_unit: Callable[..., Unit], clock: ManualClock
) -> None:
    unit = make_unit()
    rating = unit.button(1)  # Không hài lòng
    assert rating is not None and [e.id for e in unit.outbox.held()] == [rating.id]
    assert shown(unit) == (CODES[:3], 1, 2) and unit.view().more_reasons
    clock.advance(2)
    assert unit.button(2) is None  # Thái độ chưa tốt, above button 2
    assert unit.button(4) is None  # Xem thêm: nothing is sent
    assert shown(unit) == (CODES[3:], 2, 2) and not unit.view().more_reasons
    assert unit.outbox.pending(10) == [] and unit.view().page == "reasons"
    assert unit.button(1) is None  # the fourth reason, now above button 1
    assert unit.view().selected == {"attitude", "paperwork"}  # chosen on both pages
    sent = unit.button(4)  # Gửi on the last page
    assert sent is not None and sent.id == rating.id and sent.input == "button"
    assert sent.reasons == ["attitude", "paperwork"]
    (entry,) = unit.outbox.pending(10)
    assert entry.payload == sent.to_payload()
    assert unit.view().page == "thanks"


def test_the_last_page_is_not_passed_and_three_buttons_give_pages_of_two(
    make_unit: Callable[..., Unit], clock: ManualClock
) -> None:
    unit = make_unit(pins=3, scale="vn3")
    assert unit.button(1) is not None
    clock.advance(2)
    assert shown(unit) == (CODES[:2], 1, 3)
    unit.button(3)
    unit.button(3)
    assert shown(unit) == (CODES[4:], 3, 3)
    assert unit.button(2) is None  # Cơ sở vật chất
    assert not unit.next_reasons()  # a tap of the last tile on the last page does not turn it
    sent = unit.button(3)
    assert sent is not None and sent.reasons == ["facilities"]


def test_turning_the_page_keeps_the_page_open_and_its_timeout_sends_what_was_chosen(
    make_unit: Callable[..., Unit], clock: ManualClock
) -> None:
    unit = make_unit()
    rating = unit.button(2)  # Bình thường asks too on vn4
    assert rating is not None
    clock.advance(10)
    assert unit.next_reasons()  # a tap on Xem thêm
    clock.advance(10)  # 20 s after the score, 10 after the last touch: still waiting
    assert shown(unit) == (CODES[3:], 2, 2)
    unit.toggle_reason("late_result")
    clock.advance(15.5)
    assert unit.view().page == "thanks"
    (entry,) = unit.outbox.pending(10)
    assert entry.id == rating.id and b'"reasons":["late_result"]' in entry.payload


def test_a_double_press_does_not_turn_the_page(
    make_unit: Callable[..., Unit], clock: ManualClock
) -> None:
    unit = make_unit()
    unit.button(1)
    clock.advance(0.3)
    assert unit.button(4) is None and not unit.next_reasons()
    assert shown(unit) == (CODES[:3], 1, 2)
    assert unit.ignored_presses == 2


def test_without_buttons_the_screen_shows_every_reason_on_one_page(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    unit = Unit(make_settings(NOWHERE, screen={"enabled": True}), clock)
    try:
        unit.apply_config(Config(device_id="unit-1", reasons=SIX))
        unit.press(1, input="touch")
        assert shown(unit) == (CODES, 1, 1) and unit.view().buttons == 0
    finally:
        unit.outbox.close()


@pytest.mark.parametrize("pins", [3, 4])
def test_the_buttons_reach_what_reports_say_they_reach(
    make_unit: Callable[..., Unit], clock: ManualClock, pins: int
) -> None:
    """Buttons only, page after page: every reason of the report's `reason_reach` is chosen."""
    unit = make_unit(pins=pins, scale="vn4" if pins == 4 else "vn3")
    unit.button(1)
    clock.advance(2)
    for _ in range(unit.view().reasons_pages):
        for number in range(1, len(unit.view().reasons) + 1):
            unit.button(number)
        unit.button(pins)  # Xem thêm, and on the last page Gửi
    (entry,) = unit.outbox.pending(10)
    assert json.loads(entry.payload)["reasons"] == reason_reach()["by_input"]["button"]
