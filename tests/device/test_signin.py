"""The officer's sign-in at the unit: the PIN pad on the touchscreen, the contract's SignIn it
makes, kept on disk until an Ack names it (across a restart too), the answer shown, and the
unit's own lock after five refusals; against a real Mosquitto where the link is involved."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as paho
import pygame
import pytest

from device.clock import ManualClock
from device.drawing import Fonts
from device.layout import signin_rect
from device.pages import render
from device.pin_pad import KEYS, cancel_rect, key_rects, out_rect
from device.screen import Action, Screen, action_for_event
from device.settings import DeviceSettings, ScreenSection
from device.signin import (
    ANSWER_S,
    CHECK_TIMEOUT_S,
    LOCAL_FAILURES,
    LOCAL_LOCK_S,
    PAD_TIMEOUT_S,
    REFUSED_EN,
    REFUSED_VI,
    refusal_words,
)
from device.signin_outbox import SignInOutbox
from device.unit import Unit
from hailong.mqtt import MqttTarget, new_client
from hailong.protocol import (
    Ack,
    AckRejection,
    Config,
    OfficerCard,
    SignIn,
    decode_signin,
    parse_topic,
    topic,
    topic_filter,
)
from tests.device.conftest import DEADLINE_S, ServerStub, wait_until

SIZE = (800, 480)
PIN = "480213"


def pin_config(device_id: str = "unit-1", signin: str = "pin", **more: Any) -> Config:
    return Config.model_validate(
        {"device_id": device_id, "counter_id": "Q03", "signin": signin, **more}
    )


def tap(screen: Screen, unit: Unit, x: float, y: float) -> None:
    """One tap as a touch panel delivers it: the finger event and its mouse twin."""
    for event in (
        pygame.event.Event(pygame.FINGERDOWN, x=x / SIZE[0], y=y / SIZE[1], finger_id=0),
        pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=True),
    ):
        screen.handle(event, unit, unit.view())


def type_pin(screen: Screen, unit: Unit, pin: str) -> None:
    rects = dict(zip(KEYS, key_rects(SIZE), strict=True))
    for digit in pin:
        tap(screen, unit, *rects[digit].center)


@pytest.fixture
def screen() -> Iterator[Screen]:
    s = Screen(ScreenSection(width=SIZE[0], height=SIZE[1]))
    yield s
    pygame.display.quit()


@pytest.fixture
def unit(offline_unit: Unit) -> Unit:
    offline_unit.apply_config(pin_config())
    return offline_unit


def stored(unit: Unit) -> list[SignIn]:
    return [decode_signin(payload) for _, payload in unit.signins.pending()]


def test_the_pad_is_offered_only_when_the_config_takes_a_pin(unit: Unit) -> None:
    assert unit.view().signin_offered
    at = signin_rect(SIZE).center
    event = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=at, button=1)
    assert action_for_event(event, unit.view(), SIZE) == Action("signin")
    for signin in ("none", "card"):
        unit.apply_config(pin_config(signin=signin))
        assert not unit.view().signin_offered
        assert action_for_event(event, unit.view(), SIZE) == Action("invite")
        assert not unit.open_signin()
        assert unit.view().page == "idle"


def test_a_pin_typed_on_the_pad_becomes_a_contract_signin_stored_before_it_is_sent(
    screen: Screen, unit: Unit, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tap(screen, unit, *signin_rect(SIZE).center)
    assert unit.view().page == "signin"
    type_pin(screen, unit, PIN)
    assert unit.view().pad.digits == len(PIN)
    tap(screen, unit, *key_rects(SIZE)[KEYS.index("delete")].center)
    type_pin(screen, unit, "3")
    tap(screen, unit, *key_rects(SIZE)[KEYS.index("ok")].center)

    [signin] = stored(unit)
    assert (signin.action, signin.credential.kind, signin.credential.value) == ("in", "pin", PIN)
    assert signin.at == clock.now()
    assert (signin.boot_id, signin.mono_ms) == (unit.boot_id, int(clock.monotonic() * 1000))
    view = unit.view()
    assert (view.page, view.pad.phase, view.pad.message) == (
        "signin",
        "checking",
        ("Đang kiểm tra…", "Checking…"),
    )
    surface = pygame.Surface(SIZE)
    render(surface, view, Fonts())  # the checking page draws
    assert PIN not in caplog.text  # a PIN never goes to the log


def test_keys_work_the_pad_and_a_short_pin_is_not_sent(screen: Screen, unit: Unit) -> None:
    unit.open_signin()
    for key in (pygame.K_1, pygame.K_KP2, pygame.K_3, pygame.K_RETURN):
        screen.handle(pygame.event.Event(pygame.KEYDOWN, key=key), unit, unit.view())
    view = unit.view()
    assert (view.pad.phase, view.pad.digits) == ("entering", 3)
    assert view.pad.message is not None and "4 đến 8" in view.pad.message[0]
    assert stored(unit) == []
    screen.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE), unit, unit.view())
    assert unit.view().page == "idle"


def test_sign_out_is_offered_when_an_officer_is_shown(screen: Screen, unit: Unit) -> None:
    unit.open_signin()
    assert not unit.view().pad.can_sign_out
    unit.pad_key("cancel")
    officer = OfficerCard(id="off-1", name="Nguyễn Thị Hồng Nhung")
    unit.apply_config(pin_config(officer=officer.model_dump()))
    unit.open_signin()
    assert unit.view().pad.can_sign_out
    type_pin(screen, unit, "1234")
    tap(screen, unit, *out_rect(SIZE).center)
    assert [s.action for s in stored(unit)] == ["out"]


def test_an_untouched_pad_goes_back_to_idle(unit: Unit, clock: ManualClock) -> None:
    unit.open_signin()
    unit.pad_key("digit", 5)
    clock.advance(PAD_TIMEOUT_S - 1)
    unit.pad_key("digit", 6)  # a touch: the pad waits again
    clock.advance(PAD_TIMEOUT_S - 1)
    assert unit.view().pad.digits == 2
    clock.advance(2)
    assert unit.view().page == "idle"
    unit.open_signin()
    assert unit.view().pad.digits == 0  # what was typed is gone


def test_a_refusal_shows_the_servers_reason_then_idle(unit: Unit, clock: ManualClock) -> None:
    unit.open_signin()
    for digit in "1234":
        unit.pad_key("digit", int(digit))
    signin = unit.pad_key("ok")
    assert signin is not None
    unit.signin_answered(signin.id, False, "Sai mã PIN. Vui lòng nhập lại.")
    view = unit.view()
    assert (view.page, view.pad.phase) == ("signin", "answer")
    assert view.pad.message == ("Sai mã PIN. Vui lòng nhập lại.", "Sign-in refused")
    render(pygame.Surface(SIZE), view, Fonts())
    event = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=key_rects(SIZE)[0].center, button=1)
    assert action_for_event(event, view, SIZE) is None  # the keys are gone while it answers
    event = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=cancel_rect(SIZE).center, button=1)
    assert action_for_event(event, view, SIZE) == Action("pad", 0, "cancel")
    clock.advance(ANSWER_S)
    assert unit.view().page == "idle"


def test_an_acceptance_closes_the_pad(unit: Unit) -> None:
    unit.open_signin()
    for digit in "9876":
        unit.pad_key("digit", int(digit))
    signin = unit.pad_key("ok")
    assert signin is not None
    unit.signin_answered(signin.id, True, None)
    assert unit.view().page == "idle"


def test_no_answer_in_time_says_the_request_is_kept(unit: Unit, clock: ManualClock) -> None:
    unit.open_signin()
    for digit in "9876":
        unit.pad_key("digit", int(digit))
    unit.pad_key("ok")
    clock.advance(CHECK_TIMEOUT_S)
    view = unit.view()
    assert view.pad.phase == "answer" and view.pad.message is not None
    assert "đã được lưu" in view.pad.message[0]
    assert len(stored(unit)) == 1  # still to be sent
    clock.advance(ANSWER_S)
    assert unit.view().page == "idle"


def test_five_refusals_in_a_row_lock_the_pad_on_this_unit_for_a_minute(
    unit: Unit, clock: ManualClock
) -> None:
    def refused_attempt() -> None:
        assert unit.open_signin()
        assert unit.view().pad.phase == "entering"
        for digit in "0000":
            unit.pad_key("digit", int(digit))
        signin = unit.pad_key("ok")
        assert signin is not None
        unit.signin_answered(signin.id, False, "Sai mã PIN")
        clock.advance(ANSWER_S)

    for _ in range(LOCAL_FAILURES - 1):
        refused_attempt()
    unit.open_signin()
    unit.pad_key("cancel")
    refused_attempt()
    unit.open_signin()
    view = unit.view()
    assert (view.pad.phase, view.pad.digits) == ("answer", 0)
    assert view.pad.message is not None and "Tạm khóa" in view.pad.message[0]
    assert unit.pad_key("ok") is None
    clock.advance(LOCAL_LOCK_S)
    unit.open_signin()
    assert unit.view().pad.phase == "entering"


def test_a_success_resets_the_count_of_refusals(unit: Unit, clock: ManualClock) -> None:
    for accepted in [False] * (LOCAL_FAILURES - 1) + [True, False]:
        unit.open_signin()
        for digit in "1111":
            unit.pad_key("digit", int(digit))
        signin = unit.pad_key("ok")
        assert signin is not None
        unit.signin_answered(signin.id, accepted, None if accepted else "Sai mã PIN")
        clock.advance(ANSWER_S)
    unit.open_signin()
    assert unit.view().pad.phase == "entering"


# --- over the broker ---------------------------------------------------------------------------


class SignInServer:
    """The server's side of the signin topic: hears SignIns and answers them with Acks."""

    def __init__(self, target: MqttTarget, answer: Callable[[SignIn], Ack | None]) -> None:
        self.heard: list[SignIn] = []
        self._answer = answer
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._client = new_client("test-signin-server", target)
        self._client.on_connect = lambda c, *_: c.subscribe(topic_filter("signin"), 1)
        self._client.on_subscribe = lambda *_: self._ready.set()
        self._client.on_message = self._on_message
        self._client.connect_async(target.host, target.port)
        self._client.loop_start()
        assert self._ready.wait(DEADLINE_S)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        device_id, _ = parse_topic(msg.topic)
        signin = decode_signin(bytes(msg.payload))
        with self._lock:
            self.heard.append(signin)
        ack = self._answer(signin)
        if ack is not None:
            self._client.publish(topic(device_id, "acks"), ack.to_payload(), qos=1)

    def ids(self) -> list[str]:
        with self._lock:
            return [s.id for s in self.heard]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def test_a_signin_is_kept_across_a_restart_until_acked_then_never_sent_again(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
) -> None:
    settings = make_settings(broker.add_device("unit-1"))
    answering = threading.Event()
    hub = SignInServer(
        broker.server_target,
        lambda s: Ack(accepted=[s.id]) if answering.is_set() else None,
    )
    try:
        first = Unit(settings, clock)
        first.apply_config(pin_config())
        first.start()
        first.open_signin()
        for digit in PIN:
            first.pad_key("digit", int(digit))
        signin = first.pad_key("ok")
        assert signin is not None
        assert wait_until(lambda: signin.id in hub.ids())  # sent, not answered
        first.stop()
        kept = SignInOutbox(settings.outbox_path)
        assert [id for id, _ in kept.pending()] == [signin.id]  # on disk across the stop
        kept.close()

        answering.set()
        second = Unit(settings, clock)
        second.start()
        try:
            assert wait_until(lambda: second.signins.count() == 0)
            heard = [s for s in hub.heard if s.id == signin.id]
            assert heard[-1] == signin  # the same SignIn, unchanged
            rating = second.press(4)  # sent after any SignIn the restart would resend
            assert rating is not None
            assert wait_until(lambda: rating.id in server.ids())
        finally:
            second.stop()
        third = Unit(settings, clock)
        third.start()
        try:
            rating = third.press(3)
            assert rating is not None
            assert wait_until(lambda: rating.id in server.ids())
        finally:
            third.stop()
        assert hub.ids().count(signin.id) == len(heard)  # nothing after its Ack
    finally:
        hub.close()


def test_over_the_broker_an_acceptance_shows_the_new_officer_and_a_refusal_the_reason(
    broker: Any,
    server: ServerStub,
    make_settings: Callable[..., DeviceSettings],
    running_units: Callable[[Unit], Unit],
    clock: ManualClock,
) -> None:
    officer = OfficerCard(id="off-7", name="Trần Văn Bình")

    def answer(signin: SignIn) -> Ack:
        if signin.credential.value != PIN:
            return Ack(rejected=[AckRejection(id=signin.id, error="Sai mã PIN")])
        server.send_config(pin_config(officer=officer.model_dump()))
        return Ack(accepted=[signin.id])

    hub = SignInServer(broker.server_target, answer)
    try:
        unit = running_units(Unit(make_settings(broker.add_device("unit-1")), clock))
        server.send_config(pin_config())
        assert wait_until(lambda: unit.config is not None and unit.config.signin == "pin")
        unit.open_signin()
        for digit in "1111":
            unit.pad_key("digit", int(digit))
        unit.pad_key("ok")
        assert wait_until(lambda: unit.view().pad.phase == "answer")
        assert unit.view().pad.message == ("Sai mã PIN", "Sign-in refused")
        assert unit.signins.count() == 0
        clock.advance(ANSWER_S)
        unit.open_signin()
        for digit in PIN:
            unit.pad_key("digit", int(digit))
        unit.pad_key("ok")
        assert wait_until(lambda: unit.view().officer_name == "Trần Văn Bình")
        assert unit.view().page == "idle"
        assert unit.outbox.count() == 0  # the SignIn's Ack was not taken for a rating's
    finally:
        hub.close()


def test_the_servers_refusal_shows_its_vietnamese_and_english_on_two_lines() -> None:
    assert refusal_words("Sai mã PIN (còn 3 lần); wrong PIN (3 tries left)") == (
        "Sai mã PIN (còn 3 lần)",
        "wrong PIN (3 tries left)",
    )
    assert refusal_words("Mã không hợp lệ") == ("Mã không hợp lệ", REFUSED_EN)
    assert refusal_words(None) == (REFUSED_VI, REFUSED_EN)
