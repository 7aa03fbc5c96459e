"""The counters page's card for printing each unit's counter QR cards: a plain link per unit to
the API's PDF (`GET /api/v1/units/{unit_id}/qr-cards.pdf`), which the login cookie opens, so an
admin and a unit head download the same sheet the API gives, audited there."""

from __future__ import annotations

from urllib.parse import quote

from dash import html

from dashboard import registry_view, sources
from dashboard.components import bilingual, card
from dashboard.report_view import API
from server.access.roles import PRINT_QR_CARDS, Access
from server.channels.cards import filename

LINKS = "qr-card-links"


def href(unit_id: str) -> str:
    return f"{API}/units/{quote(unit_id, safe='')}/qr-cards.pdf"


def cards_card(access: Access) -> list[html.Section]:
    """The card, for those who may print; nothing for anyone else."""
    if access.role not in PRINT_QR_CARDS:
        return []
    with sources.current().session_factory() as session:
        units = registry_view.unit_options(session, access)
    links = [
        html.A(
            bilingual(f"Tải thẻ QR: {unit['label']}", f"QR cards: {unit['label']}"),
            href=href(str(unit["value"])),
            download=filename(str(unit["value"])),
            className="button",
        )
        for unit in units
    ]
    return [
        card(
            "Thẻ QR đánh giá tại quầy",
            "Counter QR rating cards",
            html.P(
                bilingual(
                    "Mỗi quầy một thẻ, 8 thẻ một trang A4: in, cắt và đặt tại quầy để người "
                    "dân quét mã đánh giá bằng điện thoại.",
                    "One card per counter, 8 to an A4 page: print, cut and stand them on the "
                    "counters for citizens to rate with their phones.",
                ),
                className="form-hint",
            ),
            html.Div(links, id=LINKS, className="links"),
        )
    ]
