"""The last Config heard, kept on disk so that a unit that starts offline still shows its
officer, scale and reasons until the broker hands it the retained one again."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hailong.protocol import Config, ContractError, decode_config

log = logging.getLogger(__name__)


def load_config(path: Path, device_id: str) -> Config | None:
    """The cached Config of `device_id`; None when there is none or it cannot be used."""
    try:
        config = decode_config(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ContractError) as exc:
        log.warning("ignored the cached Config %s: %s", path, exc)
        return None
    return config if config.device_id == device_id else None


def save_config(path: Path, config: Config) -> None:
    """Replace the cache at once (a power cut leaves the old one or the new one)."""
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_bytes(config.to_payload())
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not cache the Config in %s: %s", path, exc)
