"""The current ticket's QR code: a Service's `rating_url` is shown on the thank-you and idle
pages while that ticket is current, and the modules drawn are those of the link's QR code,
large enough to scan; read back from the rendered screen, module by module."""

from __future__ import annotations

from dataclasses import replace

import pygame
import pytest
import segno

from device.clock import ManualClock
from device.drawing import Fonts
from device.layout import idle_qr_rect, level_rects, score_at, thanks_qr_rect
from device.pages import render
from device.qr import QrGeometry, draw_qr_panel
from device.unit import QR_S, Unit
from device.view import View
from hailong.protocol import Service

URL = "https://hailong.saigon.gov.vn/r/q7Xk2mP9vR4tLw8nB3yZ5A"
SIZES = [(800, 480), (1024, 600)]


def read_back(surface: pygame.Surface, geometry: QrGeometry, modules: int) -> list[list[bool]]:
    """Dark or light at the centre of every module, as a camera would see the screen."""
    return [
        [surface.get_at(geometry.module_rect(r, c).center)[:3] == (0, 0, 0) for c in range(modules)]
        for r in range(modules)
    ]


def geometry_of(view: View, size: tuple[int, int]) -> QrGeometry:
    """Where the page put the code: the same panel drawn alone on a spare surface."""
    idle = view.page == "idle"
    rect = idle_qr_rect(size) if idle else thanks_qr_rect(size)
    assert view.qr_url is not None
    return draw_qr_panel(pygame.Surface(size), rect, view.qr_url, Fonts(), side=idle)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("page", ["thanks", "idle"])
def test_the_drawn_code_is_the_links_and_large_enough(page: str, size: tuple[int, int]) -> None:
    view = View(page=page, chosen=4 if page == "thanks" else None, qr_url=URL)  # type: ignore[arg-type]
    view = replace(view, officer_name="Nguyễn Thị Hồng Nhung", counter_id="Q03")
    surface = pygame.Surface(size)
    render(surface, view, Fonts())
    geometry = geometry_of(view, size)
    expected = [[bool(cell) for cell in row] for row in segno.make_qr(URL, error="l").matrix]
    assert read_back(surface, geometry, len(expected)) == expected
    # The quiet zone around it is white.
    square = geometry.square
    for x, y in ((square.left + 1, square.top + 1), (square.right - 2, square.bottom - 2)):
        assert surface.get_at((x, y))[:3] == (255, 255, 255)
    # On a 7-inch 800x480 panel a pixel is 0.19 mm: at least 4 px a module is a code of
    # 3 cm and more, read from 40 cm; the thank-you page's is larger still.
    assert geometry.module * 800 / size[0] >= (4 if page == "idle" else 6)


def test_the_levels_stay_where_they_are_beside_the_code() -> None:
    size = SIZES[0]
    panel = idle_qr_rect(size)
    assert all(not panel.colliderect(rect) for rect in level_rects(size, 4))
    assert score_at(level_rects(size, 4)[3].center, size, "vn4") == 4


@pytest.fixture
def unit(offline_unit: Unit) -> Unit:
    return offline_unit


def service(ticket: str, rating_url: str | None) -> Service:
    return Service(ticket=ticket, officer_id="off-1", open_s=60, rating_url=rating_url)


def test_a_services_link_shows_while_its_ticket_is_current(unit: Unit, clock: ManualClock) -> None:
    assert unit.view().qr_url is None
    unit.open_service(service("A-0153", URL))
    assert (unit.view().page, unit.view().qr_url) == ("idle", URL)
    rating = unit.press(4)
    assert rating is not None and rating.ticket == "A-0153"
    assert (unit.view().page, unit.view().qr_url) == ("thanks", URL)
    clock.advance(unit.settings.screen.thanks_s)
    assert (unit.view().page, unit.view().qr_url) == ("idle", URL)
    clock.advance(QR_S)
    assert unit.view().qr_url is None  # a few minutes on, it is no longer anyone's


def test_the_next_service_replaces_the_code(unit: Unit) -> None:
    unit.open_service(service("A-0153", URL))
    unit.open_service(service("A-0154", URL + "x"))
    assert unit.view().qr_url == URL + "x"
    unit.open_service(service("A-0155", None))  # a queue system that sends no link
    assert unit.view().qr_url is None
