"""The counter unit's one settings object, read from device.toml.

A unit sits unattended at a counter, so a wrong file must stop it at start with a message that
names the option and says what to do, not fail later on the first press. Every option is declared
once here with its help text; firmware-config/examples/device.toml documents the same set, and a
test keeps the two in step.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hailong.errors import ConfigError
from hailong.mqtt import MqttTarget, tls_context
from hailong.protocol import ID_RE

EXAMPLE = "firmware-config/examples/device.toml"
OUTBOX_FILE = "outbox.sqlite3"
CONFIG_FILE = "config.json"


class _Section(BaseModel):
    """Unknown keys are refused: a misspelt option would otherwise be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSection(_Section):
    id: str = Field(description="The device id the server registered; also its MQTT username.")
    data_dir: Path = Field(
        Path("device-data"),
        validate_default=True,
        description="Folder of the durable outbox and the last Config; must survive reboots.",
    )
    trust_clock: bool = Field(
        False,
        description="Report the clock as synchronised even when the kernel says it is not "
        "(a unit with a battery-backed RTC and no NTP).",
    )

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not ID_RE.match(value):
            raise ValueError("must be 1 to 64 characters of A-Z a-z 0-9 . _ - (no / + #)")
        return value

    @field_validator("data_dir")
    @classmethod
    def _relative_to_file(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir")
        value = value.expanduser()
        return value if value.is_absolute() or base is None else Path(base) / value


class MqttSection(_Section):
    url: str = Field(description="mqtt://<device id>:<password>@<broker>:1883 or mqtts://…:8883.")
    resend_s: float = Field(
        30.0,
        gt=0,
        description="Resend a rating the server has not acknowledged after this long "
        "(doubling per attempt, at most 20 times this).",
    )
    status_s: float = Field(60.0, gt=0, description="Publish the retained Status this often.")
    ca: str = Field(
        "",
        description="With mqtts://: the CA certificate (PEM) the broker's certificate must "
        "chain to, its host name checked against the url; empty: the system's trusted CAs.",
    )

    @field_validator("url")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            MqttTarget.from_url(value)
        except ConfigError as exc:
            raise ValueError(str(exc).replace(value, "<url>")) from None
        return value

    @field_validator("ca")
    @classmethod
    def _is_a_certificate(cls, value: str) -> str:
        if value.strip():
            if "-----BEGIN CERTIFICATE-----" not in value:
                raise ValueError("must be a PEM certificate (-----BEGIN CERTIFICATE----- …)")
            try:
                tls_context(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _ca_needs_tls(self) -> MqttSection:
        if self.ca.strip() and not MqttTarget.from_url(self.url).tls:
            raise ValueError("ca is given but url is not mqtts://: the CA is only used over TLS")
        return self

    @property
    def target(self) -> MqttTarget:
        target = MqttTarget.from_url(self.url)
        return dataclasses.replace(target, ca_pem=self.ca) if self.ca.strip() else target


def _pin_factories() -> set[str]:
    return {ep.name for ep in entry_points(group="gpiozero_pin_factories")}


class ButtonsSection(_Section):
    enabled: bool = Field(True, description="Read the physical buttons.")
    pins: list[int] = Field(
        [17, 27, 22, 23],
        min_length=3,
        max_length=4,
        description="BCM pin numbers from score 1 (worst) to the best score of the scale. On the "
        "reasons page, pages of N-1 reasons: buttons 1 to N-1 toggle the reasons above them and "
        "the last shows the next page, or on the last page sends.",
    )
    pin_factory: str | None = Field(
        None,
        description='gpiozero pin factory ("lgpio" on a Pi 5, "mock" without GPIO) for the '
        "buttons, LEDs, buzzer and officer button; unset means GPIOZERO_PIN_FACTORY or "
        "gpiozero's default.",
    )
    debounce_ms: int = Field(
        50, ge=0, le=2000, description="Presses closer together on one button are one press."
    )

    @field_validator("pins")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value) or not all(0 <= pin <= 27 for pin in value):
            raise ValueError("must be different BCM pin numbers between 0 and 27")
        return value

    @field_validator("pin_factory")
    @classmethod
    def _known_factory(cls, value: str | None) -> str | None:
        known = _pin_factories()
        if value is not None and value not in known:
            raise ValueError(f"{value!r} is not an installed gpiozero pin factory {sorted(known)}")
        return value


class ScreenSection(_Section):
    enabled: bool = Field(True, description="Show the citizen-facing screen (pygame).")
    width: int = Field(800, ge=320, le=3840, description="Window or display width in pixels.")
    height: int = Field(480, ge=240, le=2160, description="Window or display height in pixels.")
    fullscreen: bool = Field(False, description="Fill the display and hide the mouse pointer.")
    language: Literal["vi", "en"] = Field("vi", description="The language shown first.")
    language_reset_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="A citizen's English / Tiếng Việt choice lasts until this long without a "
        "touch or press; then the screen is back in `language`.",
    )
    reasons_s: float = Field(
        15.0,
        gt=0,
        le=300,
        description="After a low score the reasons page waits this long after the last touch, "
        "then sends what is selected.",
    )
    thanks_s: float = Field(
        3.0, gt=0, le=60, description="How long the thank-you screen stays before idle."
    )


class _Pin(_Section):
    """One optional GPIO device; off unless enabled, so a unit without it needs no wiring."""

    enabled: bool = Field(False, description="Whether it is fitted.")

    @field_validator("pin", "accepted_pin", "attention_pin", check_fields=False)
    @classmethod
    def _bcm(cls, value: int) -> int:
        if not 0 <= value <= 27:
            raise ValueError("must be a BCM pin number between 0 and 27")
        return value

    def pins(self) -> dict[str, int]:
        """The pins in use, by option name (none when not enabled)."""
        if not self.enabled:
            return {}
        return {name: value for name, value in self.model_dump().items() if name.endswith("pin")}


class LedsSection(_Pin):
    accepted_pin: int = Field(
        5, description="BCM pin of the LED that blinks when a rating is stored."
    )
    attention_pin: int = Field(
        6,
        description="BCM pin of the LED that is on while the unit is offline or more than "
        "[outbox] warn_backlog ratings wait for the server.",
    )
    blink_s: float = Field(0.5, gt=0, le=5, description="How long the accepted LED lights.")


class BuzzerSection(_Pin):
    pin: int = Field(12, description="BCM pin of the buzzer that beeps when a press is taken.")
    beep_ms: int = Field(80, ge=10, le=1000, description="Length of the beep.")


class OfficerButtonSection(_Pin):
    pin: int = Field(
        16, description="BCM pin of the officer's Hoàn thành (done) button, wired to ground."
    )
    open_s: int = Field(
        60,
        ge=1,
        le=3600,
        description="With require_service, one press of it lets the citizen give one rating "
        "within this many seconds (like a Service without a ticket).",
    )


class CardReaderSection(_Section):
    enabled: bool = Field(
        False, description="Read officers' cards from a USB reader that types like a keyboard."
    )
    path: str = Field(
        "",
        description="Its input device, e.g. /dev/input/by-id/usb-…-event-kbd (stable across "
        "reboots); empty to find it by `name`.",
    )
    name: str = Field(
        "", description="Part of its name as the kernel gives it (see `python -m evdev.evtest`)."
    )

    @model_validator(mode="after")
    def _says_which_device(self) -> CardReaderSection:
        if self.enabled and not (self.path or self.name):
            raise ValueError(
                "[card_reader] is enabled but names no device: set path (a /dev/input file) "
                "or name (part of the reader's name)"
            )
        return self


class AudioSection(_Section):
    enabled: bool = Field(False, description="Speak the prompts (Vietnamese clips, pygame.mixer).")
    volume: float = Field(0.8, ge=0, le=1, description="Loudness from 0 (silent) to 1.")


class OutboxSection(_Section):
    warn_backlog: int = Field(
        500, ge=1, description="Log a warning when more ratings than this wait for an Ack."
    )


class DeviceSettings(_Section):
    """Everything a counter unit needs to run; build it with `load` or `from_mapping`."""

    device: DeviceSection
    mqtt: MqttSection
    buttons: ButtonsSection = ButtonsSection()
    screen: ScreenSection = ScreenSection()
    outbox: OutboxSection = OutboxSection()
    leds: LedsSection = LedsSection()
    buzzer: BuzzerSection = BuzzerSection()
    officer_button: OfficerButtonSection = OfficerButtonSection()
    card_reader: CardReaderSection = CardReaderSection()
    audio: AudioSection = AudioSection()

    @model_validator(mode="after")
    def _one_use_per_pin(self) -> DeviceSettings:
        used: dict[int, str] = {}
        if self.buttons.enabled:
            used = {pin: "[buttons] pins" for pin in self.buttons.pins}
        for name in ("leds", "buzzer", "officer_button"):
            section: _Pin = getattr(self, name)
            for option, pin in section.pins().items():
                if pin in used:
                    raise ValueError(
                        f"[{name}] {option} = {pin} is also used by {used[pin]}; "
                        "give each device its own pin"
                    )
                used[pin] = f"[{name}] {option}"
        return self

    @model_validator(mode="after")
    def _login_is_the_device(self) -> DeviceSettings:
        user = self.mqtt.target.username
        if user is not None and user != self.device.id:
            raise ValueError(
                f"[mqtt] url logs in as {user!r} but [device] id is {self.device.id!r}; "
                "the broker lets a device write only under its own id, so make them the same"
            )
        return self

    @property
    def outbox_path(self) -> Path:
        return self.device.data_dir / OUTBOX_FILE

    @property
    def config_cache_path(self) -> Path:
        return self.device.data_dir / CONFIG_FILE

    @classmethod
    def load(cls, path: Path | str) -> DeviceSettings:
        """Read device.toml; relative paths in it are taken from the file's folder."""
        path = Path(path)
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: no such settings file; copy {EXAMPLE} there and edit it"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"{path}: cannot be read ({exc.strerror}); check its permissions"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path}: is not valid TOML ({exc}); compare it with {EXAMPLE}"
            ) from None
        return cls.from_mapping(data, base_dir=path.resolve().parent, source=str(path))

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], base_dir: Path | None = None, source: str = "settings"
    ) -> DeviceSettings:
        """Validate parsed settings; the simulator builds units this way without a file.

        Relative paths are taken from `base_dir`, or from the working folder when it is None.
        """
        try:
            return cls.model_validate(dict(data), context={"base_dir": base_dir})
        except ValidationError as exc:
            raise ConfigError(_explain(exc, source)) from None


def _explain(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        where = f"[{loc[0]}] {'.'.join(loc[1:])}".strip() if loc else ""
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            line = f"{where} is missing; add it (see the documented example)"
        elif err["type"] == "extra_forbidden":
            line = (
                f"{where} is not a known option; check its spelling against the documented example"
            )
        elif not loc:
            line = message
        elif loc[-1] == "url":
            line = f"{where}: {message}"  # never echo the URL: it holds the password
        else:
            line = f"{where}: {message} (got {err.get('input')!r}); fix it"
        lines.append(f"{source}: {line}")
    return "\n".join(lines) + f"\nThe documented example is {EXAMPLE}."
