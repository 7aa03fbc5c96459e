"""Spoken prompts in Vietnamese, for citizens who cannot read the screen (`[audio] enabled`).

The clips are made once with espeak-ng and shipped in assets/audio/ (its README says how to
make them again), so the unit needs only pygame.mixer. A level's clip plays at once when it is
pressed, interrupting anything; the reasons prompt and the thank-you follow it in turn. Where
the mixer cannot open (no sound card) the unit says so once in the log and carries on silent.
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from device.feedback import Feedback  # noqa: E402
from hailong.protocol import SCALES  # noqa: E402

log = logging.getLogger(__name__)

CLIPS_DIR = Path(__file__).parent / "assets" / "audio"
PROMPT, REASONS, THANKS = "prompt", "reasons", "thanks"


def clip_name(label_vi: str) -> str:
    """A level's clip: its Vietnamese label without tones, "Rất hài lòng" → rat-hai-long."""
    plain = unicodedata.normalize("NFD", label_vi.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "-".join(plain.lower().split())


def clip_names() -> list[str]:
    """Every clip the unit may play."""
    levels = {clip_name(label) for scale in SCALES.values() for label in scale.labels_vi}
    return [PROMPT, *sorted(levels), REASONS, THANKS]


class Audio(Feedback):
    """Plays the clips on one mixer channel; every method returns at once."""

    def __init__(self, volume: float = 0.8, folder: Path = CLIPS_DIR) -> None:
        self._lock = threading.Lock()
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        self._channel: pygame.mixer.Channel | None = None
        self._owns_mixer = pygame.mixer.get_init() is None
        try:
            if self._owns_mixer:
                pygame.mixer.init()
            for name in clip_names():
                sound = pygame.mixer.Sound(str(folder / f"{name}.wav"))
                sound.set_volume(volume)
                self._sounds[name] = sound
            pygame.mixer.set_reserved(1)
            self._channel = pygame.mixer.Channel(0)
        except (pygame.error, FileNotFoundError) as exc:
            log.warning(
                "no sound (%s): the spoken prompts are off and the unit carries on silent; "
                "check the speaker and SDL_AUDIODRIVER, or set [audio] enabled = false",
                exc,
            )
            self._sounds.clear()
            self._channel = None

    @property
    def available(self) -> bool:
        return self._channel is not None

    def playing(self) -> bool:
        with self._lock:
            return self._channel is not None and bool(self._channel.get_busy())

    def say(self, name: str, *, interrupt: bool) -> bool:
        """Play a clip now (`interrupt`) or after the one playing; False when silent."""
        with self._lock:
            sound = self._sounds.get(name)
            if self._channel is None or sound is None:
                return False
            if interrupt or not self._channel.get_busy():
                self._channel.play(sound)
            else:
                self._channel.queue(sound)
            return True

    def invited(self) -> None:
        self.say(PROMPT, interrupt=True)

    def pressed(self, label_vi: str) -> None:
        self.say(clip_name(label_vi), interrupt=True)

    def asked_reasons(self) -> None:
        self.say(REASONS, interrupt=False)

    def thanked(self) -> None:
        self.say(THANKS, interrupt=False)

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.stop()
                self._channel = None
            self._sounds.clear()
        if self._owns_mixer and pygame.mixer.get_init() is not None:
            pygame.mixer.quit()
