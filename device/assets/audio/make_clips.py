#!/usr/bin/env python3
"""Regenerate the unit's spoken prompts: `python3 device/assets/audio/make_clips.py`.

Needs Debian's espeak-ng (`apt-get install -y espeak-ng`) on the machine that makes them, not on
the unit: the WAV files are shipped beside this script. espeak-ng speaks at 22,050 Hz; each clip
is trimmed of silence, resampled to 16 kHz mono (enough for speech, a third smaller), peak
normalised and faded in and out, with the standard library only.
"""

from __future__ import annotations

import array
import math
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
VOICE = "vi"
SPEED_WPM = 130  # a little slower than espeak-ng's 175, for elderly listeners
RATE = 16_000
TAPS = 8  # each side of the resampling filter
PEAK = 0.89  # about -1 dBFS
MARGIN_S = 0.04
FADE_S = 0.01

# The file names are those `device.audio` plays; levels are named by their Vietnamese label.
CLIPS: dict[str, str] = {
    "prompt": "Xin vui lòng đánh giá mức độ hài lòng",
    "khong-hai-long": "Không hài lòng",
    "binh-thuong": "Bình thường",
    "hai-long": "Hài lòng",
    "rat-hai-long": "Rất hài lòng",
    "reasons": "Xin quý khách chọn điều chúng tôi cần cải thiện",
    "thanks": "Cảm ơn quý khách",
}


def speak(text: str) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(
            ["espeak-ng", "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(path), text], check=True
        )
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise SystemExit("espeak-ng did not write 16-bit mono WAV")
            rate = w.getframerate()
            samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return [s / 32768 for s in samples], rate


def trim(x: list[float], rate: int) -> list[float]:
    loud = max(abs(s) for s in x) * 0.02
    first = next(i for i, s in enumerate(x) if abs(s) > loud)
    last = len(x) - next(i for i, s in enumerate(reversed(x)) if abs(s) > loud)
    margin = round(MARGIN_S * rate)
    return x[max(0, first - margin) : last + margin]


def resample(x: list[float], rate: int) -> list[float]:
    """Windowed-sinc resampling, low-passed at the new Nyquist frequency."""
    step, cut = rate / RATE, min(1.0, RATE / rate)
    out = []
    for n in range(int(len(x) / step)):
        t = n * step
        base = math.floor(t)
        total = 0.0
        for k in range(base - TAPS + 1, base + TAPS + 1):
            if 0 <= k < len(x):
                d = t - k
                sinc = 1.0 if d == 0 else math.sin(math.pi * cut * d) / (math.pi * cut * d)
                window = 0.5 + 0.5 * math.cos(math.pi * d / TAPS)
                total += x[k] * cut * sinc * window
        out.append(total)
    return out


def finish(x: list[float]) -> array.array[int]:
    gain = PEAK / max(abs(s) for s in x)
    fade = round(FADE_S * RATE)
    out = array.array("h")
    for i, s in enumerate(x):
        ramp = min(1.0, i / fade, (len(x) - 1 - i) / fade)
        out.append(max(-32768, min(32767, round(s * gain * ramp * 32767))))
    if sys.byteorder == "big":
        out.byteswap()
    return out


def main() -> int:
    for name, text in CLIPS.items():
        samples, rate = speak(text)
        pcm = finish(resample(trim(samples, rate), rate))
        path = HERE / f"{name}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
        print(f"{path.name}: {len(pcm) / RATE:.1f} s, {path.stat().st_size // 1024} KiB  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
