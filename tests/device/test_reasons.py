"""Reasons after a low score, over a real broker: the rating is stored at the press and
published once, with the reasons chosen (or none), under the id and seq of the press."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from device.buttons import Buttons
from device.clock import ManualClock
from device.settings import ButtonsSection, DeviceSettings
from device.unit import Unit
from hailong.protocol import Config, OfficerCard, Rating, Reason
from tests.device.conftest import DEADLINE_S, ServerStub, wait_until

REASONS = [
    Reason(code="wait_time", label_vi="Chờ đợi lâu", label_en="Long wait"),
    Reason(code="attitude", label_vi="Thái độ chưa tốt", label_en="Poor attitude"),
    Reason(code="guidance", label_vi="Hướng dẫn chưa rõ", label_en="Unclear guidance"),
    Reason(code="paperwork", label_vi="Thủ tục phức tạp", label_en="Complex paperwork"),
]
MORE = [
    Reason(code="late_result", label_vi="Trả kết quả trễ hẹn", label_en="Result late"),
    Reason(code="facilities", label_vi="Cơ sở vật chất", label_en="Facilities"),
]
PINS = [17, 27, 22, 23]


def with_reasons(**changes: Any) -> Config:
    return Config.model_validate({"device_id": "unit-1", "reasons": REASONS, **changes})


@pytest.fixture
def settings(broker: Any, make_settings: Callable[..., DeviceSettings]) -> DeviceSettings:
    return make_settings(broker.add_device("unit-1"), screen={"enabled": True})


@pytest.fixture
def unit(settings: DeviceSettings, server: ServerStub, clock: ManualClock) -> Iterator[Unit]:
    u = Unit(settings, clock)
    u.start()
    server.send_config(with_reasons())
    assert wait_until(lambda: u.config is not None and len(u.config.reasons) == 4)
    yield u
    u.stop()


def published(server: ServerStub, rating_id: str) -> Rating:
    assert wait_until(lambda: rating_id in server.ids()), "the rating never reached the server"
    (rating,) = [r for r in server.ratings if r.id == rating_id]
    return rating


def test_chosen_reasons_are_published_with_the_id_and_seq_of_the_press(
    unit: Unit, server: ServerStub, clock: ManualClock
) -> None:
    pressed = unit.press(1, input="touch")
    assert pressed is not None
    assert unit.outbox.pending(10) == [] and unit.outbox.count() == 1  # stored, not sent
    clock.advance(2)
    unit.toggle_reason("paperwork")
    unit.toggle_reason("wait_time")
    unit.send_reasons()
    rating = published(server, pressed.id)
    assert (rating.seq, rating.pressed_at, rating.score, rating.input) == (
        pressed.seq,
        pressed.pressed_at,
        1,
        "touch",
    )
    assert rating.reasons == ["wait_time", "paperwork"]
    assert unit.outbox.wait_empty(DEADLINE_S)
    assert server.ids() == [pressed.id]


def test_skip_publishes_without_reasons(unit: Unit, server: ServerStub, clock: ManualClock) -> None:
    pressed = unit.press(2)
    assert pressed is not None
    clock.advance(2)
    unit.toggle_reason("attitude")
    unit.skip_reasons()
    assert published(server, pressed.id).reasons == []


def test_the_timeout_publishes_what_is_selected(
    unit: Unit, server: ServerStub, clock: ManualClock
) -> None:
    pressed = unit.press(1)
    assert pressed is not None
    clock.advance(2)
    unit.toggle_reason("guidance")
    clock.advance(16)  # nobody looks at the screen: the unit's own timer sends it
    rating = published(server, pressed.id)
    assert (rating.seq, rating.reasons) == (pressed.seq, ["guidance"])


def test_a_rating_left_on_the_reasons_page_by_a_power_cut_is_published_on_restart(
    settings: DeviceSettings, server: ServerStub, clock: ManualClock
) -> None:
    before = Unit(settings, clock)  # never connects: the power goes on the reasons page
    before.apply_config(with_reasons())
    pressed = before.press(1)
    clock.advance(2)
    before.toggle_reason("attitude")
    before.outbox.close()
    after = Unit(settings, clock)
    after.start()
    try:
        assert pressed is not None
        rating = published(server, pressed.id)
        assert (rating.seq, rating.pressed_at, rating.reasons) == (
            pressed.seq,
            pressed.pressed_at,
            [],
        )
        assert after.outbox.wait_empty(DEADLINE_S)
    finally:
        after.stop()


def test_the_four_buttons_reach_every_reason_a_page_at_a_time(
    settings: DeviceSettings, server: ServerStub, clock: ManualClock, mock_pins: MockFactory
) -> None:
    """Buttons 1-3 toggle the three reasons above them, button 4 shows the next page
    (Xem thêm) and, on the last page, sends: button 1 on page 2 is the fourth reason."""
    fitted = settings.model_copy(update={"buttons": ButtonsSection(pins=PINS)})
    unit = Unit(fitted, clock)
    unit.start()
    server.send_config(with_reasons(reasons=[*REASONS, *MORE]))
    buttons = Buttons.from_settings(fitted.buttons, unit.button, clock, pin_factory=mock_pins)

    def push(number: int) -> None:
        pin = mock_pins.pin(PINS[number - 1])
        pin.drive_low()
        pin.drive_high()
        clock.advance(2)

    try:
        assert wait_until(lambda: unit.config is not None and len(unit.config.reasons) == 6)
        push(1)  # Không hài lòng
        (held,) = unit.outbox.held()
        assert [r.code for r in unit.view().reasons] == ["wait_time", "attitude", "guidance"]
        push(3)
        push(2)
        push(2)  # toggled off again
        push(4)  # Xem thêm: the next page, nothing sent
        view = unit.view()
        assert (view.page, view.reasons_page, view.reasons_pages) == ("reasons", 2, 2)
        assert [r.code for r in view.reasons] == ["paperwork", "late_result", "facilities"]
        assert unit.outbox.held() == [held] and held.id not in server.ids()
        push(1)  # the fourth reason
        push(4)  # Gửi
        rating = published(server, held.id)
        assert (rating.score, rating.seq, rating.reasons, rating.input) == (
            1,
            held.seq,
            ["guidance", "paperwork"],
            "button",
        )
        assert unit.outbox.wait_empty(DEADLINE_S)
    finally:
        buttons.close()
        unit.stop()


def test_a_live_config_change_shows_on_the_next_view(unit: Unit, server: ServerStub) -> None:
    lan = OfficerCard(id="cb-001", name="Nguyễn Thị Lan", title="Chuyên viên")
    binh = OfficerCard(id="cb-002", name="Trần Văn Bình", title="Cán bộ một cửa")
    server.send_config(with_reasons(officer=lan))
    assert wait_until(lambda: unit.view().officer_name == "Nguyễn Thị Lan")
    server.send_config(with_reasons(officer=binh, unit_name="UBND phường 1"))
    assert wait_until(lambda: unit.view().officer_name == "Trần Văn Bình")
    view = unit.view()
    assert (view.officer_title, view.unit_name) == ("Cán bộ một cửa", "UBND phường 1")
    server.send_config(with_reasons(officer=None))
    assert wait_until(lambda: unit.view().officer_name is None)
