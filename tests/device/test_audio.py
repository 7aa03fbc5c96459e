"""Spoken prompts: every clip is shipped, they play under SDL's dummy audio driver, and a unit
without sound carries on silent."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from device.audio import CLIPS_DIR, Audio, clip_name, clip_names
from device.clock import ManualClock
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, Reason
from tests.device.conftest import wait_until

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")


@pytest.fixture
def audio() -> Iterator[Audio]:
    a = Audio()
    yield a
    a.close()


def test_every_clip_is_shipped_small_and_in_the_regeneration_script() -> None:
    script = (CLIPS_DIR / "make_clips.py").read_text(encoding="utf-8")
    for name in clip_names():
        path = CLIPS_DIR / f"{name}.wav"
        with wave.open(str(path), "rb") as clip:
            assert (clip.getnchannels(), clip.getsampwidth()) == (1, 2)
            assert 0.3 < clip.getnframes() / clip.getframerate() < 6
        assert path.stat().st_size < 200_000
        assert f'"{name}"' in script
    assert "make_clips.py" in (CLIPS_DIR / "README.md").read_text(encoding="utf-8")


def test_level_clips_are_named_by_their_label() -> None:
    assert clip_name("Rất hài lòng") == "rat-hai-long"
    assert clip_name("Không hài lòng") == "khong-hai-long"
    assert clip_name("Bình thường") == "binh-thuong"
    assert clip_name("Đúng hẹn") == "dung-hen"


def test_the_clips_play_under_the_dummy_driver(audio: Audio) -> None:
    assert os.environ["SDL_AUDIODRIVER"] == "dummy"
    assert audio.available
    assert audio.say("prompt", interrupt=True)
    assert wait_until(audio.playing, timeout=10)
    assert audio.say("thanks", interrupt=False)  # queued after the prompt
    assert not audio.say("no-such-clip", interrupt=True)


def test_a_rating_speaks_its_moments(
    audio: Audio, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    said: list[str] = []
    say = audio.say

    def record(name: str, *, interrupt: bool) -> bool:
        said.append(name)
        return say(name, interrupt=interrupt)

    audio.say = record  # type: ignore[method-assign]
    unit = Unit(make_settings(NOWHERE, screen={"enabled": True}), clock)
    unit.add_feedback(audio)
    reasons = [Reason(code="wait_time", label_vi="Chờ đợi lâu", label_en="Long wait")]
    try:
        unit.apply_config(Config(device_id="unit-1", reasons=reasons))
        unit.invite()
        unit.press(1)
        clock.advance(2)
        unit.send_reasons()
        clock.advance(10)
        unit.press(4)
        assert said == ["prompt", "khong-hai-long", "reasons", "thanks", "rat-hai-long", "thanks"]
    finally:
        unit.outbox.close()


def test_missing_clips_leave_the_unit_silent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    silent = Audio(folder=tmp_path)
    try:
        assert not silent.available
        assert not silent.say("prompt", interrupt=True)
        silent.invited()
        silent.thanked()
        assert caplog.text.count("no sound") == 1
    finally:
        silent.close()


def test_without_a_sound_card_the_unit_logs_once_and_carries_on() -> None:
    program = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stdout)\n"
        "from device.audio import Audio\n"
        "a = Audio()\n"
        "a.invited(); a.pressed('Hài lòng'); a.thanked()\n"
        "print('available', a.available)\n"
    )
    env = {**os.environ, "SDL_AUDIODRIVER": "no-such-driver"}
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert "available False" in done.stdout
    assert done.stdout.count("no sound") == 1
