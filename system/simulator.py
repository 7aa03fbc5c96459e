"""Counter units without hardware, for the demo fleet and the tests.

A SimulatedUnit is the real Unit, Outbox and Link (so what it sends is exactly what a unit in
the field sends) with no screen and no GPIO. Each costs three threads (paho's, the link's and
the unit's timer) and one SQLite file, so a process runs a fleet of dozens. History made with
`press(at=...)` is dated as the caller says: such presses carry no boot id, so the server has
no Status of theirs to date them by. The unit knows nothing of this: the simulator gives it a
ManualClock it sets to each moment, and a guard that lets the presses it places through.

After a low score the simulated citizen picks reasons as citizens do (`choose_reasons`), unless
the caller gives them, so the demo's and the fleet's reports have reasons to show.
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
import tomllib
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from device.clock import Clock, ManualClock
from device.guard import CitizenGuard, Ignore, Press, Take
from device.reasons import is_low
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.errors import HailongError
from hailong.protocol import DEFAULT_SCALE, Config, Rating, Service
from server.storage.reasons import REASONS

# How often each reason is picked, relative to the others: waiting and paperwork are what
# one-stop sections hear most, then late results and unclear guidance; attitude and the
# premises less often. A reason a Config offers that is not here weighs 1.
REASON_WEIGHTS: dict[str, float] = {
    "wait_time": 34,
    "paperwork": 22,
    "late_result": 15,
    "guidance": 13,
    "attitude": 10,
    "facilities": 6,
}
# The chance a citizen gives any reason after the worst score, and after the other low ones
# (Bình thường on vn4): many press Gửi with nothing chosen, or walk away.
GIVES_REASONS = {"worst": 0.75, "low": 0.45}
HOW_MANY, HOW_OFTEN = (1, 2, 3), (0.65, 0.27, 0.08)  # reasons given, and how often
USUAL = tuple(r.code for r in REASONS)  # what every Config offers


class PressIgnored(HailongError):
    """The unit did not take the press (cooldown, off the scale, or no open transaction)."""


class PlacingGuard:
    """A counter's guard, except for the presses the simulator places: those are taken
    whatever the cooldown or transaction, ask for no reasons, and (history) are dated as the
    clock is set, tied to no boot."""

    def __init__(self) -> None:
        self._citizen = CitizenGuard()
        self._placing = threading.local()

    @contextmanager
    def placing(self, history: bool = False) -> Iterator[None]:
        """The presses this thread makes inside the block are placed, not a citizen's."""
        self._placing.take = Take(ask_reasons=False, of_this_boot=not history)
        try:
            yield
        finally:
            self._placing.take = None

    def judge(self, press: Press) -> Take | Ignore:
        placed: Take | None = getattr(self._placing, "take", None)
        return placed or self._citizen.judge(press)


def choose_reasons(
    rng: random.Random,
    score: int,
    scale: str = DEFAULT_SCALE,
    offered: Sequence[str] = USUAL,
) -> list[str]:
    """The reasons a citizen gives after `score`, from those `offered`, in their order: none
    after a satisfied score; after a low one, often none, else one to three, by REASON_WEIGHTS."""
    if not offered or not is_low(scale, score):
        return []
    if rng.random() >= GIVES_REASONS["worst" if score == 1 else "low"]:
        return []
    wanted = min(rng.choices(HOW_MANY, HOW_OFTEN)[0], len(offered))
    left = list(offered)
    picked: set[str] = set()
    for _ in range(wanted):
        code = rng.choices(left, [REASON_WEIGHTS.get(c, 1.0) for c in left])[0]
        left.remove(code)
        picked.add(code)
    return [code for code in offered if code in picked]


class SimulatedUnit:
    def __init__(
        self, settings: DeviceSettings, clock: Clock, rng: random.Random | None = None
    ) -> None:
        """`rng` picks the citizens' reasons (by default seeded with the device id, so a
        demo's history is the same each time)."""
        self.settings = settings
        self.clock = clock
        self.guard = PlacingGuard()
        self.unit = Unit(settings, clock, self.guard)
        self.rng = rng or random.Random(settings.device.id)

    @property
    def device_id(self) -> str:
        return self.unit.device_id

    @property
    def config(self) -> Config | None:
        return self.unit.config

    def start(self) -> None:
        self.unit.start()

    def stop(self) -> None:
        self.unit.stop()

    @property
    def connected(self) -> bool:
        return self.unit.link.connected

    def press(
        self,
        score: int,
        at: datetime | None = None,
        reasons: Sequence[str] | None = None,
        *,
        live: bool = True,
    ) -> Rating:
        """Press a button; with `at`, the unit's ManualClock is set to it first.

        `reasons` None: after a low score the citizen picks some of the Config's reasons (the
        usual list before the first Config) with `choose_reasons`; `()` gives none.

        A press with `at` makes history, in any order of days, and is taken whatever the
        cooldown; a press without it is a live press, ignored inside the Config's cooldown like
        a citizen's double press. `live=False` makes a press at a moment the caller picks (a
        load generator) skip the cooldown too. Raises PressIgnored when the unit does not take
        the press.
        """
        if at is not None:
            if not isinstance(self.clock, ManualClock):
                raise TypeError("press(at=...) needs the unit to run on a ManualClock")
            self.clock.set(at)
        if reasons is None:
            config = self.unit.config
            offered = [r.code for r in config.reasons] if config else USUAL
            scale = config.scale if config else DEFAULT_SCALE
            reasons = choose_reasons(self.rng, score, scale, offered)
        placed = at is not None or not live
        with self.guard.placing(history=at is not None) if placed else nullcontext():
            rating = self.unit.press(score, "button", reasons)
        if rating is None:
            raise PressIgnored(f"{self.device_id} ignored the press of {score} (see the log)")
        return rating

    def open_service(self, service: Service, at: datetime) -> None:
        """The unit is told of a called ticket at `at` (on its ManualClock), as the broker
        would tell it; the next press then carries the ticket."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("open_service(at=...) needs the unit to run on a ManualClock")
        self.clock.set(at)
        self.unit.open_service(service)

    def unacked(self) -> int:
        """Ratings stored and not yet acknowledged by the server."""
        return self.unit.outbox.count()

    def wait_drained(self, timeout: float) -> bool:
        """Wait until the server has acknowledged every rating; False on timeout."""
        return self.unit.outbox.wait_empty(timeout)


SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
)
MIDDLE = ("Thị", "Văn", "Minh", "Đức", "Thu", "Quốc", "Ngọc", "Hữu", "Thanh")
GIVEN = (
    "An",
    "Bích",
    "Bình",
    "Cường",
    "Dung",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hằng",
    "Hùng",
    "Hương",
    "Khánh",
    "Kiên",
    "Lan",
    "Linh",
    "Loan",
    "Long",
    "Mai",
    "Nam",
    "Nhung",
    "Oanh",
    "Phúc",
    "Quang",
    "Sơn",
    "Thảo",
    "Thắng",
    "Trang",
    "Tuấn",
    "Yến",
)


def officer_name(rng: random.Random) -> str:
    """A Vietnamese name for a simulated officer (family, middle and given name)."""
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def headless_settings(
    device_id: str, password: str, data_dir: Path, host: str, port: int
) -> DeviceSettings:
    """A simulated unit's settings: no screen, no GPIO, its outbox in `data_dir`."""
    return DeviceSettings.from_mapping(
        {
            "device": {"id": device_id, "data_dir": str(data_dir)},
            "mqtt": {"url": f"mqtt://{device_id}:{quote(password, safe='')}@{host}:{port}"},
            "buttons": {"enabled": False},
            "screen": {"enabled": False},
        },
        source=f"simulated unit {device_id}",
    )


def bundle_settings(bundle: bytes, device_id: str) -> DeviceSettings:
    """The device.toml of a device's bundle (POST /api/v1/devices/{id}/bundle), read by the
    unit's own loader: a simulated unit logs in exactly as the bundle tells a real one."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            text = archive.read("device.toml").decode()
    except (zipfile.BadZipFile, KeyError) as exc:
        raise HailongError(f"the bundle of {device_id} has no device.toml ({exc})") from None
    return DeviceSettings.from_mapping(tomllib.loads(text), source=f"{device_id}'s device.toml")


def load_passwords(path: Path) -> dict[str, str]:
    """Simulated devices' MQTT passwords by device id ({} when none were saved yet).

    Each bundle sets a new password, so a simulated fleet keeps the last to resume with.
    """
    try:
        return {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, AttributeError) as exc:
        raise HailongError(f"{path} cannot be read ({exc}); restore it or remove it") from None


def save_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(passwords, indent=1))
    tmp.chmod(0o600)
    os.replace(tmp, path)
