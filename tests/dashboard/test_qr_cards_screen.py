"""The counters page's QR card links: a link per unit the user may print for, to the API route
that makes the sheet; a unit head gets their own unit's only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dash import Dash
from sqlalchemy.engine import Engine

from dashboard import qr_cards
from dashboard.app import create_dash
from dashboard.pages import counters
from server.access.roles import Access
from server.web.api.qr_cards import qr_cards_api
from tests.dashboard.rows import factory
from tests.dashboard.test_screens_app import ADMIN, HEAD_DH, TODAY, layout_as_page, seed


@pytest.fixture
def app(engine: Engine) -> Iterator[Dash]:
    seed(engine, datetime.now(UTC))
    yield create_dash(factory(engine), today=lambda: TODAY)


def links(node: Any) -> list[dict[str, Any]]:
    """Every link under the QR cards' box, by href."""
    found: list[dict[str, Any]] = []

    def walk(item: Any, inside: bool) -> None:
        if isinstance(item, list):
            for child in item:
                walk(child, inside)
        elif isinstance(item, dict):
            props = item.get("props", {})
            here = inside or props.get("id") == qr_cards.LINKS
            if here and item.get("type") == "A":
                found.append(props)
            walk(props.get("children"), here)

    walk(node, False)
    return found


def test_an_admin_gets_a_link_per_unit_to_the_api_sheet(app: Dash) -> None:
    found = links(layout_as_page(app, ADMIN, counters.layout))
    assert [link["href"] for link in found] == [
        "/api/v1/units/DH/qr-cards.pdf",
        "/api/v1/units/XA/qr-cards.pdf",
    ]
    [route] = [r for r in qr_cards_api.routes if "qr-cards" in getattr(r, "path", "")]
    assert qr_cards.href("DH") == route.path.replace("{unit_id}", "DH")


def test_a_unit_head_gets_their_own_unit_only(app: Dash) -> None:
    assert [link["href"] for link in links(layout_as_page(app, HEAD_DH, counters.layout))] == [
        "/api/v1/units/DH/qr-cards.pdf"
    ]
    assert qr_cards.cards_card(Access("hr", "nhansu")) == []
