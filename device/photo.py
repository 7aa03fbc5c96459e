"""The serving officer's photo: fetched in the background, kept on disk so it shows offline.

The Config names a photo by URL. The first time a URL is asked for, the cached file (if any) is
shown at once and a background thread fetches the URL again (a timeout, a size limit, only
images kept); a failed fetch is retried after a while and, meanwhile, the screen shows the
cached photo or the officer's initials. Nothing here blocks the screen or a press.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 10.0
RETRY_S = 300.0
KEEP = 20  # photos kept on disk, newest first: a counter's officers take turns

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"BM", ".bmp"),
)


def image_suffix(data: bytes) -> str | None:
    """The file suffix of a PNG, JPEG, GIF, BMP or WebP image, or None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    for magic, suffix in _MAGIC:
        if data.startswith(magic):
            return suffix
    return None


class PhotoCache:
    """Officer photos by URL under `folder`; `get` never waits for the network."""

    def __init__(
        self,
        folder: Path,
        *,
        max_bytes: int = MAX_BYTES,
        timeout_s: float = TIMEOUT_S,
        retry_s: float = RETRY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._known: dict[str, Path | None] = {}  # url -> cached file, once looked up
        self._tried: dict[str, float] = {}  # url -> when the last fetch started
        self._failed: set[str] = set()
        self._fetching: set[str] = set()

    def get(self, url: str) -> Path | None:
        """The cached photo of `url` (None while there is none) and, when due, a fetch."""
        with self._lock:
            if url not in self._known:
                self._known[url] = self._on_disk(url)
            now = self._monotonic()
            due = url not in self._tried or (
                url in self._failed and now - self._tried[url] >= self.retry_s
            )
            if due and url not in self._fetching:
                self._tried[url] = now
                self._fetching.add(url)
                threading.Thread(
                    target=self._fetch, args=(url,), name="officer-photo", daemon=True
                ).start()
            return self._known[url]

    def fetching(self) -> bool:
        with self._lock:
            return bool(self._fetching)

    def _key(self, url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def _on_disk(self, url: str) -> Path | None:
        found = sorted(self.folder.glob(f"{self._key(url)}.*"))
        return next((p for p in found if p.suffix != ".tmp"), None)

    def _fetch(self, url: str) -> None:
        try:
            path = self._download(url)
        except Exception as exc:  # any failure leaves the cached photo or the initials
            with self._lock:
                cached = self._known.get(url) is not None
            log.log(
                logging.INFO if cached else logging.WARNING,
                "officer photo %s not fetched (%s); %s; trying again in %.0f s",
                url,
                exc,
                "showing the cached copy" if cached else "showing the initials",
                self.retry_s,
            )
            with self._lock:
                self._failed.add(url)
                self._fetching.discard(url)
            return
        log.info("officer photo %s cached as %s", url, path.name)
        with self._lock:
            self._known[url] = path
            self._failed.discard(url)
            self._fetching.discard(url)

    def _download(self, url: str) -> Path:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("only http and https photo URLs are fetched")
        with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                raise ValueError(f"{length} bytes is over the {self.max_bytes} byte limit")
            data = response.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ValueError(f"over the {self.max_bytes} byte limit")
        suffix = image_suffix(data)
        if suffix is None:
            raise ValueError("not a PNG, JPEG, GIF, BMP or WebP image")
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self._key(url)
        path = self.folder / f"{key}{suffix}"
        tmp = self.folder / f"{key}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        for old in self.folder.glob(f"{key}.*"):
            if old != path:
                old.unlink(missing_ok=True)
        self._prune()
        return path

    def _prune(self) -> None:
        photos = sorted(
            (p for p in self.folder.iterdir() if p.suffix != ".tmp"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in photos[KEEP:]:
            old.unlink(missing_ok=True)
