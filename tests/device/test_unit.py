"""The unit without a network: what a press becomes, cooldown, Config, Service and the view."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from device.clock import ManualClock
from device.outbox import Outbox
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, OfficerCard, Reason, Service
from system.simulator import PlacingGuard

# A port nothing listens on: these units are never started, so they never connect.
NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")
OFFICER = OfficerCard(id="cb-017", name="Nguyễn Thị Hồng Nhung", title="Chuyên viên")


@pytest.fixture
def unit(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock, guard: PlacingGuard
) -> Iterator[Unit]:
    u = Unit(make_settings(NOWHERE), clock, guard)
    yield u
    u.outbox.close()


def config(**changes: object) -> Config:
    fields: dict[str, object] = {"device_id": "unit-1", "counter_id": "Q03", "officer": OFFICER}
    fields.update(changes)
    return Config.model_validate(fields)


def test_a_rating_is_taken_before_any_config(unit: Unit) -> None:
    rating = unit.press(2)
    assert rating is not None
    assert (rating.seq, rating.score, rating.scale) == (1, 2, "vn4")
    assert rating.officer_id is None and rating.counter_id is None
    assert rating.device_id == "unit-1"
    assert rating.pressed_at.isoformat().startswith("2026-11-23T08:00:00")
    assert rating.pressed_at.utcoffset() is not None
    assert unit.outbox.count() == 1


def test_the_rating_is_stored_before_the_link_is_asked_to_send(unit: Unit) -> None:
    seen_at_kick: list[list[str]] = []
    unit.link.kick = lambda from_seq=None: seen_at_kick.append(  # type: ignore[method-assign]
        [e.id for e in unit.outbox.pending(10)]
    )
    rating = unit.press(4, input="touch")
    assert rating is not None and rating.input == "touch"
    assert seen_at_kick == [[rating.id]]


def test_presses_inside_the_cooldown_are_ignored_and_counted(
    unit: Unit, clock: ManualClock, guard: PlacingGuard
) -> None:
    unit.apply_config(config(cooldown_s=5))
    assert unit.press(3) is not None
    clock.advance(4.9)
    assert unit.press(3) is None
    assert unit.press(1) is None
    assert unit.ignored_presses == 2
    with guard.placing():
        assert unit.press(2) is not None  # made-up history is not a double press
    assert unit.status("online").ignored_presses == 2
    clock.advance(5.1)
    assert unit.press(1) is not None
    assert unit.outbox.count() == 3


def test_config_sets_officer_counter_and_scale_of_the_next_rating(
    unit: Unit, clock: ManualClock
) -> None:
    unit.apply_config(config(scale="vn3"))
    rating = unit.press(3)
    assert rating is not None
    assert (rating.officer_id, rating.counter_id, rating.scale) == ("cb-017", "Q03", "vn3")
    clock.advance(10)
    assert unit.press(4) is None  # not a level of vn3
    unit.apply_config(config(officer=None))
    rating = unit.press(1)
    assert rating is not None and rating.officer_id is None


def test_a_config_for_another_device_is_ignored(unit: Unit) -> None:
    unit.apply_config(config(device_id="unit-2"))
    assert unit.config is None


def test_the_last_config_is_remembered_across_restarts(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    first = Unit(make_settings(NOWHERE), clock)
    first.apply_config(config())
    first.outbox.close()
    again = Unit(make_settings(NOWHERE), clock)
    assert again.config == config()
    assert again.view().officer_name == OFFICER.name
    again.outbox.close()


def test_a_service_adds_its_ticket_and_require_service_waits_for_one(
    unit: Unit, clock: ManualClock
) -> None:
    unit.apply_config(config(require_service=True))
    assert unit.view().waiting_for_service
    assert unit.press(4) is None
    assert unit.ignored_presses == 0  # not a cooldown press
    unit.open_service(Service(ticket="HS-0042", officer_id="cb-020", open_s=30))
    assert not unit.view().waiting_for_service
    rating = unit.press(4)
    assert rating is not None
    assert (rating.ticket, rating.officer_id) == ("HS-0042", "cb-020")
    clock.advance(5)
    assert unit.press(4) is None  # one transaction, one rating


def test_an_unsynchronised_clock_is_reported(unit: Unit, clock: ManualClock) -> None:
    clock.is_synced = False
    rating = unit.press(3)
    assert rating is not None and rating.clock_synced is False
    assert unit.status("online").clock_synced is False


def test_the_view_thanks_then_returns_to_idle(unit: Unit, clock: ManualClock) -> None:
    unit.apply_config(config(unit_name="UBND phường Sài Gòn"))
    view = unit.view()
    assert (view.page, view.officer_name, view.counter_id) == ("idle", OFFICER.name, "Q03")
    unit.press(4)
    view = unit.view()
    assert (view.page, view.chosen) == ("thanks", 4)
    clock.advance(3.1)
    assert unit.view().page == "idle"


def test_status_reports_backlog_uptime_and_firmware(unit: Unit, clock: ManualClock) -> None:
    unit.press(3)
    clock.advance(61)
    status = unit.status("online")
    assert (status.state, status.outbox, status.uptime_s) == ("online", 1, 61)
    assert status.firmware
    assert unit.status("offline").state == "offline"


# --- the reasons page, language and the officer's button -------------------------------------

REASONS = [
    Reason(code="wait_time", label_vi="Chờ đợi lâu", label_en="Long wait"),
    Reason(code="attitude", label_vi="Thái độ chưa tốt", label_en="Poor attitude"),
    Reason(code="guidance", label_vi="Hướng dẫn chưa rõ", label_en="Unclear guidance"),
]


@pytest.fixture
def asking_unit(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock, guard: PlacingGuard
) -> Iterator[Unit]:
    """A unit with a screen (so it asks for reasons) and a Config that lists three."""
    u = Unit(make_settings(NOWHERE, screen={"enabled": True}), clock, guard)
    u.apply_config(config(reasons=REASONS))
    yield u
    u.outbox.close()


def test_a_low_score_is_stored_held_while_the_reasons_page_is_open(
    asking_unit: Unit, clock: ManualClock
) -> None:
    rating = asking_unit.press(1)
    assert rating is not None and rating.reasons == []
    view = asking_unit.view()
    assert (view.page, view.chosen, view.reasons_left_s) == ("reasons", 1, 15)
    assert [r.code for r in view.reasons] == ["wait_time", "attitude", "guidance"]
    assert asking_unit.outbox.count() == 1  # durable, and counted in Status
    assert [e.id for e in asking_unit.outbox.held()] == [rating.id]
    assert asking_unit.outbox.pending(10) == []  # not handed to the link yet
    clock.advance(2)
    assert asking_unit.toggle_reason("guidance")
    assert asking_unit.toggle_reason("wait_time")
    assert asking_unit.toggle_reason("attitude")
    assert asking_unit.toggle_reason("attitude")
    assert not asking_unit.toggle_reason("not-offered")
    assert asking_unit.view().selected == {"guidance", "wait_time"}
    sent = asking_unit.send_reasons()
    assert sent is not None
    assert (sent.id, sent.seq, sent.pressed_at, sent.score) == (
        rating.id,
        rating.seq,
        rating.pressed_at,
        1,
    )
    assert sent.reasons == ["wait_time", "guidance"]  # in the order shown
    (entry,) = asking_unit.outbox.pending(10)
    assert entry.payload == sent.to_payload()
    assert asking_unit.outbox.held() == []
    view = asking_unit.view()
    assert (view.page, view.chosen) == ("thanks", 1)
    assert asking_unit.press(4) is None  # a second press of Gửi: the cooldown starts again
    assert asking_unit.ignored_presses == 1


def test_skip_sends_without_reasons(asking_unit: Unit, clock: ManualClock) -> None:
    rating = asking_unit.press(2)  # Bình thường asks too on vn4
    assert rating is not None and asking_unit.view().page == "reasons"
    clock.advance(2)
    asking_unit.toggle_reason("attitude")
    skipped = asking_unit.skip_reasons()
    assert skipped is not None and skipped.id == rating.id and skipped.reasons == []
    assert [e.id for e in asking_unit.outbox.pending(10)] == [rating.id]


def test_the_reasons_page_times_out_and_sends_what_is_selected(
    asking_unit: Unit, clock: ManualClock
) -> None:
    rating = asking_unit.press(1)
    assert rating is not None
    clock.advance(10)
    asking_unit.toggle_reason("attitude")  # a touch: the page waits another 15 s from here
    clock.advance(14)
    assert asking_unit.view().page == "reasons"
    clock.advance(1.5)
    assert asking_unit.view().page == "thanks"
    (entry,) = asking_unit.outbox.pending(10)
    assert entry.id == rating.id and b'"reasons":["attitude"]' in entry.payload


def test_a_double_press_does_not_choose_a_reason(asking_unit: Unit, clock: ManualClock) -> None:
    asking_unit.press(1)
    clock.advance(0.3)
    assert asking_unit.button(1) is None  # the same button again, at once
    assert asking_unit.skip_reasons() is None  # a double tap landing on Bỏ qua
    assert asking_unit.view().page == "reasons" and asking_unit.view().selected == frozenset()
    assert asking_unit.ignored_presses == 2


def test_buttons_choose_reasons_and_the_last_one_sends(
    asking_unit: Unit, clock: ManualClock
) -> None:
    rating = asking_unit.button(1)  # on the idle page a button is a score
    assert rating is not None and asking_unit.view().buttons == 0  # [buttons] off in tests
    clock.advance(2)
    assert asking_unit.button(3, input="keyboard") is None
    assert asking_unit.button(1) is None
    assert asking_unit.view().selected == {"guidance", "wait_time"}
    sent = asking_unit.button(4)
    assert sent is not None and sent.id == rating.id
    assert sent.reasons == ["wait_time", "guidance"]


def test_which_scores_ask_for_reasons(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock, asking_unit: Unit
) -> None:
    for scale, score, asks in [
        ("vn4", 1, True),
        ("vn4", 2, True),
        ("vn4", 3, False),
        ("vn4", 4, False),
        ("vn3", 1, True),
        ("vn3", 2, False),
    ]:
        asking_unit.apply_config(config(reasons=REASONS, scale=scale))
        clock.advance(20)
        asking_unit.view()  # a page left open times out
        clock.advance(5)
        assert asking_unit.press(score) is not None
        assert (asking_unit.view().page == "reasons") is asks, (scale, score)
    clock.advance(20)
    asking_unit.apply_config(config(reasons=[]))  # no reasons in the Config: no page
    clock.advance(5)
    asking_unit.view()
    clock.advance(5)
    assert asking_unit.press(1) is not None and asking_unit.view().page == "thanks"
    assert asking_unit.outbox.held() == []


def test_without_a_screen_there_is_no_reasons_page(unit: Unit) -> None:
    unit.apply_config(config(reasons=REASONS))
    assert unit.press(1) is not None
    assert unit.view().page == "thanks" and len(unit.outbox.pending(10)) == 1


def test_history_and_given_reasons_skip_the_page(
    asking_unit: Unit, clock: ManualClock, guard: PlacingGuard
) -> None:
    with guard.placing():
        made = asking_unit.press(1)
        given = asking_unit.press(1, reasons=["attitude"])
    assert made is not None and given is not None and given.reasons == ["attitude"]
    assert asking_unit.view().page == "thanks" and len(asking_unit.outbox.pending(10)) == 2


def test_a_new_press_sends_the_rating_left_on_the_reasons_page(
    asking_unit: Unit, clock: ManualClock
) -> None:
    first = asking_unit.press(1)
    clock.advance(2)
    asking_unit.toggle_reason("wait_time")
    clock.advance(2)  # past the cooldown, as a caller of press() may be
    second = asking_unit.press(4)
    assert first is not None and second is not None
    entries = asking_unit.outbox.pending(10)
    assert [e.seq for e in entries] == [first.seq, second.seq]
    assert b'"reasons":["wait_time"]' in entries[0].payload


def test_a_rating_left_on_the_reasons_page_by_a_crash_is_sent_without_reasons(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    settings = make_settings(NOWHERE, screen={"enabled": True})
    before = Unit(settings, clock)
    before.apply_config(config(reasons=REASONS))
    rating = before.press(1)
    clock.advance(2)
    before.toggle_reason("attitude")
    before.outbox.close()  # the power goes: nothing is finished
    after = Unit(settings, clock)
    try:
        assert after.outbox.held() == []
        (entry,) = after.outbox.pending(10)
        assert rating is not None and entry.id == rating.id and entry.seq == rating.seq
        assert entry.payload == rating.to_payload()  # as pressed: no reasons
        assert after.view().page == "idle"
        assert after.press(3) is not None and after.outbox.last_seq() == rating.seq + 1
    finally:
        after.outbox.close()


def test_the_language_switch_lasts_until_the_citizen_leaves(
    asking_unit: Unit, clock: ManualClock
) -> None:
    assert asking_unit.view().language == "vi"
    assert asking_unit.toggle_language() == "en"
    clock.advance(20)
    asking_unit.invite()  # a touch keeps the choice
    clock.advance(20)
    assert asking_unit.view().language == "en"
    assert asking_unit.toggle_language() == "vi"
    assert asking_unit.toggle_language() == "en"
    clock.advance(30)
    assert asking_unit.view().language == "vi"


def test_the_officer_button_opens_exactly_one_rating_under_require_service(
    unit: Unit, clock: ManualClock
) -> None:
    unit.apply_config(config(require_service=True, cooldown_s=1))
    assert unit.press(4) is None
    unit.officer_done()
    assert not unit.view().waiting_for_service
    rating = unit.press(4)
    assert rating is not None and rating.ticket is None and rating.officer_id == OFFICER.id
    clock.advance(5)
    assert unit.press(4) is None
    unit.officer_done(open_s=10)
    clock.advance(11)
    assert unit.press(3) is None  # it was open for 10 s only
    assert unit.view().waiting_for_service


def test_a_config_change_shows_on_the_next_view(unit: Unit) -> None:
    unit.apply_config(config())
    assert unit.view().officer_name == OFFICER.name
    other = OfficerCard(id="cb-020", name="Trần Văn Bình", title="Cán bộ một cửa")
    unit.apply_config(config(officer=other, scale="vn3"))
    view = unit.view()
    assert (view.officer_name, view.officer_title, view.scale) == (
        "Trần Văn Bình",
        "Cán bộ một cửa",
        "vn3",
    )
    unit.apply_config(config(officer=None))
    assert unit.view().officer_name is None


def test_stopping_sends_the_rating_on_the_reasons_page(
    make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    settings = make_settings(NOWHERE, screen={"enabled": True})
    unit = Unit(settings, clock)
    unit.apply_config(config(reasons=REASONS))
    rating = unit.press(1)
    clock.advance(2)
    unit.toggle_reason("guidance")
    unit.stop()
    unit.stop()  # safe to repeat
    outbox = Outbox(settings.outbox_path, "unit-1")
    try:
        (entry,) = outbox.pending(10)
        assert rating is not None and entry.id == rating.id
        assert b'"reasons":["guidance"]' in entry.payload
    finally:
        outbox.close()
