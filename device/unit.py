"""The counter unit: where a press becomes a Rating.

Buttons, the touch screen and the simulator all call `Unit.press`. The rating is written to the
outbox before anything else (before it is sent, before the thank-you page), so a power cut right
after a press loses nothing. Config from the server says who is serving, on which scale and how
long to ignore presses after a rating; until the first Config arrives a rating is still taken,
with no officer.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from device.clock import Clock
from device.link import Link
from device.outbox import Outbox
from device.settings import DeviceSettings
from device.view import View
from hailong.protocol import (
    DEFAULT_SCALE,
    SCALES,
    Config,
    ContractError,
    Rating,
    Service,
    Status,
    decode_config,
)

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_S = 3.0  # the contract's Config default, used until the first Config arrives
InputKind = Literal["button", "touch", "keyboard"]


def firmware_version() -> str:
    try:
        return version("hailong")
    except PackageNotFoundError:
        return "0+unknown"


def rfc3339(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


class Unit:
    """One counter unit: its outbox, its link to the broker and the Config it was sent."""

    def __init__(self, settings: DeviceSettings, clock: Clock) -> None:
        self.settings = settings
        self.device_id = settings.device.id
        self.clock = clock
        self.firmware = firmware_version()
        self.outbox = Outbox(settings.outbox_path, self.device_id)
        self.link = Link(
            self.device_id,
            settings.mqtt.target,
            self.outbox,
            self,
            resend_s=settings.mqtt.resend_s,
            status_s=settings.mqtt.status_s,
            warn_backlog=settings.outbox.warn_backlog,
        )
        self._lock = threading.Lock()
        self._config = self._cached_config()
        self._service: Service | None = None
        self._service_until = 0.0
        self._last_rating_at: float | None = None  # monotonic
        self._last_score: int | None = None
        self._ignored = 0
        self._started_at = clock.monotonic()

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        """Say goodbye to the broker (offline Status) and close the outbox; safe to repeat."""
        self.link.stop()
        self.outbox.close()

    @property
    def config(self) -> Config | None:
        return self._config

    @property
    def ignored_presses(self) -> int:
        return self._ignored

    def press(
        self,
        score: int,
        input: InputKind = "button",
        reasons: Sequence[str] = (),
        *,
        live: bool = True,
    ) -> Rating | None:
        """Take a rating, or return None when the press is ignored (the log says why).

        `live=False` is for history made up by the simulator: the guards against a citizen's
        double press and against rating outside a transaction (cooldown, require_service) are
        for real counters, not for a caller who picks the moments itself.
        """
        with self._lock:
            now = self.clock.monotonic()
            config = self._config
            cooldown = config.cooldown_s if config else DEFAULT_COOLDOWN_S
            if live and self._last_rating_at is not None and now - self._last_rating_at < cooldown:
                self._ignored += 1
                log.info("press %d ignored: inside the %.1f s cooldown", score, cooldown)
                return None
            service = self._service if now < self._service_until else None
            if live and config and config.require_service and service is None:
                log.info("press %d ignored: no transaction is open (require_service)", score)
                return None
            scale = config.scale if config else DEFAULT_SCALE
            if not 1 <= score <= SCALES[scale].size:
                log.warning("press %d ignored: not a level of the %s scale", score, scale)
                return None
            officer_id = service.officer_id if service else None
            if officer_id is None and config and config.officer:
                officer_id = config.officer.id

            def make(seq: int) -> Rating:
                return Rating.model_validate(
                    {
                        "id": str(uuid.uuid4()),
                        "device_id": self.device_id,
                        "seq": seq,
                        "pressed_at": rfc3339(self.clock.now()),
                        "score": score,
                        "scale": scale,
                        "officer_id": officer_id,
                        "counter_id": config.counter_id if config else None,
                        "ticket": service.ticket if service else None,
                        "reasons": list(reasons),
                        "input": input,
                        "clock_synced": self.clock.synced(),
                    }
                )

            rating = self.outbox.add(make)
            self._last_rating_at = now
            self._last_score = score
            self._service = None
        log.info("rating %s: seq %d, score %d (%s)", rating.id, rating.seq, score, input)
        self.link.kick()
        return rating

    def apply_config(self, config: Config) -> None:
        """A retained Config from the server; it applies to the next press and the screen."""
        if config.device_id != self.device_id:
            log.error("ignored a Config for %r: this unit is %r", config.device_id, self.device_id)
            return
        with self._lock:
            changed = config != self._config
            self._config = config
        if changed:
            officer = config.officer
            log.info(
                "Config: counter %s, officer %s, scale %s, cooldown %.1f s",
                config.counter_id,
                f"{officer.name} ({officer.id})" if officer else "none",
                config.scale,
                config.cooldown_s,
            )
            self._cache_config(config)

    def open_service(self, service: Service) -> None:
        """A served transaction: the next rating carries its ticket and officer."""
        with self._lock:
            self._service = service
            self._service_until = self.clock.monotonic() + service.open_s
        log.info("transaction %s open for %d s", service.ticket, service.open_s)

    def status(self, state: Literal["online", "offline"]) -> Status:
        return Status.model_validate(
            {
                "state": state,
                "firmware": self.firmware,
                "outbox": self.outbox.count(),
                "uptime_s": int(self.clock.monotonic() - self._started_at),
                "at": rfc3339(self.clock.now()),
                "ignored_presses": self._ignored,
                "clock_synced": self.clock.synced(),
            }
        )

    def view(self) -> View:
        """What the screen should show now."""
        with self._lock:
            config, last, score = self._config, self._last_rating_at, self._last_score
            now = self.clock.monotonic()
            service_open = self._service is not None and now < self._service_until
        thanks = last is not None and now - last < self.settings.screen.thanks_s
        officer = config.officer if config else None
        return View(
            page="thanks" if thanks else "idle",
            unit_name=config.unit_name if config else "",
            counter_id=config.counter_id if config else None,
            officer_name=officer.name if officer else None,
            officer_title=officer.title if officer else None,
            scale=config.scale if config else DEFAULT_SCALE,
            language=self.settings.screen.language,
            chosen=score if thanks else None,
            device_id=self.device_id,
            online=self.link.connected,
            waiting_for_service=bool(config and config.require_service and not service_open),
        )

    def _cached_config(self) -> Config | None:
        """The last Config heard, so a unit that starts offline still shows its officer."""
        path = self.settings.config_cache_path
        try:
            config = decode_config(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ContractError) as exc:
            log.warning("ignored the cached Config %s: %s", path, exc)
            return None
        return config if config.device_id == self.device_id else None

    def _cache_config(self, config: Config) -> None:
        path = self.settings.config_cache_path
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(config.to_payload())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not cache the Config in %s: %s", path, exc)
