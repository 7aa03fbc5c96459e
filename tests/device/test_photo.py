"""The officer's photo: fetched from a local web server in the background, size-limited, kept
on disk so it shows offline; anything wrong leaves the initials."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pygame
import pytest

from device.clock import ManualClock
from device.photo import PhotoCache, image_suffix
from device.settings import DeviceSettings
from device.unit import Unit
from hailong.mqtt import MqttTarget
from hailong.protocol import Config, OfficerCard
from tests.device.conftest import wait_until

NOWHERE = MqttTarget("127.0.0.1", 9, "unit-1", "pw")


def png_bytes(tmp_path: Path) -> bytes:
    image = pygame.Surface((40, 60))
    image.fill((180, 140, 90))
    path = tmp_path / "source.png"
    pygame.image.save(image, str(path))
    return path.read_bytes()


class PhotoServer:
    """http.server on a free loopback port, serving `files` by path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.no_length: set[str] = set()  # sent without Content-Length
        self.hits: list[str] = []
        files, no_length, hits = self.files, self.no_length, self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if self.path not in no_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web() -> Iterator[PhotoServer]:
    server = PhotoServer()
    yield server
    server.close()


def test_the_photo_is_fetched_cached_and_shown_offline(
    web: PhotoServer,
    tmp_path: Path,
    make_settings: Callable[..., DeviceSettings],
    clock: ManualClock,
) -> None:
    web.files["/officers/cb-017.png"] = png_bytes(tmp_path)
    officer = OfficerCard(
        id="cb-017", name="Nguyễn Thị Hồng Nhung", photo_url=web.url("/officers/cb-017.png")
    )
    settings = make_settings(NOWHERE, screen={"enabled": True})
    unit = Unit(settings, clock)
    try:
        unit.apply_config(Config(device_id="unit-1", officer=officer))
        assert wait_until(lambda: unit.view().officer_photo is not None)
        photo = unit.view().officer_photo
        assert photo is not None and photo.parent == settings.device.data_dir / "photos"
        assert photo.suffix == ".png" and photo.read_bytes() == web.files["/officers/cb-017.png"]
    finally:
        unit.outbox.close()

    web.close()  # the network is gone: the cached photo still shows, at once
    again = Unit(settings, clock)
    try:
        assert again.view().officer_photo == photo
    finally:
        again.outbox.close()


def test_no_photo_url_or_no_screen_means_the_initials(
    web: PhotoServer, make_settings: Callable[..., DeviceSettings], clock: ManualClock
) -> None:
    officer = OfficerCard(id="cb-017", name="Nguyễn Thị Hồng Nhung", photo_url=web.url("/x.png"))
    for screen, card in [(True, officer.model_copy(update={"photo_url": None})), (False, officer)]:
        unit = Unit(make_settings(NOWHERE, screen={"enabled": screen}), clock)
        unit.apply_config(Config(device_id="unit-1", officer=card))
        assert unit.view().officer_photo is None
        unit.outbox.close()
    assert web.hits == []  # nothing fetched


@pytest.mark.parametrize(
    ("path", "body", "chunked"),
    [
        ("/missing.png", None, False),
        ("/page.html", b"<html>not a photo</html>", False),
        ("/huge.png", b"\x89PNG\r\n\x1a\n" + bytes(3000), False),
        ("/huge-chunked.png", b"\x89PNG\r\n\x1a\n" + bytes(3000), True),
    ],
)
def test_a_bad_photo_is_not_kept(
    web: PhotoServer, tmp_path: Path, path: str, body: bytes | None, chunked: bool
) -> None:
    if body is not None:
        web.files[path] = body
    if chunked:
        web.no_length.add(path)
    cache = PhotoCache(tmp_path / "photos", max_bytes=2048)
    assert cache.get(web.url(path)) is None
    assert wait_until(lambda: not cache.fetching())
    assert cache.get(web.url(path)) is None
    assert list((tmp_path / "photos").glob("*")) == []
    assert web.hits == [path]  # one try, not one per frame


def test_only_web_addresses_are_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes(tmp_path))
    cache = PhotoCache(tmp_path / "photos")
    assert cache.get(secret.as_uri()) is None
    assert wait_until(lambda: not cache.fetching())
    assert cache.get(secret.as_uri()) is None


def test_a_failed_fetch_is_tried_again_later(web: PhotoServer, tmp_path: Path) -> None:
    now = [0.0]
    cache = PhotoCache(tmp_path / "photos", retry_s=60, monotonic=lambda: now[0])
    url = web.url("/late.png")
    assert cache.get(url) is None
    assert wait_until(lambda: not cache.fetching())
    web.files["/late.png"] = png_bytes(tmp_path)
    now[0] = 30
    assert cache.get(url) is None and not cache.fetching()  # too soon to try again
    now[0] = 61
    cache.get(url)
    assert wait_until(lambda: cache.get(url) is not None)
    assert web.hits == ["/late.png", "/late.png"]


def test_image_types_are_recognised_by_their_first_bytes() -> None:
    assert image_suffix(b"\xff\xd8\xff\xe0....") == ".jpg"
    assert image_suffix(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ".webp"
    assert image_suffix(b"GIF89a...") == ".gif"
    assert image_suffix(b"<!doctype html>") is None
