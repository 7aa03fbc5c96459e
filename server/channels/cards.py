"""The printed QR cards of a unit's counters: an A4 sheet, eight cards a page, each with the
counter's own rating link (`links.card_invite`) as a QR code and as text, to cut out and stand
on the counter for a citizen who rates with their phone.

The sheet is laid out by WeasyPrint as the printed month is (`reporting.monthly_pdf`): one
self-contained HTML page, the QR codes inline as SVG data, nothing fetched from anywhere.
Printing again gives the same links; a card stolen or misused is revoked and printed anew.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

import segno
from sqlmodel import Session, col, select

from hailong.errors import RegistryError, UnknownId
from server.channels.links import card_invite, rating_url
from server.reporting.monthly_pdf import pdf_bytes
from server.storage.models import Counter, Unit

QR_ERROR = "m"  # survives a scuffed or folded card

STYLE = """
@page { size: A4; margin: 10mm; }
body { margin: 0; font-family: "DejaVu Sans", "Liberation Sans", sans-serif; color: #111; }
table { border-collapse: collapse; width: 190mm; table-layout: fixed; }
tr { page-break-inside: avoid; }
td { width: 85mm; height: 62mm; padding: 3mm 5mm; border: 0.3mm dashed #888;
  text-align: center; vertical-align: middle; }
.unit { font-size: 8.5pt; margin: 0; color: #333; }
.counter { font-size: 14pt; font-weight: bold; margin: 1mm 0; color: #0b5394; }
.qr { width: 35mm; height: 35mm; }
.call { font-size: 11pt; font-weight: bold; margin: 1mm 0 0; }
.call span { font-weight: normal; color: #444; }
.url { font-family: "DejaVu Sans Mono", monospace; font-size: 6.5pt; margin: 1mm 0 0;
  word-break: break-all; color: #333; }
"""


@dataclass(frozen=True)
class Card:
    unit_name: str
    counter_name: str
    url: str


def unit_cards(session: Session, unit_id: str, base: str, now: datetime) -> list[Card]:
    """One card per counter of the unit, by counter id; the links are made on first printing,
    and the caller commits them."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnknownId(f"no unit {unit_id!r}")
    counters = session.exec(
        select(Counter).where(Counter.unit_id == unit_id).order_by(col(Counter.id))
    ).all()
    if not counters:
        raise RegistryError(
            f"đơn vị {unit_id!r} chưa có quầy nào: thêm quầy trước khi in thẻ QR · "
            f"unit {unit_id!r} has no counters: add them before printing QR cards"
        )
    cards = []
    for counter in counters:
        invite = card_invite(session, counter.id, unit_id, now)
        cards.append(Card(unit.name, counter.name, rating_url(base, invite.token)))
    return cards


def _card_html(card: Card) -> str:
    qr = segno.make_qr(card.url, error=QR_ERROR).svg_data_uri(border=2, scale=4)
    return (
        "<td>"
        f'<p class="unit">{html.escape(card.unit_name)}</p>'
        f'<p class="counter">{html.escape(card.counter_name)}</p>'
        f'<img class="qr" src="{qr}" alt="QR">'
        '<p class="call">Quét mã để đánh giá <span>· Scan to rate</span></p>'
        f'<p class="url">{html.escape(card.url)}</p>'
        "</td>"
    )


def sheet_html(cards: list[Card]) -> str:
    """The sheet as one page of HTML: a table of two cards a row, four rows to an A4 page."""
    rows = [cards[i : i + 2] for i in range(0, len(cards), 2)]
    body = "".join("<tr>" + "".join(_card_html(card) for card in row) + "</tr>" for row in rows)
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>Thẻ QR đánh giá</title><style>{STYLE}</style></head>"
        f"<body><table>{body}</table></body></html>"
    )


def sheet_pdf(cards: list[Card]) -> bytes:
    return pdf_bytes(sheet_html(cards))


def filename(unit_id: str) -> str:
    """The download's name; a unit id is letters, digits and . _ - only."""
    return f"the-qr-danh-gia-{unit_id}.pdf"
